/* httpparse — runs one of libscope's HTTP parsers (src/proto/http1.c, h2.c) over standard input and
 * prints one JSON line per message head it reports. Used by test/parsers.test.ts.
 *
 *   httpparse --h1-req|--h1-resp|--h2-client|--h2-server [--piece N] [--gap OFFSET:LEN]...
 *             [--head-response] [--connect-response] [--final] [--framing-only]
 *
 * --piece N          feed the input in pieces of N bytes (default: all of it in one piece)
 * --gap OFFSET:LEN   the LEN bytes at OFFSET are reported as moved but not copied: they end the
 *                    piece they start in (feed(n, total) with total - n = LEN), and the next piece
 *                    begins after them
 * --head-response    the callback answers true for responses (as for the answer to HEAD)
 * --connect-response the callback sets `upgraded` for 2xx responses (as for the answer to CONNECT)
 * --framing-only     HTTP/1: the parser's all_hdrs is cleared (only the headers that frame the
 *                    body are read; every message is printed with no headers)
 * --final            after the input, print {"final":true,"upgraded":…,"broken":…}
 * --detect           instead of parsing, print what scope_h1_is_request, scope_h1_is_response and
 *                    scope_h2_is_preface say about the whole input */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/proto/http.h"

enum mode { M_NONE, M_H1_REQ, M_H1_RESP, M_H2_CLIENT, M_H2_SERVER, M_DETECT };

struct gap {
    size_t off, len;
};

struct ctx {
    bool head_response;
    bool connect_response;
    struct scope_h1 *h1;
};

/* JSON string: valid UTF-8 passes, other bytes become \u00XX, controls are escaped. */
static void put_str(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    putchar('"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
            i++;
        } else if (c == '\n') {
            fputs("\\n", stdout);
            i++;
        } else if (c == '\r') {
            fputs("\\r", stdout);
            i++;
        } else if (c == '\t') {
            fputs("\\t", stdout);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            putchar(c);
            i++;
        } else {
            size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
            bool ok = len > 0 && c < 0xf5 && i + len <= n;
            for (size_t k = 1; ok && k < len; k++)
                ok = (p[i + k] & 0xc0) == 0x80;
            if (ok && len == 3) {
                unsigned c1 = p[i + 1];
                ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
            }
            if (ok && len == 4) {
                unsigned c1 = p[i + 1];
                ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
            }
            if (ok) {
                fwrite(p + i, 1, len, stdout);
                i += len;
            } else {
                printf("\\u%04x", c);
                i++;
            }
        }
    }
    putchar('"');
}

static void put_field(const char *k, const struct scope_str *v)
{
    printf(",\"%s\":", k);
    put_str(v->p, v->n);
}

static bool on_msg(void *vctx, const struct scope_http_msg *m)
{
    struct ctx *c = vctx;
    printf("{\"request\":%s,\"flavor\":%d,\"stream\":%u", m->request ? "true" : "false", m->flavor,
           (unsigned)m->stream);
    put_field("method", &m->method);
    put_field("target", &m->target);
    put_field("authority", &m->authority);
    put_field("scheme", &m->scheme);
    printf(",\"status\":%d", m->status);
    put_field("reason", &m->reason);
    printf(",\"content_length\":%lld,\"end_stream\":%s,\"headers\":[", m->content_length,
           m->end_stream ? "true" : "false");
    for (int i = 0; i < m->nhdrs; i++) {
        printf(i ? ",[" : "[");
        put_str(m->hdrs[i].name.p, m->hdrs[i].name.n);
        putchar(',');
        put_str(m->hdrs[i].value.p, m->hdrs[i].value.n);
        putchar(']');
    }
    printf("]}\n");
    if (!m->request && c->connect_response && c->h1 && m->status >= 200 && m->status < 300)
        c->h1->upgraded = true;
    return !m->request && c->head_response;
}

static int usage(void)
{
    fprintf(stderr, "usage: httpparse --h1-req|--h1-resp|--h2-client|--h2-server|--detect [--piece N] "
                    "[--gap OFFSET:LEN]... [--head-response] [--connect-response] [--final]\n");
    return 2;
}

static int cmp_gap(const void *a, const void *b)
{
    const struct gap *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

int main(int argc, char **argv)
{
    enum mode mode = M_NONE;
    size_t piece = 0;
    struct gap gaps[32];
    size_t ngaps = 0;
    bool final = false, framing_only = false;
    struct ctx ctx = {false, false, NULL};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--h1-req"))
            mode = M_H1_REQ;
        else if (!strcmp(a, "--h1-resp"))
            mode = M_H1_RESP;
        else if (!strcmp(a, "--h2-client"))
            mode = M_H2_CLIENT;
        else if (!strcmp(a, "--h2-server"))
            mode = M_H2_SERVER;
        else if (!strcmp(a, "--detect"))
            mode = M_DETECT;
        else if (!strcmp(a, "--head-response"))
            ctx.head_response = true;
        else if (!strcmp(a, "--connect-response"))
            ctx.connect_response = true;
        else if (!strcmp(a, "--final"))
            final = true;
        else if (!strcmp(a, "--framing-only"))
            framing_only = true;
        else if (!strcmp(a, "--piece") && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || v == 0)
                return usage();
            piece = (size_t)v;
        } else if (!strcmp(a, "--gap") && i + 1 < argc) {
            unsigned long long off, len;
            char tail;
            if (ngaps == sizeof gaps / sizeof gaps[0] ||
                sscanf(argv[++i], "%llu:%llu%c", &off, &len, &tail) != 2 || len == 0)
                return usage();
            gaps[ngaps].off = (size_t)off;
            gaps[ngaps].len = (size_t)len;
            ngaps++;
        } else
            return usage();
    }
    if (mode == M_NONE)
        return usage();
    qsort(gaps, ngaps, sizeof gaps[0], cmp_gap);

    size_t cap = 1 << 16, n = 0;
    unsigned char *in = malloc(cap);
    if (!in)
        return 1;
    for (;;) {
        if (n == cap) {
            unsigned char *nb = realloc(in, cap *= 2);
            if (!nb)
                return 1;
            in = nb;
        }
        size_t r = fread(in + n, 1, cap - n, stdin);
        if (r == 0)
            break;
        n += r;
    }
    if (mode == M_DETECT) {
        printf("{\"is_request\":%s,\"is_response\":%s,\"is_preface\":%s}\n",
               scope_h1_is_request(in, n) ? "true" : "false",
               scope_h1_is_response(in, n) ? "true" : "false",
               scope_h2_is_preface(in, n) ? "true" : "false");
        free(in);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (piece == 0)
        piece = n ? n : 1;

    struct scope_h1 *h1 = NULL;
    struct scope_h2 *h2 = NULL;
    if (mode == M_H1_REQ || mode == M_H1_RESP) {
        h1 = malloc(sizeof *h1);
        if (!h1)
            return 1;
        scope_h1_init(h1, mode == M_H1_RESP);
        h1->all_hdrs = !framing_only;
        ctx.h1 = h1;
    } else {
        h2 = malloc(sizeof *h2);
        if (!h2)
            return 1;
        scope_h2_init(h2, mode == M_H2_CLIENT);
    }

    size_t pos = 0, g = 0;
    while (pos < n) {
        while (g < ngaps && gaps[g].off + gaps[g].len <= pos)
            g++;
        size_t end = pos + piece < n ? pos + piece : n;
        size_t given = end - pos, total = given, next = end;
        if (g < ngaps && gaps[g].off < end) {
            /* the gap starts in this piece (or covers its start): it ends the piece */
            size_t gs = gaps[g].off > pos ? gaps[g].off : pos;
            size_t ge = gaps[g].off + gaps[g].len < n ? gaps[g].off + gaps[g].len : n;
            given = gs - pos;
            total = given + (ge - gs);
            next = ge;
            g++;
        }
        if (h1)
            scope_h1_feed(h1, in + pos, given, total, on_msg, &ctx);
        else
            scope_h2_feed(h2, in + pos, given, total, on_msg, &ctx);
        pos = next;
    }
    if (final)
        printf("{\"final\":true,\"upgraded\":%s,\"broken\":%s}\n", h1 && h1->upgraded ? "true" : "false",
               h2 && h2->broken ? "true" : "false");
    if (h2)
        scope_h2_free(h2);
    free(h1);
    free(h2);
    free(in);
    return fflush(stdout) == 0 ? 0 : 1;
}
