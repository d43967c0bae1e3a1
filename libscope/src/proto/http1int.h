/* http1int.h — what the two halves of the HTTP/1.x parser share (private to them): its states,
 * the framing of a chunked body, and the moves between heads and bodies. http1.c gathers and
 * parses heads (start line and headers) and decides the framing of the body that follows;
 * http1body.c feeds a piece to the head or body its state says, skips bodies and follows gaps. */
#ifndef SCOPE_HTTP1INT_H
#define SCOPE_HTTP1INT_H
#include <stddef.h>

#include "proto/http.h"

enum {
    H1_HEAD = 1,    /* gathering a head */
    H1_RESYNC,      /* gathering a head that began a piece after a loss: stricter start check */
    H1_BODY,        /* body_left bytes of body to skip */
    H1_CHUNKED,     /* chunked body, chunk_state below */
    H1_UNTIL_CLOSE, /* a response body delimited by the end of the connection */
    H1_LOST,        /* out of sync: waiting for the start of a piece */
    H1_UPGRADED,    /* no longer HTTP/1 */
};

enum {
    CS_SIZE0 = 1,    /* chunk-size, no digit yet (chunk_left is 0) */
    CS_SIZE,         /* chunk-size digits */
    CS_EXT,          /* chunk extensions up to the line end (body_left counts them) */
    CS_DATA,         /* chunk_left bytes of chunk data */
    CS_DATA_CR,      /* the CRLF after chunk data */
    CS_DATA_LF,
    CS_TRAILER_BOL,  /* start of a trailer line (or the final empty line) */
    CS_TRAILER_LINE, /* inside a trailer line (body_left counts the trailer bytes) */
};

/* A new head is awaited; the body framing is forgotten. */
void scope_h1_to_head(struct scope_h1 *p);
/* Out of sync: nothing is parsed until a piece begins with what looks like a message start. */
void scope_h1_lose(struct scope_h1 *p);
/* Head bytes; returns how many of the m at b were used. */
size_t scope_h1_feed_head(struct scope_h1 *p, const unsigned char *b, size_t m, scope_http_cb cb,
                          void *ctx);
#endif
