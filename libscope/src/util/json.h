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

void sb_raw(struct sbuf *b, const char *s, size_t n);
void sb_s(struct sbuf *b, const char *s);
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
/* A decimal number. */
void sb_u(struct sbuf *b, uint64_t v);
void sb_i(struct sbuf *b, int64_t v);
/* Length of the valid UTF-8 sequence s starts with (1–4), 0 when it is not one. */
size_t scope_utf8_seq(const unsigned char *s, size_t n);
/* Length of the longest prefix of s[0..n) that ends on a UTF-8 sequence boundary. */
size_t scope_utf8_cut(const unsigned char *s, size_t n);

#endif
