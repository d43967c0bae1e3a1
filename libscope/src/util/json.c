/* json.c — text building and JSON escaping for the reporting thread (malloc is fine here). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static bool grow(struct sbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

void sb_key(struct sbuf *b, bool first, const char *key, size_t klen)
{
    if (!grow(b, klen + 4))
        return;
    char *d = b->p + b->len;
    if (!first)
        *d++ = ',';
    *d++ = '"';
    memcpy(d, key, klen);
    d += klen;
    *d++ = '"';
    *d++ = ':';
    *d = 0;
    b->len = (size_t)(d - b->p);
}

void sb_raw_slow(struct sbuf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_raw(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence starting at s (n bytes available), 0 if invalid. */
size_t scope_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;      /* overlong */
        if (c == 0xED)
            hi = 0x9F;      /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;      /* beyond U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t scope_utf8_cut(const unsigned char *s, size_t n)
{
    size_t i = n;
    for (int k = 0; k < 3 && i > 0 && (s[i - 1] & 0xC0) == 0x80; k++)
        i--;
    if (i == 0 || s[i - 1] < 0xC0)
        return n;   /* ends on ASCII or a complete tail of garbage: nothing to protect */
    size_t lead = i - 1;
    unsigned c = s[lead];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return n - lead < need ? lead : n;
}

/* Bytes that go into a JSON string as they are: printable ASCII but the quote and the backslash. */
static const unsigned char jplain[256] = {[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1};

void sb_jstr(struct sbuf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!grow(b, n + 2))
        return;
    b->p[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        /* copy the plain stretch in one go */
        while (run + 4 <= n && jplain[s[run]] & jplain[s[run + 1]] & jplain[s[run + 2]] & jplain[s[run + 3]])
            run += 4;
        while (run < n && jplain[s[run]])
            run++;
        if (run > i) {
            sb_raw(b, (const char *)s + i, run - i);
            i = run;
            continue;
        }
        unsigned c = s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_raw(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            const char *m = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                          : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (m)
                sb_raw(b, m, 2);
            else {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                sb_raw(b, esc, 6);
            }
            i++;
        } else {
            size_t len = scope_utf8_seq(s + i, n - i);
            if (len) {
                sb_raw(b, (const char *)s + i, len);
                i += len;
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                sb_raw(b, esc, 6);
                i++;
            }
        }
    }
    sb_raw(b, "\"", 1);
}

void sb_jcstr(struct sbuf *b, const char *s) { sb_jstr(b, s, strlen(s)); }

void sb_kv_s(struct sbuf *b, const char *key, const char *val)
{
    sb_raw(b, ",", 1);
    sb_jcstr(b, key);
    sb_raw(b, ":", 1);
    sb_jcstr(b, val ? val : "");
}

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* v in decimal, written backwards ending at end; returns where it starts. Two digits a step. */
static char *u_back(char *end, uint64_t v)
{
    char *p = end;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = digit_pairs[k + 1];
        *--p = digit_pairs[k];
    }
    if (v >= 10) {
        *--p = digit_pairs[v * 2 + 1];
        *--p = digit_pairs[v * 2];
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

size_t scope_u_str(char *out, uint64_t v)
{
    char d[24];
    char *p = u_back(d + sizeof d, v);
    size_t n = (size_t)(d + sizeof d - p);
    memcpy(out, p, n);
    out[n] = 0;
    return n;
}

void scope_str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Decimal without printf: the reporting thread writes several numbers per record. */
void sb_u_slow(struct sbuf *b, uint64_t v)
{
    /* at most 20 digits, made backwards in d, then moved as 24 fixed bytes (3 stores, no call) */
    char d[48];
    char *p = u_back(d + 24, v);
    size_t n = (size_t)(d + 24 - p);
    if (!grow(b, 24))
        return;
    memcpy(b->p + b->len, p, 24);
    b->len += n;
    b->p[b->len] = 0;
}

static void key(struct sbuf *b, const char *k) { sb_key(b, false, k, strlen(k)); }

void sb_kv_u(struct sbuf *b, const char *k, uint64_t val)
{
    key(b, k);
    sb_u(b, val);
}

void sb_kv_i(struct sbuf *b, const char *k, int64_t val)
{
    key(b, k);
    sb_i(b, val);
}

void sb_time(struct sbuf *b, uint64_t t_ns)
{
    char d[32];
    unsigned f = (unsigned)(t_ns % 1000000000ULL / 1000ULL);   /* microseconds, six digits */
    char *p = d + sizeof d;
    for (int i = 0; i < 3; i++, f /= 100) {
        unsigned k = f % 100 * 2;
        *--p = digit_pairs[k + 1];
        *--p = digit_pairs[k];
    }
    *--p = '.';
    p = u_back(p, t_ns / 1000000000ULL);
    sb_raw(b, p, (size_t)(d + sizeof d - p));
}
