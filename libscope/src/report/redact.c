/* redact.c — the C copy of @scope/core's redactArgs (packages/core/src/redact.ts has the rules):
 * run once per process image on the command line read at start, never on the hot path. */
#include <string.h>

#include "report/redact.h"

#define MARK "[REDACTED]"

/* The secret-looking words: scope-snapshot's environment redaction uses the same list. */
static const char *const words[] = {"pass", "secret", "token", "key", "credential", "auth",
                                    "cookie", "session"};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool secret(const char *s, size_t n)
{
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= n; i++) {
            size_t k = 0;
            while (k < wl && lower(s[i + k]) == words[w][k])
                k++;
            if (k == wl)
                return true;
        }
    }
    return false;
}

struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    size_t room = o->cap - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* URL user:password@ and secret query parameters, anywhere in one argument. */
static void scan(struct out *o, const char *a, size_t n)
{
    bool query = false;
    size_t k = 0;
    while (k < n) {
        if (k + 3 <= n && !memcmp(a + k, "://", 3)) {
            put(o, "://", 3);
            k += 3;
            size_t e = k, colon = n;
            while (e < n && !strchr("/?#@", a[e])) {
                if (a[e] == ':' && colon == n)
                    colon = e;
                e++;
            }
            if (e < n && a[e] == '@' && colon < e) {
                put(o, a + k, colon - k);
                puts_(o, ":" MARK "@");
                k = e + 1;
            }
            continue;
        }
        char c = a[k];
        if (c == '?' || (c == '&' && query)) {
            query = true;
            put(o, &c, 1);
            size_t s = ++k;
            while (k < n && name_char(a[k]))
                k++;
            put(o, a + s, k - s);
            if (k < n && a[k] == '=' && k > s && secret(a + s, k - s)) {
                puts_(o, "=" MARK);
                for (k++; k < n && a[k] != '&' && a[k] != '#' && a[k] != ' '; k++)
                    ;
            }
            continue;
        }
        put(o, &c, 1);
        k++;
    }
}

/* One argument; *pending: the previous one was a bare secret long option (--password VALUE). */
static void one(struct out *o, const char *a, size_t n, bool *pending)
{
    if (*pending && !(n && a[0] == '-')) {
        *pending = false;
        puts_(o, MARK);
        return;
    }
    *pending = false;
    size_t i = 0;
    while (i < n && i < 2 && a[i] == '-')
        i++;
    size_t j = i;
    while (j < n && name_char(a[j]))
        j++;
    if (j > i && j < n && a[j] == '=' && secret(a + i, j - i)) {   /* --password=x, token=x */
        put(o, a, j);
        puts_(o, "=" MARK);
        return;
    }
    if (i == 2 && j == n && j > i && secret(a + i, j - i)) {   /* --password x */
        put(o, a, n);
        *pending = true;
        return;
    }
    if (i == 0 && j > 0 && j < n && a[j] == ':' && !(j + 1 < n && a[j + 1] == '/') &&
        secret(a, j)) {   /* a header: Authorization: Bearer x */
        put(o, a, j);
        puts_(o, ": " MARK);
        return;
    }
    scan(o, a, n);
}

void scope_redact_cmdline(const char *raw, size_t n, char *out, size_t cap, bool redact)
{
    struct out o = {out, 0, cap};
    bool pending = false;
    while (n > 0 && raw[n - 1] == 0)
        n--;
    for (size_t at = 0, first = 1; at <= n; first = 0) {
        const char *end = memchr(raw + at, 0, n - at);
        size_t len = end ? (size_t)(end - (raw + at)) : n - at;
        if (!first)
            put(&o, " ", 1);
        if (redact)
            one(&o, raw + at, len, &pending);
        else
            put(&o, raw + at, len);
        at += len + 1;
    }
    out[o.len] = 0;
}
