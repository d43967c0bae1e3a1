/* huffcheck — libscope's HPACK Huffman decoder (src/proto/hpack.c, included here for its code
 * tables) against the plainest reading of RFC 7541's code: one bit at a time, a canonical code
 * told by its length's first code and count. Both decode the same inputs: random bytes (mostly
 * invalid: bad padding, EOS, codes cut short), strings encoded here from random symbols (short
 * codes and long ones, EOS now and then) with the padding right or wrong, and output room too
 * small; every result (the length, or -1) and every byte decoded must agree. Prints one JSON line
 * {"cases":…,"valid":…,"mismatches":…} and exits 1 on a mismatch. Used by test/parsers.test.ts.
 *
 *   huffcheck [CASES] */
#include <stdio.h>
#include <stdlib.h>

#include "../../src/proto/hpack.c"

static long reference(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    uint32_t code = 0, first = 0;
    unsigned len = 0, index = 0;
    bool ones = true;
    for (size_t i = 0; i < n; i++)
        for (int b = 7; b >= 0; b--) {
            unsigned bit = (in[i] >> b) & 1u;
            code = code << 1 | bit;
            len++;
            ones = ones && bit;
            if (code - first < huff_count[len]) {
                unsigned sym = huff_sym[index + (code - first)];
                if (sym == HUFF_EOS || o >= cap)
                    return -1;
                out[o++] = (char)sym;
                code = first = index = len = 0;
                ones = true;
            } else {
                index += huff_count[len];
                first = (first + huff_count[len]) << 1;
            }
        }
    return len > 7 || !ones ? -1 : (long)o;
}

static uint64_t rng = 88172645463325252ULL;
static unsigned next(unsigned m)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % m);
}

int main(int argc, char **argv)
{
    long cases = argc > 1 ? atol(argv[1]) : 1000000;
    uint32_t code[257];
    unsigned clen[257];
    uint32_t first = 0;
    unsigned index = 0;
    for (unsigned l = 1; l <= 30; l++) {
        for (unsigned k = 0; k < huff_count[l]; k++) {
            code[huff_sym[index + k]] = first + k;
            clen[huff_sym[index + k]] = l;
        }
        index += huff_count[l];
        first = (first + huff_count[l]) << 1;
    }
    static const char common[] = "abcdefghijklmnopqrstuvwxyz0123456789/.-_:=?&%, ";
    long valid = 0, bad = 0;
    for (long t = 0; t < cases; t++) {
        unsigned char in[96];
        size_t n = 0;
        if (t % 2) {
            n = next(40);
            for (size_t i = 0; i < n; i++)
                in[i] = (unsigned char)next(256);
        } else {
            uint64_t acc = 0;
            unsigned have = 0, syms = next(24);
            for (unsigned k = 0; k < syms && n < 80; k++) {
                unsigned s = next(200) == 0 ? HUFF_EOS
                             : next(4) ? (unsigned char)common[next(sizeof common - 1)]
                                       : next(256);
                for (unsigned b = clen[s]; b-- > 0;) {
                    acc = acc << 1 | ((code[s] >> b) & 1u);
                    if (++have == 8) {
                        in[n++] = (unsigned char)acc;
                        acc = have = 0;
                    }
                }
            }
            if (have) {
                unsigned pad = 8 - have;
                unsigned bits = next(10) ? (1u << pad) - 1 : next(1u << pad);
                in[n++] = (unsigned char)(acc << pad | bits);
            }
            if (next(10) == 0)
                in[n++] = next(2) ? 0xff : (unsigned char)next(256);
        }
        size_t cap = next(5) ? 128 : next(10);
        char a[128], b[128];
        long ra = reference(in, n, a, cap), rb = scope_hpack_huffman(in, n, b, cap);
        valid += ra >= 0;
        if (ra != rb || (ra > 0 && memcmp(a, b, (size_t)ra) != 0)) {
            if (bad++ < 5) {
                fprintf(stderr, "case %ld: reference %ld, decoder %ld; input", t, ra, rb);
                for (size_t i = 0; i < n; i++)
                    fprintf(stderr, " %02x", in[i]);
                fputc('\n', stderr);
            }
        }
    }
    printf("{\"cases\":%ld,\"valid\":%ld,\"mismatches\":%ld}\n", cases, valid, bad);
    return bad ? 1 : 0;
}
