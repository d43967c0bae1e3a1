/* destsend.c — sending a network destination's buffer, without waiting: whole lines continued
 * from the exact byte on a stream (plain or TLS), whole-line datagrams on UDP; and noticing that
 * the receiver closed before writing to it (destnet.c has the buffer's rules). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "libc/libc.h"
#include "dest/dest.h"
#include "dest/destnet.h"

#define UDP_MAX 8192          /* whole lines per datagram, at most */
#define STREAM_CHUNK 65536    /* per send: other destinations get their turn */

size_t scope_lines_count(const char *p, size_t len)
{
    size_t c = 0;
    if (!p)   /* an empty buffer not allocated yet (memchr must not see NULL, even for 0 bytes) */
        return 0;
    for (const char *e = p + len; (p = memchr(p, '\n', (size_t)(e - p))); p++)
        c++;
    return c;
}

/* The longest run of whole lines of p that fits in room. */
size_t scope_lines_fit(const char *p, size_t len, size_t room)
{
    if (len <= room)
        return len;
    const char *nl = room ? memrchr(p, '\n', room) : NULL;
    return nl ? (size_t)(nl - p) + 1 : 0;
}

/* Lost mid-connection: what is buffered waits for the next one, after the backoff. */
void scope_dnet_lost(struct scope_dest *d, const char *op, const char *why)
{
    scope_conn_drop(d->net);
    scope_dest_went_down(d, op, why);
}

/* Drops the first out bytes' worth of whole lines from the buffer once they are on the wire. */
static void consumed(struct scope_dest *d, size_t upto)
{
    struct scope_net *n = d->net;
    const char *nl = upto ? memrchr(n->buf, '\n', upto) : NULL;
    if (!nl)
        return;
    size_t k = (size_t)(nl - n->buf) + 1;
    d->lines += scope_lines_count(n->buf, k);
    memmove(n->buf, n->buf + k, n->len - k);
    n->len -= k;
    n->out -= k < n->out ? k : n->out;
}

/* An orderly close by the receiver (its FIN, or TLS close_notify), a reset or an error. What it
 * sent us otherwise is read and ignored. */
static bool peer_gone(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    struct pollfd p = {.fd = n->fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) {
        int err = 0;
        socklen_t el = sizeof err;
        scope_real_getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        scope_dnet_lost(d, "write to", err ? scope_strerror(err) : "the receiver closed the connection");
        return true;
    }
    if (n->ssl) {
        if (!scope_tls_peer_gone(n->ssl))
            return false;
        scope_dnet_lost(d, "write to", "the receiver closed the TLS connection");
        return true;
    }
    char tmp[4096];
    for (int i = 0; i < 64; i++) {
        ssize_t r = scope_real_recv(n->fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (r > 0)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
        scope_dnet_lost(d, "write to", r == 0 ? "the receiver closed the connection" : scope_strerror(errno));
        return true;
    }
    return false;
}

static void send_stream(struct scope_dest *d, uint64_t now)
{
    struct scope_net *n = d->net;
    while (n->len > n->out) {
        size_t chunk = n->len - n->out;
        if (chunk > STREAM_CHUNK)
            chunk = STREAM_CHUNK;
        ssize_t w;
        if (n->ssl) {
            if (n->tls_retry)   /* OpenSSL wants the very same length again */
                chunk = n->tls_retry;
            w = scope_tls_write(n->ssl, n->buf + n->out, chunk);
            n->tls_retry = w == 0 ? chunk : 0;
            if (w == 0)
                break;
            if (w < 0) {
                consumed(d, n->out);   /* the whole lines written are not sent again */
                scope_dnet_lost(d, "write to", "TLS write failed");
                return;
            }
        } else {
            w = scope_real_send(n->fd, n->buf + n->out, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (w <= 0) {
                int e = w < 0 ? errno : 0;
                consumed(d, n->out);
                scope_dnet_lost(d, "write to", e ? scope_strerror(e) : "nothing written");
                return;
            }
        }
        n->out += (size_t)w;
        n->progress_ms = now;
    }
    consumed(d, n->out);
}

/* Datagrams of whole lines. A refusal (ICMP, reported on a later send) is counted and the
 * datagram sent again; the socket stays. */
static void send_datagrams(struct scope_dest *d, uint64_t now)
{
    struct scope_net *n = d->net;
    int refusals = 0;
    while (n->len > 0) {
        size_t dg = scope_lines_fit(n->buf, n->len, UDP_MAX);
        if (!dg) {   /* one line longer than a datagram: alone */
            const char *nl = memchr(n->buf, '\n', n->len);
            dg = nl ? (size_t)(nl - n->buf) + 1 : n->len;
        }
        ssize_t w = scope_real_send(n->fd, n->buf, dg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
            break;
        if (w < 0 && errno == ECONNREFUSED) {
            scope_dest_failed(d, "send to", scope_strerror(errno));
            if (++refusals > 2)
                break;
            continue;
        }
        if (w < 0 && errno != EMSGSIZE) {
            scope_dnet_lost(d, "send to", scope_strerror(errno));
            return;
        }
        size_t lines = scope_lines_count(n->buf, dg);
        if (w < 0)
            d->dropped += lines;   /* too long for any datagram */
        else
            d->lines += lines;
        memmove(n->buf, n->buf + dg, n->len - dg);
        n->len -= dg;
        n->progress_ms = now;
    }
}

void scope_dnet_flush(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    uint64_t now = scope_dest_mono_ms();
    if (n->phase != NP_UP || n->fresh)
        return;
    if (n->socktype == SOCK_DGRAM)
        send_datagrams(d, now);
    else if (!peer_gone(d))
        send_stream(d, now);
    d->buffered = n->len;
}
