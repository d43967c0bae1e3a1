/* fuzz_dnstcp — the DNS-over-TCP splitter (src/proto/dnstcp.c): arbitrary bytes in pieces, some pieces
 * reported as gaps (p NULL), every message handed out read whole. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "../src/proto/dnstcp.h"

static void on_msg(void *ctx, const unsigned char *msg, size_t n)
{
    (void)ctx;
    fuzz_touch(msg, n);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode(&data, &size, &mode))
        return 0;
    static struct scope_dnstcp d;
    memset(&d, 0, sizeof d);
    size_t piece = (mode & 0x7f) ? (mode & 0x7f) : size;
    for (size_t off = 0, k = 0; off < size; k++) {
        size_t n = size - off < piece ? size - off : piece;
        bool gap = (mode & 0x80) && k % 4 == 3;
        scope_dnstcp_feed(&d, gap ? NULL : data + off, n, on_msg, NULL);
        off += n;
    }
    return 0;
}
