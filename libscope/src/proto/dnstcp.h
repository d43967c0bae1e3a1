/* dnstcp.h — DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message is preceded by its length in
 * two bytes. Splits one direction of a connection's bytes, as the reporter gets them (pieces,
 * and gaps where bytes were not copied), into messages for the DNS packet parser. Reporting thread
 * only; no allocation. */
#ifndef SCOPE_DNSTCP_H
#define SCOPE_DNSTCP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCOPE_DNSTCP_KEEP 4096   /* bytes of a message kept (its header, question, first answers) */

struct scope_dnstcp {
    uint8_t lenbuf[2];
    unsigned nlen;          /* bytes of the length prefix seen */
    size_t want, got;       /* the message's length; its bytes seen (or skipped) so far */
    size_t kept;            /* its bytes in msg (a gap ends what is kept) */
    bool gapped, lost;      /* a gap inside this message; a gap over a length prefix (no more) */
    unsigned char msg[SCOPE_DNSTCP_KEEP];
};

/* A whole message (or its first `n` bytes, the rest not copied). */
typedef void (*scope_dnstcp_cb)(void *ctx, const unsigned char *msg, size_t n);

/* n bytes at p (p NULL: a gap of n bytes not copied). */
void scope_dnstcp_feed(struct scope_dnstcp *d, const unsigned char *p, size_t n, scope_dnstcp_cb cb,
                       void *ctx);
#endif
