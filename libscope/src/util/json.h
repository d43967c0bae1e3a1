/* json.h — a growable text buffer and JSON string escaping, for the reporting thread only. */
#ifndef SCOPE_JSON_H
#define SCOPE_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
    char *p;
    size_t len, cap;
};

#include <string.h>

void sb_raw_slow(struct sbuf *b, const char *s, size_t n);
/* Appends n bytes (the buffer stays NUL-terminated). Inline: events are made of many short pieces. */
static inline void sb_raw(struct sbuf *b, const char *s, size_t n)
{
    if (__builtin_expect(b->len + n + 1 > b->cap, 0)) {
        sb_raw_slow(b, s, n);
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static inline void sb_s(struct sbuf *b, const char *s) { sb_raw(b, s, strlen(s)); }
void sb_fmt(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "..." with any bytes: valid UTF-8 is kept, each invalid byte becomes \u00XX, so the line is
 * always valid JSON and valid UTF-8. */
void sb_jstr(struct sbuf *b, const char *s, size_t n);
void sb_jcstr(struct sbuf *b, const char *s);
/* ,"key":"value" / ,"key":123 */
void sb_kv_s(struct sbuf *b, const char *key, const char *val);
void sb_kv_u(struct sbuf *b, const char *key, uint64_t val);
void sb_kv_i(struct sbuf *b, const char *key, int64_t val);
void sb_time(struct sbuf *b, uint64_t t_ns);
/* "key": (first) or ,"key": — one append; the key is written as it is (our own names). */
void sb_key(struct sbuf *b, bool first, const char *key, size_t klen);
/* n (at most 16) bytes without a call: two overlapping moves. */
static inline void sb_small_copy(char *d, const char *s, size_t n)
{
    if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}
/* sb_key for an event's field, klen 0 when not known: a small event has a dozen short keys, and a
 * strlen and a memcpy call each were a sixth of its cost. */
static inline void sb_fkey(struct sbuf *b, bool first, const char *key, size_t klen)
{
    if (!klen)
        klen = strlen(key);
    if (klen > 16 || __builtin_expect(b->len + 24 > b->cap, 0)) {
        sb_key(b, first, key, klen);
        return;
    }
    char *d = b->p + b->len;
    *d = ',';
    d += !first;
    *d++ = '"';
    sb_small_copy(d, key, klen);
    d += klen;
    *d++ = '"';
    *d++ = ':';
    *d = 0;
    b->len = (size_t)(d - b->p);
}
/* A decimal number; one or two digits (most of an event's numbers) without a call. */
void sb_u_slow(struct sbuf *b, uint64_t v);
static inline void sb_u(struct sbuf *b, uint64_t v)
{
    if (v >= 100 || __builtin_expect(b->len + 3 > b->cap, 0)) {
        sb_u_slow(b, v);
        return;
    }
    char *d = b->p + b->len;
    if (v >= 10)
        *d++ = (char)('0' + v / 10);
    *d++ = (char)('0' + v % 10);
    *d = 0;
    b->len = (size_t)(d - b->p);
}
static inline void sb_i(struct sbuf *b, int64_t v)
{
    if (v < 0) {
        sb_raw(b, "-", 1);
        sb_u(b, (uint64_t)0 - (uint64_t)v);
    } else {
        sb_u(b, (uint64_t)v);
    }
}
/* Decimal into out (room for 21 bytes), NUL-terminated; returns its length. Without printf: the
 * reporting thread formats numbers for every record. */
size_t scope_u_str(char *out, uint64_t v);
/* src into dst, cut to cap - 1 bytes, always NUL-terminated (cap > 0). */
void scope_str_copy(char *dst, size_t cap, const char *src);
/* Length of the valid UTF-8 sequence s starts with (1–4), 0 when it is not one. */
size_t scope_utf8_seq(const unsigned char *s, size_t n);
/* Length of the longest prefix of s[0..n) that ends on a UTF-8 sequence boundary. */
size_t scope_utf8_cut(const unsigned char *s, size_t n);

#endif
