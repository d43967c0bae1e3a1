/* fuzz_h1 — the HTTP/1.x parser (src/proto/http1.c, http1body.c) over arbitrary bytes. The first input byte picks
 * the side (requests or responses), whether the callback says "no body" (as for HEAD) and the
 * piece size; the rest is fed in those pieces, with a gap now and then, so that heads, chunked
 * bodies and resynchronisation are reached across piece boundaries. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "../src/proto/http.h"

static bool on_msg(void *ctx, const struct scope_http_msg *m)
{
    /* Touch every string the parser hands out: ASan sees a read past what it points into. */
    for (int i = 0; i < m->nhdrs; i++) {
        fuzz_touch(m->hdrs[i].name.p, m->hdrs[i].name.n);
        fuzz_touch(m->hdrs[i].value.p, m->hdrs[i].value.n);
    }
    fuzz_touch(m->method.p, m->method.n);
    fuzz_touch(m->target.p, m->target.n);
    fuzz_touch(m->reason.p, m->reason.n);
    return *(const bool *)ctx;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode(&data, &size, &mode))
        return 0;
    static struct scope_h1 p;   /* 16 KB head buffer: not on the stack */
    scope_h1_init(&p, mode & 1);
    bool nobody = mode & 2;
    size_t piece = (mode >> 2) ? (mode >> 2) : size;
    (void)scope_h1_is_request(data, size);
    (void)scope_h1_is_response(data, size);
    for (size_t off = 0; off < size;) {
        size_t n = size - off < piece ? size - off : piece;
        /* every 7th piece (when bit 7 is set) reports 3 bytes more moved than copied: a gap */
        size_t total = (mode & 0x80) && (off / piece) % 7 == 6 ? n + 3 : n;
        scope_h1_feed(&p, data + off, n, total, on_msg, &nobody);
        off += n;
    }
    return 0;
}
