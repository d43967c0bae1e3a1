/* h2.c — HTTP/2 frame parsing for one direction of a connection (http.h): the client preface is
 * skipped, frames are split by their 9-byte headers, header blocks (HEADERS or PUSH_PROMISE plus
 * CONTINUATION) are gathered and HPACK-decoded, every other payload is skipped by its length.
 * HPACK state cannot survive a lost header block, nor can framing survive a lost frame header:
 * either makes the parser give up on the connection for good (`broken`). */
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

enum {
    H2_PREFACE = 1, /* matching the client preface (len bytes so far) */
    H2_FHDR,        /* gathering a frame header (len bytes of hdr) */
    H2_SKIP,        /* skipping `skip` bytes of a payload we do not read */
    H2_BLOCK,       /* gathering a HEADERS/PUSH_PROMISE/CONTINUATION payload (len bytes) */
};

enum {
    F_DATA = 0,
    F_HEADERS = 1,
    F_PUSH_PROMISE = 5,
    F_CONTINUATION = 9,
};

#define FL_END_STREAM 0x01
#define FL_END_HEADERS 0x04
#define FL_PADDED 0x08
#define FL_PRIORITY 0x20
#define BLK_PUSH 0x80 /* in blk_flags: the block is a PUSH_PROMISE's (decoded, not reported) */

#define H2_STRINGS_CAP (4 * (size_t)SCOPE_H2_FRAME_MAX)

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24
static const char h2_empty[] = "";

bool scope_h2_is_preface(const unsigned char *buf, size_t n)
{
    return buf && n >= H2_PREFACE_LEN && memcmp(buf, h2_preface, H2_PREFACE_LEN) == 0;
}

void scope_h2_init(struct scope_h2 *p, bool client_side)
{
    memset(p, 0, sizeof *p);
    p->client_side = client_side;
    p->state = client_side ? H2_PREFACE : H2_FHDR;
    p->preface_seen = !client_side;
    scope_hpack_init(&p->hpack);
}

static void release(struct scope_h2 *p)
{
    free(p->blk);
    p->blk = NULL;
    p->blk_cap = 0;
    p->blk_len = 0;
    free(p->strings);
    p->strings = NULL;
    p->strings_cap = 0;
    scope_hpack_free(&p->hpack);
}

void scope_h2_free(struct scope_h2 *p)
{
    release(p);
}

static void give_up(struct scope_h2 *p)
{
    p->broken = true;
    release(p); /* nothing of this connection is parsed any more */
}

static uint32_t frame_len(const struct scope_h2 *p)
{
    return ((uint32_t)p->hdr[0] << 16) | ((uint32_t)p->hdr[1] << 8) | p->hdr[2];
}

static uint32_t frame_stream(const struct scope_h2 *p)
{
    return (((uint32_t)p->hdr[5] << 24) | ((uint32_t)p->hdr[6] << 16) | ((uint32_t)p->hdr[7] << 8) |
            p->hdr[8]) & 0x7fffffffu;
}

/* Inlined, so that the literal's length is known when compiling (asked for every header). */
static inline __attribute__((always_inline)) bool hdr_is(const struct scope_hdr *h, const char *lit)
{
    size_t n = strlen(lit);
    if (h->name.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h->name.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return false;
    }
    return true;
}

static long long parse_cl(const struct scope_str *v)
{
    if (v->n == 0 || v->n > 18)
        return -1;
    long long x = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->p[i] < '0' || v->p[i] > '9')
            return -1;
        x = x * 10 + (v->p[i] - '0');
    }
    return x;
}

/* The header block is complete: decode it (always, to keep the table in step) and report it
 * when it is a request's or response's head (not a trailer, not a push promise). */
static void block_done(struct scope_h2 *p, scope_http_cb cb, void *ctx)
{
    if (!p->strings) {
        p->strings = malloc(H2_STRINGS_CAP);
        if (!p->strings) {
            give_up(p);
            return;
        }
        p->strings_cap = H2_STRINGS_CAP;
    }
    struct scope_hdr all[SCOPE_HTTP_MAX_HDRS + 8];
    int nh = scope_hpack_decode(&p->hpack, p->blk, p->blk_len, all, SCOPE_HTTP_MAX_HDRS + 8,
                                p->strings, p->strings_cap);
    uint32_t stream = p->blk_stream;
    uint8_t flags = p->blk_flags;
    p->blk_len = 0;
    p->blk_stream = 0;
    p->blk_flags = 0;
    if (nh < 0) {
        give_up(p);
        return;
    }
    if (flags & BLK_PUSH)
        return;

    struct scope_http_msg m;
    memset(&m, 0, sizeof m);
    m.method.p = m.target.p = m.authority.p = m.scheme.p = m.reason.p = h2_empty;
    m.request = p->client_side;
    m.flavor = 20;
    m.stream = stream;
    m.content_length = -1;
    m.end_stream = (flags & FL_END_STREAM) != 0;
    bool cl_seen = false;
    int nr = 0;
    for (int i = 0; i < nh; i++) {
        const struct scope_hdr *h = &all[i];
        if (h->name.n > 0 && h->name.p[0] == ':') {
            if (hdr_is(h, ":method"))
                m.method = h->value;
            else if (hdr_is(h, ":path"))
                m.target = h->value;
            else if (hdr_is(h, ":authority"))
                m.authority = h->value;
            else if (hdr_is(h, ":scheme"))
                m.scheme = h->value;
            else if (hdr_is(h, ":status")) {
                const char *s = h->value.p;
                if (h->value.n == 3 && s[0] >= '1' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
                    s[2] >= '0' && s[2] <= '9')
                    m.status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
            }
            continue;
        }
        if (hdr_is(h, "content-length")) {
            long long x = parse_cl(&h->value);
            if (!cl_seen)
                m.content_length = x;
            else if (x != m.content_length)
                m.content_length = -1;
            cl_seen = true;
        }
        if (nr < SCOPE_HTTP_MAX_HDRS)
            p->hdrs[nr++] = *h;
    }
    m.hdrs = p->hdrs;
    m.nhdrs = nr;
    bool head = p->client_side ? m.method.n > 0 : m.status > 0;
    if (head && cb)
        (void)cb(ctx, &m);
}

/* A HEADERS/PUSH_PROMISE/CONTINUATION payload is complete at blk + blk_len: strip what is not
 * header block fragment, append the fragment, and decode when END_HEADERS is set. */
static void block_frame_done(struct scope_h2 *p, scope_http_cb cb, void *ctx)
{
    uint8_t type = p->hdr[3], flags = p->hdr[4];
    size_t plen = frame_len(p);
    /* blk is still NULL after empty payloads only (nothing of q is read then); NULL + 0 is
     * undefined in C, so it is not computed. */
    unsigned char *q = p->blk ? p->blk + p->blk_len : NULL;
    size_t off = 0, pad = 0;
    if (type == F_HEADERS || type == F_PUSH_PROMISE) {
        if (flags & FL_PADDED) {
            if (plen < 1) {
                give_up(p);
                return;
            }
            pad = q[0];
            off = 1;
        }
        if (type == F_HEADERS && (flags & FL_PRIORITY))
            off += 5;
        if (type == F_PUSH_PROMISE)
            off += 4;
        if (off + pad > plen) {
            give_up(p);
            return;
        }
        p->blk_stream = frame_stream(p);
        p->blk_flags = type == F_PUSH_PROMISE ? BLK_PUSH : (uint8_t)(flags & FL_END_STREAM);
    }
    size_t flen = plen - off - pad;
    if (off)
        memmove(q, q + off, flen);
    p->blk_len += flen;
    p->state = H2_FHDR;
    p->len = 0;
    if (flags & FL_END_HEADERS)
        block_done(p, cb, ctx);
}

/* The 9-byte frame header is in hdr. */
static void frame_header_done(struct scope_h2 *p, scope_http_cb cb, void *ctx)
{
    uint32_t len = frame_len(p);
    uint8_t type = p->hdr[3];
    uint32_t sid = frame_stream(p);
    p->len = 0;
    if (p->blk_stream) { /* a header block awaits its CONTINUATION */
        if (type != F_CONTINUATION || sid != p->blk_stream) {
            give_up(p);
            return;
        }
    } else if (type == F_CONTINUATION || ((type == F_HEADERS || type == F_PUSH_PROMISE) && sid == 0)) {
        give_up(p);
        return;
    }
    if (type == F_HEADERS || type == F_PUSH_PROMISE || type == F_CONTINUATION) {
        if (p->blk_len + len > SCOPE_H2_FRAME_MAX) {
            give_up(p);
            return;
        }
        size_t need = p->blk_len + len;
        if (need > p->blk_cap) {
            size_t nc = p->blk_cap ? p->blk_cap : 4096;
            while (nc < need)
                nc *= 2;
            unsigned char *nb = realloc(p->blk, nc);
            if (!nb) {
                give_up(p);
                return;
            }
            p->blk = nb;
            p->blk_cap = nc;
        }
        if (type != F_CONTINUATION)
            p->blk_len = 0;
        p->state = H2_BLOCK;
        if (len == 0)
            block_frame_done(p, cb, ctx);
        return;
    }
    if (len > 0) {
        p->skip = len;
        p->state = H2_SKIP;
    } else {
        p->state = H2_FHDR;
    }
}

/* Frame bytes (the preface is behind us). */
static void frames(struct scope_h2 *p, const unsigned char *b, size_t n, scope_http_cb cb, void *ctx)
{
    size_t i = 0;
    while (i < n && !p->broken) {
        switch (p->state) {
        case H2_FHDR: {
            size_t take = sizeof p->hdr - p->len;
            if (take > n - i)
                take = n - i;
            memcpy(p->hdr + p->len, b + i, take);
            p->len += take;
            i += take;
            if (p->len == sizeof p->hdr)
                frame_header_done(p, cb, ctx);
            break;
        }
        case H2_SKIP: {
            size_t take = n - i < p->skip ? n - i : p->skip;
            i += take;
            p->skip -= take;
            if (p->skip == 0)
                p->state = H2_FHDR;
            break;
        }
        case H2_BLOCK: {
            size_t want = frame_len(p) - p->len;
            size_t take = n - i < want ? n - i : want;
            memcpy(p->blk + p->blk_len + p->len, b + i, take);
            p->len += take;
            i += take;
            if (p->len == frame_len(p))
                block_frame_done(p, cb, ctx);
            break;
        }
        default:
            give_up(p);
            return;
        }
    }
}

void scope_h2_feed(struct scope_h2 *p, const unsigned char *buf, size_t n, size_t total,
                   scope_http_cb cb, void *ctx)
{
    if (p->broken)
        return;
    if (!buf)
        n = 0;
    if (total < n)
        total = n;
    size_t i = 0;
    while (p->state == H2_PREFACE && i < n) {
        if (buf[i] == (unsigned char)h2_preface[p->len]) {
            p->len++;
            i++;
            if (p->len == H2_PREFACE_LEN) {
                p->preface_seen = true;
                p->state = H2_FHDR;
                p->len = 0;
            }
        } else {
            /* no preface: what matched so far was the start of the frames */
            size_t matched = p->len;
            p->state = H2_FHDR;
            p->len = 0;
            frames(p, (const unsigned char *)h2_preface, matched, cb, ctx);
        }
    }
    frames(p, buf + i, n - i, cb, ctx);
    if (total > n && !p->broken) {
        size_t gap = total - n;
        if (p->state == H2_SKIP && gap <= p->skip) {
            p->skip -= gap; /* inside a payload we skip anyway */
            if (p->skip == 0)
                p->state = H2_FHDR;
        } else {
            give_up(p); /* a frame header or a header block was lost */
        }
    }
}
