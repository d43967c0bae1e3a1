/* netrec.c — the slow half of the socket, TLS and resolver wrappers: a socket's lifetime and
 * class, its two ends once known, its bytes (counted per descriptor and per class, and copied in
 * pieces for protocol detection and payloads), and resolver answers. Still the app's thread:
 * the record.c rules hold (no malloc, no lock, no formatting, errno kept, signal-safe). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "scope.h"

__thread int scope_last_sock __attribute__((tls_model("initial-exec"))) = -1;

static uint32_t class_bits(int domain, int type)
{
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int c = SCOPE_NC_OTHER;
    if (domain == AF_INET || domain == AF_INET6)
        c = type == SOCK_STREAM ? SCOPE_NC_INET_TCP : type == SOCK_DGRAM ? SCOPE_NC_INET_UDP : c;
    else if (domain == AF_UNIX)
        c = type == SOCK_DGRAM ? SCOPE_NC_UNIX_UDP : SCOPE_NC_UNIX_TCP;
    return SCOPE_FD_SOCK | SCOPE_FD_CLASS_BITS(c) | (type == SOCK_DGRAM ? SCOPE_FD_DGRAM : 0);
}

static void sock_rec(enum scope_fn fn, int fd, uint64_t chan, uint32_t flags)
{
    uint64_t ticket;
    struct scope_rec *r;
    if (scope_hot.rec_net && (r = scope_rec_claim(SCOPE_REC_SOCK, fn, fd, &ticket))) {
        r->chan = chan;
        r->aux = (int32_t)flags;
        scope_ring_publish(ticket);
    }
}

void scope_net_socket(enum scope_fn fn, int fd, int domain, int type)
{
    if (fd < 0 || !scope_fdc(fd))
        return;
    int saved_errno = errno;
    uint32_t fl = class_bits(domain, type);
    scope_stream_reset(fd, -1);
    sock_rec(fn, fd, scope_new_life(fd, fl), fl);
    errno = saved_errno;
}

static uint16_t port_of(const struct sockaddr *sa)
{
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return 0;
}

/* A StatsD collector on this host (the statsd watch): port 8125 of 127.0.0.0/8, ::1 or
 * ::ffff:127.0.0.0/104. A few compares: this runs on each datagram the app sends. */
static bool statsd_peer(const struct sockaddr *sa)
{
    if (!sa || port_of(sa) != SCOPE_STATSD_PORT)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Proxy reporting (interpose/proxy.c): a call's two ends as the supervisor read them. */
static struct sockaddr_storage proxy_local, proxy_peer;
static socklen_t proxy_local_len, proxy_peer_len;

void scope_proxy_ends(const void *local, unsigned llen, const void *peer, unsigned plen)
{
    proxy_local_len = local && llen <= sizeof proxy_local ? (socklen_t)llen : 0;
    proxy_peer_len = peer && plen <= sizeof proxy_peer ? (socklen_t)plen : 0;
    if (proxy_local_len)
        memcpy(&proxy_local, local, proxy_local_len);
    if (proxy_peer_len)
        memcpy(&proxy_peer, peer, proxy_peer_len);
}

/* One end of the socket at fd (peer: its peer's) into ss, its length (0: not known): the kernel's,
 * or for a process followed from outside the one the supervisor read (proxy.c). */
static socklen_t sock_end(int fd, bool peer, struct sockaddr_storage *ss)
{
    if (scope_subject()) {
        socklen_t n = peer ? proxy_peer_len : proxy_local_len;
        memcpy(ss, peer ? &proxy_peer : &proxy_local, n);
        return n;
    }
    socklen_t n = sizeof *ss;
    int r = peer ? getpeername(fd, (struct sockaddr *)ss, &n) : getsockname(fd, (struct sockaddr *)ss, &n);
    return r == 0 ? n : 0;
}

/* The CONN record: both ends, each as a length byte and the sockaddr. */
static void conn_rec(enum scope_fn fn, int fd, uint64_t chan, uint32_t flags,
                     const struct sockaddr *local, socklen_t llen, const struct sockaddr *peer,
                     socklen_t plen)
{
    uint64_t ticket;
    struct scope_rec *r;
    if (!scope_hot.rec_net || !(r = scope_rec_claim(SCOPE_REC_CONN, fn, fd, &ticket)))
        return;
    r->chan = chan;
    r->aux = (int32_t)flags;
    size_t at = 0;
    const struct sockaddr *sa[2] = {local, peer};
    socklen_t len[2] = {llen, plen};
    for (int i = 0; i < 2; i++) {
        size_t n = sa[i] && len[i] <= sizeof(struct sockaddr_storage) ? len[i] : 0;
        r->data[at++] = (char)n;
        if (n)
            memcpy(r->data + at, sa[i], n);
        at += n;
    }
    r->len = (uint32_t)at;
    scope_ring_publish(ticket);
}

/* Copies wanted on a stream socket from the moment its ends are known. */
static uint32_t copy_bits(uint32_t fl, const struct sockaddr *peer)
{
    if (fl & SCOPE_FD_DGRAM)   /* datagrams are looked at one by one (DNS, StatsD), or all (payloads) */
        return (scope_hot.payload ? SCOPE_FD_ALL : 0) |
               (scope_hot.rec_dns && scope_dns_port(port_of(peer)) ? SCOPE_FD_COPY : 0) |
               (scope_hot.statsd && statsd_peer(peer) ? SCOPE_FD_COPY : 0);
    return (scope_hot.copy ? SCOPE_FD_COPY | SCOPE_FD_TLSCOPY : 0) |
           (scope_hot.payload ? SCOPE_FD_ALL | SCOPE_FD_TLSALL : 0);
}

/* Marks fd connected (once) and records its ends: local from the kernel, the peer as given or
 * from the kernel. */
static void connected(enum scope_fn fn, int fd, struct scope_fdc *c, const struct sockaddr *peer,
                      socklen_t plen, uint32_t extra)
{
    uint64_t chan = atomic_load_explicit(&c->chan, memory_order_relaxed);
    uint32_t fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
    if (!chan || !(fl & SCOPE_FD_SOCK) || (fl & SCOPE_FD_CONN))
        return;
    struct sockaddr_storage local, p;
    socklen_t llen = sock_end(fd, false, &local);
    if (!peer || !plen) {
        plen = sock_end(fd, true, &p);
        peer = plen ? (struct sockaddr *)&p : NULL;
    }
    uint32_t add = SCOPE_FD_CONN | extra | (extra & SCOPE_FD_LISTEN ? 0 : copy_bits(fl, peer));
    fl = atomic_fetch_or_explicit(&c->flags, add, memory_order_relaxed) | add;
    conn_rec(fn, fd, chan, fl, (struct sockaddr *)&local, llen, peer, plen);
}

/* A connect that has not succeeded (yet): its ends for the reporter, which then says no
 * net.open but names them in the connect's net.error, if one comes. */
static void attempt(int fd, struct scope_fdc *c, const struct sockaddr *peer, socklen_t plen)
{
    uint64_t chan = atomic_load_explicit(&c->chan, memory_order_relaxed);
    uint32_t fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
    if (!chan || !(fl & SCOPE_FD_SOCK) || (fl & SCOPE_FD_CONN))
        return;
    struct sockaddr_storage local;
    socklen_t llen = sock_end(fd, false, &local);
    conn_rec(SCOPE_FN_connect, fd, chan, fl | SCOPE_FD_PENDING, (struct sockaddr *)&local, llen, peer, plen);
}

/* A connect's outcome became known (err 0: connected). Whoever clears the mark reports it, once. */
static void settle(int fd, struct scope_fdc *c, int err)
{
    uint32_t old = atomic_fetch_and_explicit(&c->flags, ~(uint32_t)SCOPE_FD_PENDING, memory_order_relaxed);
    if (!(old & SCOPE_FD_PENDING))
        return;
    if (!err) {
        connected(SCOPE_FN_connect, fd, c, NULL, 0, 0);
        return;
    }
    scope_net_err(SCOPE_NETERR_CONN);
    scope_fail_any(SCOPE_FN_connect, fd, -1, NULL, err);
}

void scope_net_connect(int fd, const struct sockaddr *peer, socklen_t plen, int r, int err)
{
    struct scope_fdc *c = scope_fdc(fd);
    int saved_errno = errno;
    bool known = c && atomic_load_explicit(&c->chan, memory_order_relaxed);
    if (r == 0 || err == EISCONN) {   /* connected (EISCONN: a pending connect asked again) */
        if (known && r == 0 && peer && peer->sa_family == AF_UNSPEC)
            ;   /* a datagram socket's peer dissolved: no connection */
        else if (known && (atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_PENDING))
            settle(fd, c, 0);
        else if (known && r == 0)
            connected(SCOPE_FN_connect, fd, c, peer, plen, 0);
    } else if (err == EINPROGRESS || err == EINTR) {   /* goes on without the app: an outcome later */
        if (known) {
            atomic_fetch_or_explicit(&c->flags, SCOPE_FD_PENDING, memory_order_relaxed);
            attempt(fd, c, peer, plen);
        }
    } else if (err != EALREADY) {   /* failed (EAGAIN too: a unix listener's full backlog) */
        if (known) {
            atomic_fetch_or_explicit(&c->flags, SCOPE_FD_PENDING, memory_order_relaxed);
            attempt(fd, c, peer, plen);
            settle(fd, c, err);
        } else {
            scope_net_err(SCOPE_NETERR_CONN);
            scope_fail_any(SCOPE_FN_connect, fd, -1, NULL, err);
        }
    }
    errno = saved_errno;
}

void scope_net_sockopt(int fd, int level, int opt, int r, const void *val, const socklen_t *len)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (r != 0 || level != SOL_SOCKET || opt != SO_ERROR || !val || !len || *len < sizeof(int) || !c ||
        !(atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_PENDING))
        return;
    int saved_errno = errno, err;
    memcpy(&err, val, sizeof err);
    struct sockaddr_storage ss;
    if (err)
        settle(fd, c, err);
    else if (sock_end(fd, true, &ss))   /* else still under way */
        settle(fd, c, 0);
    errno = saved_errno;
}

void scope_net_closing(int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c || !(atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_PENDING))
        return;
    int saved_errno = errno, err = 0;
    socklen_t el = sizeof err;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    /* the app closes a connect it never asked about: the kernel knows how it went; still under
     * way, it was given up (a timeout of the app's own): EINPROGRESS says so */
    if (scope_real_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = 0;
    if (!err && getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        err = EINPROGRESS;
    settle(fd, c, err);
    errno = saved_errno;
}

void scope_net_listen(enum scope_fn fn, int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c)
        return;
    int saved_errno = errno;
    connected(fn, fd, c, NULL, 0, SCOPE_FD_LISTEN);
    errno = saved_errno;
}

void scope_net_accepted(enum scope_fn fn, int lfd, int fd, const struct sockaddr *peer, socklen_t plen)
{
    struct scope_fdc *c = scope_fdc(fd), *l = scope_fdc(lfd);
    if (fd < 0 || !c)
        return;
    int saved_errno = errno;
    uint32_t lf = l ? atomic_load_explicit(&l->flags, memory_order_relaxed) : 0;
    uint32_t fl;
    if (lf & SCOPE_FD_SOCK) {
        fl = SCOPE_FD_SOCK | SCOPE_FD_CLASS_BITS(SCOPE_FD_CLASS(lf)) | (lf & SCOPE_FD_DGRAM);
    } else {   /* a listening socket from before us (inherited, or made before the fork) */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int type = SOCK_STREAM;
        socklen_t tl = sizeof type;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
            ss.ss_family = AF_UNSPEC;
        scope_real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
        fl = class_bits(ss.ss_family, type);
    }
    scope_stream_reset(fd, -1);
    uint64_t chan = scope_new_life(fd, fl);
    sock_rec(fn, fd, chan, fl);
    connected(fn, fd, c, peer, plen, 0);
    errno = saved_errno;
}

static struct scope_tstat *my_stat(void)
{
    struct scope_tstat *s = scope_my_stat;
    return s ? s : scope_stat_claim();
}

void scope_net_err(int cls)
{
    if (!scope_hot.met_net)
        return;
    struct scope_tstat *s = my_stat();
    scope_add(&s->neterr[cls], 1, s->shared);
}

/* The first `cap` bytes of what one call moved, one record per piece. */
static void data_recs(enum scope_fn fn, int fd, uint64_t chan, int dflags, const void *buf,
                      const struct iovec *iov, int iovcnt, size_t total, size_t cap,
                      const struct sockaddr *sa, socklen_t salen)
{
    /* no bytes at hand (sendfile, splice): one empty piece tells the reporter of the gap */
    size_t want = !buf && !iov ? 0 : total < cap ? total : cap, off = 0;
    uint64_t id = 0, t_ns = 0;   /* the first piece's ticket + 1 names the call in every piece */
    if (sa && salen > sizeof(struct sockaddr_storage))
        sa = NULL;
    do {
        uint64_t ticket;
        struct scope_rec *r = scope_rec_claim_at(SCOPE_REC_DATA, fn, fd, &ticket, t_ns);
        if (!r)
            return;   /* counted as a drop; the reporter sees the gap */
        if (!id) {
            id = ticket + 1;
            t_ns = r->t_ns;
        }
        size_t at = 0;
        int fl = dflags | (off == 0 ? SCOPE_DATA_FIRST : 0);
        if (off == 0 && sa) {
            r->data[0] = (char)salen;
            memcpy(r->data + 1, sa, salen);
            at = 1 + salen;
            fl |= SCOPE_DATA_ADDR;
        }
        size_t n = want - off < SCOPE_REC_DATA - at ? want - off : SCOPE_REC_DATA - at;
        scope_take(r->data + at, buf, iov, iovcnt, off, n);
        off += n;
        if (off >= want)
            fl |= SCOPE_DATA_LAST;
        r->chan = chan;
        r->aux = fl;
        r->len = (uint32_t)(at + n);
        r->rbytes = total;
        r->rops = off - n;
        r->wbytes = want;
        r->wops = id;
        scope_ring_publish(ticket);
    } while (off < want);
}

SCOPE_HOT void scope_net_io(enum scope_fn fn, int fd, bool tx, ssize_t r, int err, const void *buf,
                  const struct iovec *iov, int iovcnt, const struct sockaddr *sa, socklen_t salen,
                  int msgflags)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c)
        return;
    int saved_errno = errno;
    uint32_t fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
    uint64_t chan = atomic_load_explicit(&c->chan, memory_order_relaxed);
    scope_last_sock = fd;
    if (SCOPE_UNLIKELY(fl & SCOPE_FD_PENDING)) {   /* the first I/O tells how the connect went */
        bool failed = r < 0 && err != EAGAIN && err != EINTR && err != EINPROGRESS && err != ENOTCONN;
        if (r >= 0 || failed)
            settle(fd, c, failed ? err : 0);
        if (failed) {   /* the connect's error, said once, as the connect's */
            errno = saved_errno;
            return;
        }
        fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
    }
    if (r < 0) {
        if (err != EAGAIN && err != EINTR && err != EINPROGRESS) {
            scope_net_err(SCOPE_NETERR_RXTX);
            scope_fail(fn, fd, -1, NULL, err);
        }
        errno = saved_errno;
        return;
    }
    if (!chan || (msgflags & MSG_PEEK)) {   /* peeked bytes are counted when really read */
        errno = saved_errno;
        return;
    }
    atomic_fetch_add_explicit(tx ? &c->wbytes : &c->rbytes, (uint64_t)r, memory_order_relaxed);
    atomic_fetch_add_explicit(tx ? &c->wops : &c->rops, 1, memory_order_relaxed);
    if (!tx && r == 0 && !(fl & SCOPE_FD_DGRAM))
        atomic_fetch_or_explicit(&c->flags, SCOPE_FD_EOF, memory_order_relaxed);
    if (scope_hot.met_net) {
        struct scope_tstat *s = my_stat();
        struct scope_netio *n = &s->net[SCOPE_FD_CLASS(fl)][0][tx];
        scope_add(&n->bytes, (uint64_t)r, s->shared);
        scope_add(&n->ops, 1, s->shared);
    }
    /* a datagram socket's first peer is its connection, for net.open */
    if ((fl & SCOPE_FD_DGRAM) && !(fl & SCOPE_FD_CONN) && sa && salen) {
        connected(fn, fd, c, sa, salen, 0);
        fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
    }
    if (!(fl & SCOPE_FD_DGRAM)) {
        if (r > 0 && scope_hot.rec_net)
            scope_stream_copy(fn, fd, chan, 0, tx, buf, iov, iovcnt, (size_t)r);
        errno = saved_errno;
        return;
    }
    size_t cap = fl & SCOPE_FD_ALL ? SCOPE_COPY_ALL : fl & SCOPE_FD_COPY ? SCOPE_COPY_HEAD : 0;
    if (!cap && scope_hot.rec_dns && scope_dns_port(port_of(sa)))
        cap = SCOPE_COPY_HEAD;
    /* the app's own StatsD metrics: up to 4 KiB of each datagram (statsd.c cuts at a line) */
    if (!cap && tx && scope_hot.statsd && statsd_peer(sa))
        cap = SCOPE_COPY_HEAD;
    if (cap && r > 0 && scope_hot.rec_net)
        data_recs(fn, fd, chan, tx ? SCOPE_DATA_TX : 0, buf, iov, iovcnt, (size_t)r, cap, sa, salen);
    errno = saved_errno;
}

void scope_tls_io(enum scope_fn fn, int fd, bool tx, ssize_t r, const void *buf)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c || r <= 0)
        return;
    int saved_errno = errno;
    uint32_t fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
    uint64_t chan = atomic_load_explicit(&c->chan, memory_order_relaxed);
    if (chan && (fl & SCOPE_FD_SOCK)) {
        if (scope_hot.met_net) {
            struct scope_tstat *s = my_stat();
            struct scope_netio *n = &s->net[SCOPE_FD_CLASS(fl)][1][tx];
            scope_add(&n->bytes, (uint64_t)r, s->shared);
            scope_add(&n->ops, 1, s->shared);
        }
        if (scope_hot.rec_net)
            scope_stream_copy(fn, fd, chan, 1, tx, buf, NULL, 0, (size_t)r);
    }
    errno = saved_errno;
}

static size_t put_addr(char *dst, size_t room, int family, const void *addr)
{
    size_t n = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (!n || room < n + 1)
        return 0;
    dst[0] = (char)family;
    memcpy(dst + 1, addr, n);
    return n + 1;
}

void scope_dns_done(enum scope_fn fn, const char *name, uint64_t t0, int err,
                    const struct addrinfo *ai, const struct hostent *he)
{
    if (!name || !scope_hot.rec_dns)
        return;
    int saved_errno = errno;
    uint64_t ticket;
    /* wall-clock ns, not a cycle stamp: the lookup's duration is taken from it */
    struct scope_rec *r = scope_rec_claim_at(SCOPE_REC_DNS, fn, -1, &ticket, scope_now_ns());
    if (r) {
        uint64_t end = scope_mono_ns();
        r->t_ns -= end - t0;   /* the request's time */
        r->rbytes = end - t0;
        r->aux = err;
        size_t n = strnlen(name, 255);
        memcpy(r->data, name, n);
        r->data[n++] = 0;
        for (; ai; ai = ai->ai_next) {
            if (!ai->ai_addr)
                continue;
            /* getaddrinfo repeats each address once per socket type */
            size_t k = ai->ai_family == AF_INET
                           ? put_addr(r->data + n, SCOPE_REC_DATA - n, AF_INET,
                                      &((struct sockaddr_in *)ai->ai_addr)->sin_addr)
                       : ai->ai_family == AF_INET6
                           ? put_addr(r->data + n, SCOPE_REC_DATA - n, AF_INET6,
                                      &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr)
                           : 0;
            bool seen = false;
            for (size_t at = strnlen(r->data, 255) + 1; k && at < n; at += (r->data[at] == AF_INET ? 5 : 17))
                if (!memcmp(r->data + at, r->data + n, k))
                    seen = true;
            if (!seen)
                n += k;
        }
        for (char **a = he ? he->h_addr_list : NULL; a && *a; a++)
            n += put_addr(r->data + n, SCOPE_REC_DATA - n, he->h_addrtype, *a);
        r->len = (uint32_t)n;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}
