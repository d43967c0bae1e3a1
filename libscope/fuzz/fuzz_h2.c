/* fuzz_h2 — the HTTP/2 frame parser (src/h2.c) and through it HPACK (src/hpack.c) over arbitrary
 * bytes. The first byte picks the side (client: the preface is skipped when present), the piece
 * size and gaps, as in fuzz_h1.c. */
#include <stdlib.h>
#include <string.h>

#include "../src/http.h"

static bool on_msg(void *ctx, const struct scope_http_msg *m)
{
    (void)ctx;
    volatile unsigned char sink = 0;
    for (int i = 0; i < m->nhdrs; i++) {
        for (size_t k = 0; k < m->hdrs[i].name.n; k++)
            sink ^= (unsigned char)m->hdrs[i].name.p[k];
        for (size_t k = 0; k < m->hdrs[i].value.n; k++)
            sink ^= (unsigned char)m->hdrs[i].value.p[k];
    }
    for (size_t k = 0; k < m->method.n; k++)
        sink ^= (unsigned char)m->method.p[k];
    for (size_t k = 0; k < m->target.n; k++)
        sink ^= (unsigned char)m->target.p[k];
    for (size_t k = 0; k < m->authority.n; k++)
        sink ^= (unsigned char)m->authority.p[k];
    (void)sink;
    return false;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    data++;
    size--;
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
