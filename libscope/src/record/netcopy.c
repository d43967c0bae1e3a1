/* netcopy.c — which bytes of a call on a stream socket (or of TLS plaintext) are copied into the
 * ring for the reporting thread's parsers, and the copying. Up to three wants, merged into one set
 * of ranges per call:
 *   - the head of each call (4 KiB) while the protocol is not known, and on for HTTP/1.x;
 *   - every byte up to 64 KiB a call with payloads on;
 *   - for HTTP/2 (and while a layer may still turn out to be HTTP/2), every frame header and every
 *     header block (HEADERS, PUSH_PROMISE, CONTINUATION payloads), wherever it lies in the call,
 *     and nothing of DATA payloads. HPACK and the framing survive only if no frame header and no
 *     header block is ever lost, whatever the size of the calls and of the bodies: a frame walker
 *     per descriptor, layer and direction follows frame lengths on the app's thread (the bytes of
 *     9-byte headers only), from the first byte of the connection on, so the reporter's h2.c never
 *     gets a gap but inside payloads it skips anyway.
 * The walker sees the client preface at the start of a direction and then marks the layer HTTP/2
 * at once (the reporter would only know after its next drain, after calls already cut to 4 KiB).
 * App's thread: no malloc, no lock, errno untouched, signal-safe. */
#include <string.h>

#include "scope.h"

/* A walker is one word: where the direction is in its frames. */
#define W_LEFT(w) ((uint32_t)((w) & 0xffffff))           /* payload (or preface) bytes still to pass */
#define W_ACC(w) ((uint32_t)(((w) >> 24) & 0xffffff))    /* the length being read from a header */
#define W_TYPE(w) ((unsigned)(((w) >> 48) & 0xff))       /* the frame type, once read */
#define W_HLEN(w) ((unsigned)(((w) >> 56) & 0xf))        /* header bytes seen of the next frame */
#define W_SEEN ((uint64_t)1 << 60)                       /* the direction has begun */
#define W_COPY ((uint64_t)1 << 61)                       /* the payload being passed is copied */
#define W_MAKE(left, acc, type, hlen, bits)                                                   \
    ((uint64_t)(left) | (uint64_t)(acc) << 24 | (uint64_t)(type) << 48 | (uint64_t)(hlen) << 56 | (bits))

#define HDR_BLOCK_MAX 65536   /* h2.c gives up on larger header blocks anyway: not copied */
#define MERGE_GAP 256         /* ranges closer than this are copied as one (fewer records) */
#define NRANGE 32

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Reads bytes of the call in order, from buf or across iov. */
struct cursor {
    const unsigned char *buf;
    const struct iovec *iov;
    int iovcnt, i;
    size_t base;   /* call offset of iov[i] */
};

SCOPE_HOT static int byte_at(struct cursor *c, size_t off)
{
    if (c->buf)
        return c->buf[off];
    while (c->i < c->iovcnt && off >= c->base + c->iov[c->i].iov_len) {
        c->base += c->iov[c->i].iov_len;
        c->i++;
    }
    return c->i < c->iovcnt ? ((const unsigned char *)c->iov[c->i].iov_base)[off - c->base] : -1;
}

SCOPE_HOT void scope_take(char *dst, const void *buf, const struct iovec *iov, int iovcnt, size_t off, size_t n)
{
    if (buf) {
        memcpy(dst, (const char *)buf + off, n);
        return;
    }
    for (int i = 0; i < iovcnt && n; i++) {
        size_t l = iov[i].iov_len;
        if (off >= l) {
            off -= l;
            continue;
        }
        size_t k = l - off < n ? l - off : n;
        memcpy(dst, (const char *)iov[i].iov_base + off, k);
        dst += k;
        n -= k;
        off = 0;
    }
}

struct copier {
    enum scope_fn fn;
    int fd, dflags;
    uint64_t chan, id, t_ns;   /* t_ns: the call's time, taken once for all its pieces */
    const void *buf;
    const struct iovec *iov;
    int iovcnt;
    size_t total;
    size_t start[NRANGE], len[NRANGE];
    int n;
    bool first, dead;   /* dead: the queue was full; the reporter sees the gap */
};

/* One record per piece of the ranges gathered; `last` marks the call's last piece. */
SCOPE_HOT static void flush(struct copier *k, bool last)
{
    for (int i = 0; i < k->n && !k->dead; i++) {
        size_t off = 0;
        do {
            uint64_t ticket;
            struct scope_rec *r = scope_rec_claim_at(SCOPE_REC_DATA, k->fn, k->fd, &ticket, k->t_ns);
            if (!r) {
                k->dead = true;
                return;
            }
            if (!k->id) {
                k->id = ticket + 1;
                k->t_ns = r->t_ns;
            }
            size_t n = k->len[i] - off < SCOPE_REC_DATA ? k->len[i] - off : SCOPE_REC_DATA;
            scope_take(r->data, k->buf, k->iov, k->iovcnt, k->start[i] + off, n);
            off += n;
            int fl = k->dflags | (k->first ? SCOPE_DATA_FIRST : 0);
            k->first = false;
            if (last && i == k->n - 1 && off >= k->len[i])
                fl |= SCOPE_DATA_LAST;
            r->chan = k->chan;
            r->aux = fl;
            r->len = (uint32_t)n;
            r->rbytes = k->total;
            r->rops = k->start[i] + off - n;
            r->wbytes = 0;
            r->wops = k->id;
            scope_ring_publish(ticket);
        } while (off < k->len[i]);
    }
    k->n = 0;
}

SCOPE_HOT static void want(struct copier *k, size_t start, size_t len)
{
    if (!len)
        return;
    if (k->n) {
        size_t *l = &k->len[k->n - 1], end = k->start[k->n - 1] + *l;
        if (start <= end + MERGE_GAP) {
            if (start + len > end)
                *l = start + len - k->start[k->n - 1];
            return;
        }
    }
    if (k->n == NRANGE)
        flush(k, false);
    k->start[k->n] = start;
    k->len[k->n++] = len;
}

/* Walks the call's bytes through the direction's frames; returns the walker's new word. Sets
 * *h2 when the call begins the direction with the client preface. */
SCOPE_HOT static uint64_t walk(uint64_t w, struct copier *k, struct cursor *cur, size_t n, bool *h2)
{
    size_t pos = 0;
    if (!(w & W_SEEN)) {
        size_t m = n < sizeof preface - 1 ? n : sizeof preface - 1, i = 0;
        while (i < m && byte_at(cur, i) == (unsigned char)preface[i])
            i++;
        w = W_SEEN;
        if (i == m && m) {   /* the preface (or its start, in a tiny first call) */
            w = W_MAKE(sizeof preface - 1, 0, 0, 0, W_SEEN | W_COPY);
            *h2 = m == sizeof preface - 1;
        }
    }
    uint32_t left = W_LEFT(w), acc = W_ACC(w);
    unsigned type = W_TYPE(w), hlen = W_HLEN(w);
    uint64_t bits = w & (W_SEEN | W_COPY);
    while (pos < n) {
        if (left) {
            size_t t = n - pos < left ? n - pos : left;
            if (bits & W_COPY)
                want(k, pos, t);
            pos += t;
            left -= (uint32_t)t;
            continue;
        }
        size_t t = 9 - hlen < n - pos ? 9 - hlen : n - pos;
        want(k, pos, t);   /* frame headers: always */
        for (size_t i = 0; i < t; i++, hlen++) {
            int b = byte_at(cur, pos + i);
            if (hlen < 3)
                acc = acc << 8 | (uint32_t)(b & 0xff);
            else if (hlen == 3)
                type = (unsigned)b & 0xff;
        }
        pos += t;
        if (hlen == 9) {
            left = acc;
            bits &= ~W_COPY;
            if ((type == 1 || type == 5 || type == 9) && acc <= HDR_BLOCK_MAX)
                bits |= W_COPY;
            hlen = 0;
            acc = 0;
        }
    }
    return W_MAKE(left, acc, type, hlen, bits);
}

SCOPE_HOT void scope_stream_copy(enum scope_fn fn, int fd, uint64_t chan, int layer, bool tx, const void *buf,
                       const struct iovec *iov, int iovcnt, size_t total)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c)
        return;
    uint32_t fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
    uint32_t copy = layer ? SCOPE_FD_TLSCOPY : SCOPE_FD_COPY, all = layer ? SCOPE_FD_TLSALL : SCOPE_FD_ALL;
    uint32_t h2 = layer ? SCOPE_FD_TLSH2 : SCOPE_FD_H2, noh2 = layer ? SCOPE_FD_TLSNOH2 : SCOPE_FD_NOH2;
    if (!(fl & (copy | all | h2)))
        return;
    struct copier k;   /* not zeroed as a whole: the range arrays are filled as used (n says how far) */
    k.fn = fn;
    k.fd = fd;
    k.dflags = (tx ? SCOPE_DATA_TX : 0) | (layer ? SCOPE_DATA_TLS : 0);
    k.chan = chan;
    k.id = 0;
    k.t_ns = 0;
    k.buf = buf;
    k.iov = iov;
    k.iovcnt = iovcnt;
    k.total = total;
    k.n = 0;
    k.first = true;
    k.dead = false;
    bool bytes = buf || iov;   /* sendfile and splice move bytes we never see */
    size_t head = fl & all ? SCOPE_COPY_ALL : (fl & copy) && !(fl & h2) ? SCOPE_COPY_HEAD : 0;
    if (bytes)
        want(&k, 0, total < head ? total : head);
    _Atomic uint64_t *wp = scope_h2trk ? &scope_h2trk[fd][layer * 2 + tx] : NULL;
    if (wp && !(fl & noh2)) {
        bool saw_preface = false;
        uint64_t w = atomic_load_explicit(wp, memory_order_relaxed);
        if (bytes) {
            struct cursor cur = {buf, iov, iovcnt, 0, 0};
            w = walk(w, &k, &cur, total, &saw_preface);
        } else if (!(w & W_COPY) && !W_HLEN(w) && W_LEFT(w) >= total) {   /* inside a DATA payload */
            w -= total;
        } else {   /* unseen bytes (sendfile) over a frame header: the frames are lost for good */
            atomic_fetch_or_explicit(&c->flags, noh2, memory_order_relaxed);
        }
        atomic_store_explicit(wp, w, memory_order_relaxed);
        if (saw_preface)
            atomic_fetch_or_explicit(&c->flags, h2, memory_order_relaxed);
    }
    if (!k.n) {   /* nothing copied: one empty piece tells the reporter of the call (a gap) */
        k.start[0] = k.len[0] = 0;
        k.n = 1;
    }
    flush(&k, true);
}

void scope_stream_reset(int fd, int from)
{
    if (!scope_h2trk || fd < 0 || fd >= scope_fdtab_len)
        return;
    for (int i = 0; i < 4; i++) {
        uint64_t w = from >= 0 && from < scope_fdtab_len
                         ? atomic_load_explicit(&scope_h2trk[from][i], memory_order_relaxed) : 0;
        atomic_store_explicit(&scope_h2trk[fd][i], w, memory_order_relaxed);
    }
}
