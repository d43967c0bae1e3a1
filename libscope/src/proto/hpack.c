/* hpack.c — RFC 7541 header block decoding for the HTTP/2 parser (h2.c): prefixed integers,
 * string literals (raw or Huffman), the static table and the dynamic table with its size
 * accounting. Decoding only: we watch a connection, we never encode. Every read is bounds-checked
 * against the block; anything malformed returns -1. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

/* ---- Huffman (RFC 7541 Appendix B) ----
 * The code is canonical: codes of one length are consecutive numbers in symbol order, and the
 * first code of length L+1 is (last code of length L + 1) << 1. So the number of codes of each
 * length and the symbols sorted by (length, symbol) are all it takes to decode. */
static const unsigned char huff_count[31] = {
    0, 0, 0, 0, 0, 10, 26, 32, 6, 0, 5, 3, 2, 6, 2, 3,
    0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4,
};
static const unsigned short huff_sym[257] = {
    /* 5 bits */
    48, 49, 50, 97, 99, 101, 105, 111, 115, 116,
    /* 6 */
    32, 37, 45, 46, 47, 51, 52, 53, 54, 55, 56, 57, 61, 65, 95, 98, 100, 102, 103, 104, 108, 109,
    110, 112, 114, 117,
    /* 7 */
    58, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87,
    89, 106, 107, 113, 118, 119, 120, 121, 122,
    /* 8 */
    38, 42, 44, 59, 88, 90,
    /* 10 */
    33, 34, 40, 41, 63,
    /* 11 */
    39, 43, 124,
    /* 12 */
    35, 62,
    /* 13 */
    0, 36, 64, 91, 93, 126,
    /* 14 */
    94, 125,
    /* 15 */
    60, 96, 123,
    /* 19 */
    92, 195, 208,
    /* 20 */
    128, 130, 131, 162, 184, 194, 224, 226,
    /* 21 */
    153, 161, 167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230,
    /* 22 */
    129, 132, 133, 134, 136, 146, 154, 156, 160, 163, 164, 169, 170, 173, 178, 181, 185, 186,
    187, 189, 190, 196, 198, 228, 232, 233,
    /* 23 */
    1, 135, 137, 138, 139, 140, 141, 143, 147, 149, 150, 151, 152, 155, 157, 158, 165, 166, 168,
    174, 175, 180, 182, 183, 188, 191, 197, 231, 239,
    /* 24 */
    9, 142, 144, 145, 148, 159, 171, 206, 215, 225, 236, 237,
    /* 25 */
    199, 207, 234, 235,
    /* 26 */
    192, 193, 200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243, 255,
    /* 27 */
    203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245, 246, 247, 248, 250, 251, 252, 253,
    254,
    /* 28 */
    2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30,
    31, 127, 220, 249,
    /* 30 */
    10, 13, 22, 256,
};

#define HUFF_EOS 256

/* Decoding four bits at a time: the code's tree has 256 inner nodes (the root is 0); from each
 * node, the four bits of a nibble lead to another inner node, on the way completing at most one
 * code (the shortest are 5 bits). huff_step[node][nibble] says where: the next node (bits 0-7),
 * the symbol completed (bits 8-16) when HS_SYM, HS_EOS when the code completed is EOS. A string
 * may end at the root or on the all-ones path less than 8 deep (its padding, the most
 * significant bits of EOS): huff_end[node]. Made once from huff_count and huff_sym. */
#define HS_SYM (1u << 17)
#define HS_EOS (1u << 18)
static uint32_t huff_step[256][16];
static bool huff_end[256];
static pthread_once_t huff_once = PTHREAD_ONCE_INIT;

static void huff_tables(void)
{
    /* the tree: child[node][bit], an inner node's number, or 256 + symbol for a leaf */
    static unsigned short child[256][2];
    unsigned nodes = 1, base = 0;
    uint32_t first = 0;
    memset(child, 0, sizeof child);
    for (unsigned l = 1; l <= 30; l++) {
        for (unsigned k = 0; k < huff_count[l]; k++) {
            uint32_t code = first + k;
            unsigned at = 0;
            for (unsigned b = l; b-- > 1;) {
                unsigned bit = (code >> b) & 1u;
                if (!child[at][bit])
                    child[at][bit] = (unsigned short)nodes++;
                at = child[at][bit];
            }
            child[at][code & 1u] = (unsigned short)(256 + huff_sym[base + k]);
        }
        base += huff_count[l];
        first = (first + huff_count[l]) << 1;
    }
    for (unsigned at = 0, d = 0; d < 8; d++, at = child[at][1])
        huff_end[at] = true;
    for (unsigned n = 0; n < 256; n++)
        for (unsigned nib = 0; nib < 16; nib++) {
            uint32_t e = 0;
            unsigned at = n;
            for (int b = 3; b >= 0; b--) {
                unsigned c = child[at][(nib >> b) & 1u];
                if (c >= 256) {
                    e |= c - 256 == HUFF_EOS ? HS_EOS : HS_SYM | (uint32_t)(c - 256) << 8;
                    at = 0;
                } else {
                    at = c;
                }
            }
            huff_step[n][nib] = e | at;
        }
}

long scope_hpack_huffman(const unsigned char *in, size_t n, char *out, size_t cap)
{
    pthread_once(&huff_once, huff_tables);
    size_t o = 0;
    unsigned at = 0;
    for (size_t i = 0; i < n; i++) {
        for (int half = 0; half < 2; half++) {
            uint32_t e = huff_step[at][half ? in[i] & 15u : in[i] >> 4];
            if (e & (HS_SYM | HS_EOS)) {
                if (e & HS_EOS)
                    return -1; /* EOS inside a string is an error (5.2) */
                if (o >= cap)
                    return -1;
                out[o++] = (char)(e >> 8);
            }
            at = e & 0xffu;
        }
    }
    return huff_end[at] ? (long)o : -1;
}

/* ---- static table (RFC 7541 Appendix A) ---- */
struct hp_static {
    const char *name, *value;
    unsigned char nl, vl;
};
#define S(n, v) {n, v, sizeof n - 1, sizeof v - 1}
static const struct hp_static hp_static_table[61] = {
    S(":authority", ""),
    S(":method", "GET"),
    S(":method", "POST"),
    S(":path", "/"),
    S(":path", "/index.html"),
    S(":scheme", "http"),
    S(":scheme", "https"),
    S(":status", "200"),
    S(":status", "204"),
    S(":status", "206"),
    S(":status", "304"),
    S(":status", "400"),
    S(":status", "404"),
    S(":status", "500"),
    S("accept-charset", ""),
    S("accept-encoding", "gzip, deflate"),
    S("accept-language", ""),
    S("accept-ranges", ""),
    S("accept", ""),
    S("access-control-allow-origin", ""),
    S("age", ""),
    S("allow", ""),
    S("authorization", ""),
    S("cache-control", ""),
    S("content-disposition", ""),
    S("content-encoding", ""),
    S("content-language", ""),
    S("content-length", ""),
    S("content-location", ""),
    S("content-range", ""),
    S("content-type", ""),
    S("cookie", ""),
    S("date", ""),
    S("etag", ""),
    S("expect", ""),
    S("expires", ""),
    S("from", ""),
    S("host", ""),
    S("if-match", ""),
    S("if-modified-since", ""),
    S("if-none-match", ""),
    S("if-range", ""),
    S("if-unmodified-since", ""),
    S("last-modified", ""),
    S("link", ""),
    S("location", ""),
    S("max-forwards", ""),
    S("proxy-authenticate", ""),
    S("proxy-authorization", ""),
    S("range", ""),
    S("referer", ""),
    S("refresh", ""),
    S("retry-after", ""),
    S("server", ""),
    S("set-cookie", ""),
    S("strict-transport-security", ""),
    S("transfer-encoding", ""),
    S("user-agent", ""),
    S("vary", ""),
    S("via", ""),
    S("www-authenticate", ""),
};
#undef S
#define HP_STATIC_N 61
#define HP_DEFAULT_SIZE 4096 /* SETTINGS_HEADER_TABLE_SIZE's initial value */
#define HP_ENTRY_OVERHEAD 32

/* ---- dynamic table ----
 * Entry bytes (name then value) are appended to `buf`; off/nlen/vlen list the live entries newest
 * first. Evicting the oldest just forgets its offsets; the buffer is compacted (live entries moved
 * to its front, oldest first) when an append does not fit. The newest entry ends the used part. */
void scope_hpack_init(struct scope_hpack *h)
{
    memset(h, 0, sizeof *h);
    h->max_size = HP_DEFAULT_SIZE;
}

void scope_hpack_free(struct scope_hpack *h)
{
    free(h->buf);
    free(h->off);
    free(h->nlen);
    free(h->vlen);
    memset(h, 0, sizeof *h);
    h->max_size = HP_DEFAULT_SIZE;
}

static size_t tbl_used(const struct scope_hpack *h)
{
    return h->count ? (size_t)h->off[0] + h->nlen[0] + h->vlen[0] : 0;
}

static void tbl_evict_to(struct scope_hpack *h, size_t limit)
{
    while (h->count > 0 && h->size > limit) {
        size_t i = h->count - 1;
        h->size -= (size_t)h->nlen[i] + h->vlen[i] + HP_ENTRY_OVERHEAD;
        h->count--;
    }
    if (h->count == 0)
        h->size = 0;
}

static void tbl_compact(struct scope_hpack *h)
{
    size_t w = 0;
    for (size_t i = h->count; i-- > 0;) {
        size_t len = (size_t)h->nlen[i] + h->vlen[i];
        if (h->off[i] != w)
            memmove(h->buf + w, h->buf + h->off[i], len);
        h->off[i] = (uint32_t)w;
        w += len;
    }
}

/* Adds name: value as the newest entry (evicting as needed). `name` may point into the table's
 * own buffer (a literal with an indexed name), even at an entry this very insertion evicts. */
static int tbl_add(struct scope_hpack *h, const char *name, size_t nl, const char *value, size_t vl)
{
    size_t esz = nl + vl + HP_ENTRY_OVERHEAD;
    if (esz > h->max_size) {
        tbl_evict_to(h, 0); /* an entry larger than the table empties it (4.4) */
        return 0;
    }
    tbl_evict_to(h, h->max_size - esz);

    char *tmp = NULL;
    size_t need = nl + vl;
    size_t used = tbl_used(h);
    /* The buffer exists once any entry does, even an empty one (name and value of no bytes, 32
     * bytes of size): entries point into it, and NULL + 0 is undefined in C. */
    if (used + need > h->cap || !h->buf) {
        uintptr_t np = (uintptr_t)name, bp = (uintptr_t)h->buf;
        if (h->buf && np >= bp && np < bp + h->cap) {
            tmp = malloc(nl ? nl : 1);
            if (!tmp)
                return -1;
            memcpy(tmp, name, nl);
            name = tmp;
        }
        tbl_compact(h);
        used = tbl_used(h);
        /* grown until compacting leaves half of it free: entries are added at the end and
         * evicted at the start, and compacting (moving every entry) at each addition to a
         * full table cost HTTP/2 a few hundred instructions a header */
        if (used + need > h->cap / 2 || !h->buf) {
            size_t ncap = h->cap ? h->cap : 1024;
            while (ncap / 2 < used + need)
                ncap *= 2;
            char *nb = realloc(h->buf, ncap);
            if (nb) {
                h->buf = nb;
                h->cap = ncap;
            } else if (used + need > h->cap || !h->buf) {
                free(tmp);
                return -1;
            }
        }
    }
    if (h->count == h->ecap) {
        size_t ne = h->ecap ? h->ecap * 2 : 16;
        uint32_t *o = realloc(h->off, ne * sizeof *o);
        if (o)
            h->off = o;
        uint32_t *a = realloc(h->nlen, ne * sizeof *a);
        if (a)
            h->nlen = a;
        uint32_t *b = realloc(h->vlen, ne * sizeof *b);
        if (b)
            h->vlen = b;
        if (!o || !a || !b) {
            free(tmp);
            return -1;
        }
        h->ecap = ne;
    }
    memmove(h->buf + used, name, nl);
    memcpy(h->buf + used + nl, value, vl);
    free(tmp);
    memmove(h->off + 1, h->off, h->count * sizeof *h->off);
    memmove(h->nlen + 1, h->nlen, h->count * sizeof *h->nlen);
    memmove(h->vlen + 1, h->vlen, h->count * sizeof *h->vlen);
    h->off[0] = (uint32_t)used;
    h->nlen[0] = (uint32_t)nl;
    h->vlen[0] = (uint32_t)vl;
    h->count++;
    h->size += esz;
    return 0;
}

/* Entry `idx` (1-based, static then dynamic) or -1 when there is none. */
static int tbl_get(const struct scope_hpack *h, uint64_t idx, const char **name, size_t *nl,
                   const char **value, size_t *vl)
{
    if (idx == 0)
        return -1;
    if (idx <= HP_STATIC_N) {
        const struct hp_static *e = &hp_static_table[idx - 1];
        *name = e->name;
        *nl = e->nl;
        *value = e->value;
        *vl = e->vl;
        return 0;
    }
    idx -= HP_STATIC_N + 1;
    if (idx >= h->count)
        return -1;
    *name = h->buf + h->off[idx];
    *nl = h->nlen[idx];
    *value = *name + *nl;
    *vl = h->vlen[idx];
    return 0;
}

/* ---- primitives ---- */

/* An integer with an N-bit prefix (5.1) at *pos; -1 when truncated or beyond 2^32-1. */
static int rd_int(const unsigned char *b, size_t n, size_t *pos, unsigned prefix, uint64_t *out)
{
    if (*pos >= n)
        return -1;
    uint64_t mask = (1u << prefix) - 1;
    uint64_t v = b[(*pos)++] & mask;
    if (v < mask) {
        *out = v;
        return 0;
    }
    unsigned shift = 0;
    for (;;) {
        if (*pos >= n || shift > 28)
            return -1;
        unsigned char c = b[(*pos)++];
        v += (uint64_t)(c & 0x7f) << shift;
        shift += 7;
        if (!(c & 0x80))
            break;
    }
    if (v > 0xffffffffu)
        return -1;
    *out = v;
    return 0;
}

/* A string literal (5.2) at *pos decoded into out[*o, cap); its length in *len. */
static int rd_str(const unsigned char *b, size_t n, size_t *pos, char *out, size_t cap, size_t *o,
                  size_t *len)
{
    if (*pos >= n)
        return -1;
    bool huff = b[*pos] & 0x80;
    uint64_t sl;
    if (rd_int(b, n, pos, 7, &sl) < 0 || sl > n - *pos)
        return -1;
    if (huff) {
        long r = scope_hpack_huffman(b + *pos, (size_t)sl, out + *o, cap - *o);
        if (r < 0)
            return -1;
        *len = (size_t)r;
    } else {
        if (sl > cap - *o)
            return -1;
        memcpy(out + *o, b + *pos, (size_t)sl);
        *len = (size_t)sl;
    }
    *pos += (size_t)sl;
    *o += *len;
    return 0;
}

/* Reported headers must end in the first half of `out`; the rest is scratch for the headers that
 * are decoded (for the table's sake) but not reported. */
int scope_hpack_decode(struct scope_hpack *h, const unsigned char *blk, size_t n,
                       struct scope_hdr *hdrs, int max, char *out, size_t cap)
{
    size_t pos = 0;
    size_t used = 0;        /* bytes of `out` holding reported headers */
    size_t report_lim = cap / 2;
    int nh = 0;
    bool reporting = max > 0;
    bool fields_seen = false;

    while (pos < n) {
        unsigned char c = blk[pos];
        if ((c & 0xe0) == 0x20) { /* dynamic table size update (6.3) */
            uint64_t sz;
            if (fields_seen || rd_int(blk, n, &pos, 5, &sz) < 0 || sz > SCOPE_HPACK_TABLE_MAX)
                return -1;
            h->max_size = (size_t)sz;
            tbl_evict_to(h, h->max_size);
            continue;
        }
        fields_seen = true;
        const char *name, *value;
        size_t nl, vl;
        size_t o = used;
        if (c & 0x80) { /* indexed (6.1) */
            uint64_t idx;
            if (rd_int(blk, n, &pos, 7, &idx) < 0 || tbl_get(h, idx, &name, &nl, &value, &vl) < 0)
                return -1;
            if (!reporting)
                continue;
            if (nl + vl > cap - o) {
                reporting = false;
                continue;
            }
            memcpy(out + o, name, nl);
            memcpy(out + o + nl, value, vl);
            name = out + o;
            value = out + o + nl;
            o += nl + vl;
        } else {
            /* literal: with incremental indexing (01, 6-bit index), without indexing (0000) or
             * never indexed (0001), both with a 4-bit index */
            bool indexing = (c & 0xc0) == 0x40;
            unsigned prefix = indexing ? 6 : 4;
            uint64_t idx;
            if (rd_int(blk, n, &pos, prefix, &idx) < 0)
                return -1;
            if (idx) {
                const char *tv;
                size_t tvl;
                if (tbl_get(h, idx, &name, &nl, &tv, &tvl) < 0)
                    return -1;
                if (reporting) {
                    if (nl > cap - o)
                        return -1;
                    memcpy(out + o, name, nl);
                    name = out + o;
                    o += nl;
                }
            } else {
                size_t at = o;
                if (rd_str(blk, n, &pos, out, cap, &o, &nl) < 0)
                    return -1;
                name = out + at;
            }
            size_t at = o;
            if (rd_str(blk, n, &pos, out, cap, &o, &vl) < 0)
                return -1;
            value = out + at;
            if (indexing && tbl_add(h, name, nl, value, vl) < 0)
                return -1;
        }
        if (reporting && nh < max && o <= report_lim) {
            hdrs[nh].name.p = name;
            hdrs[nh].name.n = nl;
            hdrs[nh].value.p = value;
            hdrs[nh].value.n = vl;
            nh++;
            used = o;
        } else {
            reporting = false;
        }
    }
    return nh;
}
