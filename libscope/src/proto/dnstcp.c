/* dnstcp.c — DNS over TCP split into messages (dnstcp.h). A gap inside a message keeps what came
 * before it (a DNS message is read from its start: header, question, answers); a gap over a
 * length prefix loses the framing, and the direction is not parsed any further. */
#include <string.h>

#include "proto/dnstcp.h"

void scope_dnstcp_feed(struct scope_dnstcp *d, const unsigned char *p, size_t n, scope_dnstcp_cb cb,
                       void *ctx)
{
    size_t i = 0;
    while (i < n && !d->lost) {
        if (d->nlen < 2) {
            if (!p) {   /* the framing is gone */
                d->lost = true;
                return;
            }
            d->lenbuf[d->nlen++] = p[i++];
            if (d->nlen == 2) {
                d->want = (size_t)d->lenbuf[0] << 8 | d->lenbuf[1];
                d->got = d->kept = 0;
                d->gapped = false;
            }
        } else {
            size_t k = d->want - d->got < n - i ? d->want - d->got : n - i;
            if (!p) {
                d->gapped = true;
            } else if (!d->gapped && d->kept < sizeof d->msg) {
                size_t room = sizeof d->msg - d->kept, c = k < room ? k : room;
                memcpy(d->msg + d->kept, p + i, c);
                d->kept += c;
            }
            d->got += k;
            i += k;
        }
        if (d->nlen == 2 && d->got == d->want) {
            if (d->kept && cb)
                cb(ctx, d->msg, d->kept);
            d->nlen = 0;
        }
    }
}
