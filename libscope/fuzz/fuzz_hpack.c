/* fuzz_hpack — HPACK header blocks (src/proto/hpack.c) decoded directly, several blocks in a row on one
 * dynamic table (the input is split at each 0xff 0x00 0xff marker), and the Huffman decoder over
 * the whole input, with a small and a large output buffer. */
#include <stdlib.h>
#include <string.h>

#include "../src/proto/http.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static char out[65536];
    static char small[7];
    struct scope_hdr hdrs[SCOPE_HTTP_MAX_HDRS];
    (void)scope_hpack_huffman(data, size, out, sizeof out);
    (void)scope_hpack_huffman(data, size, small, sizeof small);
    struct scope_hpack h;
    scope_hpack_init(&h);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        bool mark = i + 3 <= size && data[i] == 0xff && data[i + 1] == 0 && data[i + 2] == 0xff;
        if (!mark && i < size)
            continue;
        int nh = scope_hpack_decode(&h, data + start, i - start, hdrs, SCOPE_HTTP_MAX_HDRS, out,
                                    sizeof out);
        volatile unsigned char sink = 0;
        for (int k = 0; k < nh; k++) {
            for (size_t j = 0; j < hdrs[k].name.n; j++)
                sink ^= (unsigned char)hdrs[k].name.p[j];
            for (size_t j = 0; j < hdrs[k].value.n; j++)
                sink ^= (unsigned char)hdrs[k].value.p[j];
        }
        (void)sink;
        if (nh < 0)
            break;   /* the table is unusable after a malformed block (hpack_decode's contract) */
        i += 2;
        start = i + 1;
    }
    scope_hpack_free(&h);
    return 0;
}
