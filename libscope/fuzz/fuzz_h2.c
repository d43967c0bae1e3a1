/* fuzz_h2 — the HTTP/2 frame parser (src/proto/h2.c) and through it HPACK (src/proto/hpack.c) over arbitrary
 * bytes. The first byte picks the side (client: the preface is skipped when present), the piece
 * size and gaps, as in fuzz_h1.c. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "../src/proto/http.h"

static bool on_msg(void *ctx, const struct scope_http_msg *m)
{
    (void)ctx;
    for (int i = 0; i < m->nhdrs; i++) {
        fuzz_touch(m->hdrs[i].name.p, m->hdrs[i].name.n);
        fuzz_touch(m->hdrs[i].value.p, m->hdrs[i].value.n);
    }
    fuzz_touch(m->method.p, m->method.n);
    fuzz_touch(m->target.p, m->target.n);
    fuzz_touch(m->authority.p, m->authority.n);
    return false;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode(&data, &size, &mode))
        return 0;
    struct scope_h2 p;
    scope_h2_init(&p, mode & 1);
    size_t piece = (mode >> 2) & 0x1f ? (mode >> 2) & 0x1f : size;
    (void)scope_h2_is_preface(data, size);
    for (size_t off = 0; off < size;) {
        size_t n = size - off < piece ? size - off : piece;
        size_t total = (mode & 0x80) && (off / piece) % 5 == 4 ? n + 2 : n;
        scope_h2_feed(&p, data + off, n, total, on_msg, NULL);
        off += n;
    }
    scope_h2_free(&p);
    return 0;
}
