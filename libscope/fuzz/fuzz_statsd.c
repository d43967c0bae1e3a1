/* fuzz_statsd — the StatsD line parser of the statsd watch (src/report/statsd.c) over arbitrary
 * datagrams: the first byte says whether the datagram was cut (more moved than copied) and how
 * it is split into record pieces; the relayed metrics are formatted by the stub of
 * scope_emit_relay in stubs.c. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "../src/config/config.h"
#include "../src/util/json.h"
#include "../src/scope.h"
#include "../src/report/statsd.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode(&data, &size, &mode))
        return 0;
    scope_cfg.statsd_maxlen = (mode & 0x40) ? 64 : 512;
    static struct scope_rec r;
    memset(&r, 0, sizeof r);
    r.chan = 7;
    r.wops = 1;
    struct sbuf met = {0};
    /* As the reporter gets them: pieces of at most one record's data, and no more than the
     * copy limit of one call copied in all. */
    if (size > SCOPE_COPY_HEAD)
        size = SCOPE_COPY_HEAD;
    size_t piece = (mode & 0x3f) ? (size_t)(mode & 0x3f) * 7 : SCOPE_REC_DATA;
    if (piece > SCOPE_REC_DATA)
        piece = SCOPE_REC_DATA;
    for (size_t off = 0; off < size || off == 0;) {
        size_t n = size - off < piece ? size - off : piece;
        r.aux = (off == 0 ? SCOPE_DATA_FIRST : 0) | (off + n >= size ? SCOPE_DATA_LAST : 0);
        r.rops = off;
        r.rbytes = (mode & 0x80) ? size + 5 : size;
        scope_statsd_piece(&r, data + off, n, true, &met);
        off += n;
        if (n == 0)
            break;
    }
    scope_statsd_reset();
    free(met.p);
    return 0;
}
