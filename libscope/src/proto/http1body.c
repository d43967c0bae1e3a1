/* http1body.c — HTTP/1.x framing for one direction of a connection (http.h): each piece fed goes
 * to the head being gathered (http1.c) or the body being skipped, by Content-Length, by chunked
 * framing (sizes, extensions, trailers) or until the connection closes; a gap the app's call
 * moved without our seeing it is skipped in a body of known length, and loses a head or chunked
 * framing (nothing more is parsed until a piece looks like a message start). */
#include <limits.h>
#include <string.h>

#include "proto/http.h"
#include "proto/http1int.h"

#define H1_CHUNK_EXT_MAX 4096

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t feed_chunked(struct scope_h1 *p, const unsigned char *b, size_t m)
{
    size_t k = 0;
    while (k < m && p->state == H1_CHUNKED) {
        unsigned char c = b[k];
        switch (p->chunk_state) {
        case CS_DATA: {
            size_t take = m - k;
            if ((long long)take > p->chunk_left)
                take = (size_t)p->chunk_left;
            k += take;
            p->chunk_left -= (long long)take;
            if (p->chunk_left == 0)
                p->chunk_state = CS_DATA_CR;
            break;
        }
        case CS_SIZE0:
        case CS_SIZE: {
            int v = hexval(c);
            k++;
            if (v >= 0) {
                if (p->chunk_left > (LLONG_MAX >> 4)) {
                    scope_h1_lose(p);
                    return m;
                }
                p->chunk_left = p->chunk_left * 16 + v;
                p->chunk_state = CS_SIZE;
            } else if (p->chunk_state == CS_SIZE0) {
                scope_h1_lose(p);
                return m;
            } else if (c == ';' || c == ' ' || c == '\t' || c == '\r') {
                p->chunk_state = CS_EXT;
                p->body_left = 0;
            } else if (c == '\n') {
                goto size_done;
            } else {
                scope_h1_lose(p);
                return m;
            }
            break;
        }
        case CS_EXT: {
            const unsigned char *nl = memchr(b + k, '\n', m - k);
            size_t end = nl ? (size_t)(nl - b) + 1 : m;
            p->body_left += (long long)(end - k);
            k = end;
            if (p->body_left > H1_CHUNK_EXT_MAX) {
                scope_h1_lose(p);
                return m;
            }
            if (nl)
                goto size_done;
            break;
        }
        case CS_DATA_CR:
            k++;
            if (c == '\r')
                p->chunk_state = CS_DATA_LF;
            else if (c == '\n') {
                p->chunk_state = CS_SIZE0;
                p->chunk_left = 0;
            } else {
                scope_h1_lose(p);
                return m;
            }
            break;
        case CS_DATA_LF:
            k++;
            if (c != '\n') {
                scope_h1_lose(p);
                return m;
            }
            p->chunk_state = CS_SIZE0;
            p->chunk_left = 0;
            break;
        case CS_TRAILER_BOL:
            if (c == '\r') {
                k++;
            } else if (c == '\n') {
                k++;
                scope_h1_to_head(p); /* the empty line ends the message */
            } else {
                p->chunk_state = CS_TRAILER_LINE;
            }
            break;
        case CS_TRAILER_LINE: {
            const unsigned char *nl = memchr(b + k, '\n', m - k);
            size_t end = nl ? (size_t)(nl - b) + 1 : m;
            p->body_left += (long long)(end - k);
            k = end;
            if (p->body_left > SCOPE_H1_HEAD_MAX) {
                scope_h1_lose(p);
                return m;
            }
            if (nl)
                p->chunk_state = CS_TRAILER_BOL;
            break;
        }
        default:
            scope_h1_lose(p);
            return m;
        }
        continue;
    size_done:
        p->body_left = 0;
        p->chunk_state = p->chunk_left == 0 ? CS_TRAILER_BOL : CS_DATA;
    }
    return k;
}

/* `gap` bytes after the last ones given were not seen. */
static void feed_gap(struct scope_h1 *p, size_t gap)
{
    switch (p->state) {
    case H1_BODY:
        if ((unsigned long long)gap < (unsigned long long)p->body_left)
            p->body_left -= (long long)gap;
        else if ((unsigned long long)gap == (unsigned long long)p->body_left)
            scope_h1_to_head(p);
        else
            scope_h1_lose(p);
        break;
    case H1_CHUNKED:
        if (p->chunk_state == CS_DATA && (unsigned long long)gap <= (unsigned long long)p->chunk_left) {
            p->chunk_left -= (long long)gap;
            if (p->chunk_left == 0)
                p->chunk_state = CS_DATA_CR;
        } else {
            scope_h1_lose(p);
        }
        break;
    case H1_UNTIL_CLOSE:
    case H1_LOST:
    case H1_UPGRADED:
        break;
    default: /* a head (or the start of the next one) was lost */
        scope_h1_lose(p);
        break;
    }
}

void scope_h1_feed(struct scope_h1 *p, const unsigned char *buf, size_t n, size_t total,
                   scope_http_cb cb, void *ctx)
{
    if (!buf)
        n = 0;
    if (total < n)
        total = n;
    if (p->state == H1_UPGRADED)
        return;
    if (p->state == H1_LOST && n > 0) {
        p->state = H1_RESYNC; /* a new piece: does it start a message? */
        p->len = 0;
    }
    size_t i = 0;
    while (i < n) {
        switch (p->state) {
        case H1_HEAD:
        case H1_RESYNC:
            i += scope_h1_feed_head(p, buf + i, n - i, cb, ctx);
            break;
        case H1_BODY: {
            size_t take = n - i;
            if ((long long)take > p->body_left)
                take = (size_t)p->body_left;
            i += take;
            p->body_left -= (long long)take;
            if (p->body_left == 0)
                scope_h1_to_head(p);
            break;
        }
        case H1_CHUNKED:
            i += feed_chunked(p, buf + i, n - i);
            break;
        case H1_UNTIL_CLOSE:
            i = n;
            break;
        default: /* lost or upgraded: the rest of this piece is not ours */
            i = n;
            break;
        }
    }
    if (total > n)
        feed_gap(p, total - n);
}
