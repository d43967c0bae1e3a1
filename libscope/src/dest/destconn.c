/* destconn.c — bringing a network destination's connection up, a little each turn of the
 * reporting loop, never waiting: the URL's address (a literal, or a lookup on a helper thread),
 * a non-blocking connect completed across turns, then for tls:// a non-blocking handshake. A
 * pending lookup, connect or handshake is given up after SCOPE_CONNECT_TIMEOUT_SECS.
 *
 * Why a helper thread for host names and not getaddrinfo_a: getaddrinfo_a lives in libanl on the
 * glibc versions before 2.34 (libscope links nothing but libc), and it runs the lookup on a thread
 * of its own making, without our thread guard, so the lookup would be recorded as the app's DNS
 * events. Our thread sets the guard (the getaddrinfo wrapper then just calls through), blocks every
 * signal (the app's signals are for the app's threads), lives for one lookup and shares only a
 * small reference-counted result with the reporting thread, which never waits for it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "dest/dest.h"
#include "dest/destnet.h"
#include "scope.h"

struct scope_resolve {
    _Atomic int refs;      /* the reporting thread's and the helper's */
    _Atomic int done;
    char host[256], port[8];
    int socktype, err, sys_err;   /* sys_err: the helper's errno for EAI_SYSTEM */
    int n;
    struct sockaddr_storage addr[SCOPE_NET_MAX_ADDRS];
    socklen_t alen[SCOPE_NET_MAX_ADDRS];
};

static void res_unref(struct scope_resolve *r)
{
    if (atomic_fetch_sub(&r->refs, 1) == 1)
        free(r);
}

static void *resolver(void *arg)
{
    struct scope_resolve *r = arg;
    scope_guard = 1;   /* our own lookup: not the app's DNS */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = r->socktype}, *ai = NULL;
    r->err = scope_real_getaddrinfo(r->host, r->port, &hints, &ai);
    r->sys_err = errno;
    for (struct addrinfo *a = ai; a && r->n < SCOPE_NET_MAX_ADDRS; a = a->ai_next)
        if (a->ai_addrlen <= sizeof r->addr[0]) {
            memcpy(&r->addr[r->n], a->ai_addr, a->ai_addrlen);
            r->alen[r->n++] = a->ai_addrlen;
        }
    if (ai)
        freeaddrinfo(ai);
    atomic_store(&r->done, 1);
    res_unref(r);
    return NULL;
}

static bool resolve_start(struct scope_net *n, char *why, size_t whylen)
{
    struct scope_resolve *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    snprintf(r->host, sizeof r->host, "%s", n->host);
    snprintf(r->port, sizeof r->port, "%s", n->port);
    r->socktype = n->socktype;
    atomic_store(&r->refs, 2);
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);   /* NSS modules want some room */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t, &attr, resolver, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(r);
        snprintf(why, whylen, "cannot start a lookup: %s", scope_strerror(rc));
        return false;
    }
    n->res = r;
    return true;
}

/* Parses unix:///path, unix://@abstract, and host:port (a name, an IPv4 address or [v6]). */
bool scope_conn_parse(struct scope_net *n, const char *url, int kind, char *why, size_t whylen)
{
    const char *rest = strstr(url, "://") + 3;
    if (kind == SCOPE_DEST_UNIX) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&n->lit;
        size_t len = strlen(rest);
        sun->sun_family = AF_UNIX;
        if (len == 0 || len >= sizeof sun->sun_path || (rest[0] != '/' && rest[0] != '@')) {
            snprintf(why, whylen, "unix destination needs /path or @name (at most %zu bytes)",
                     sizeof sun->sun_path - 1);
            return false;
        }
        memcpy(sun->sun_path, rest, len);
        if (rest[0] == '@')
            sun->sun_path[0] = 0;   /* abstract: the name is the bytes after the NUL, unpadded */
        n->litlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (rest[0] == '/'));
        return true;
    }
    const char *colon = strrchr(rest, ':'), *host = rest;
    size_t hlen = colon ? (size_t)(colon - rest) : 0;
    if (hlen >= 2 && rest[0] == '[' && rest[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || hlen == 0 || hlen >= sizeof n->host || !colon[1] || *end || port < 1 || port > 65535) {
        snprintf(why, whylen, "destination needs host:port");
        return false;
    }
    memcpy(n->host, host, hlen);
    n->host[hlen] = 0;
    snprintf(n->port, sizeof n->port, "%ld", port);
    struct sockaddr_in *sin = (struct sockaddr_in *)&n->lit;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&n->lit;
    if (inet_pton(AF_INET, n->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        n->litlen = sizeof *sin;
    } else if (inet_pton(AF_INET6, n->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        n->litlen = sizeof *sin6;
    }
    n->ip_literal = n->litlen != 0;
    return true;
}

/* Closes what the connection holds (not the buffer). */
void scope_conn_drop(struct scope_net *n)
{
    if (n->ssl || n->ctx)
        scope_tls_free(n->ssl, n->ctx);
    n->ssl = n->ctx = NULL;
    if (n->fd >= 0)
        scope_real_close(n->fd);
    n->fd = -1;
    if (n->res)
        res_unref(n->res);
    n->res = NULL;
    n->phase = NP_DOWN;
    n->tls_retry = 0;
    n->out = 0;   /* a new connection starts at a line boundary */
}

static void phase(struct scope_dest *d, enum scope_net_phase p)
{
    d->net->phase = p;
    d->net->phase_ms = scope_dest_mono_ms();
    d->connecting = p != NP_DOWN && p != NP_UP;
}

static void up(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    phase(d, NP_UP);
    n->fresh = true;
    n->progress_ms = n->phase_ms;
    scope_dest_came_up(d);
}

static void fail(struct scope_dest *d, const char *op, const char *why)
{
    scope_conn_drop(d->net);
    d->connecting = false;
    scope_dest_went_down(d, op, why);
}

static void handshake(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    char why[256];
    if (!n->ssl) {
        if (!scope_tls_load(why, sizeof why) ||
            !(n->ssl = scope_tls_start(n->fd, n->host, n->ip_literal, n->verify, n->ca, &n->ctx,
                                       why, sizeof why))) {
            fail(d, "start TLS with", why);
            return;
        }
    }
    int r = scope_tls_handshake(n->ssl, why, sizeof why);
    if (r > 0)
        up(d);
    else if (r < 0)
        fail(d, "handshake with", why);
}

/* The next address's connect, or down once none is left. */
static void connect_next(struct scope_dest *d, int last_err)
{
    struct scope_net *n = d->net;
    while (n->next < n->naddr) {
        int i = n->next++;
        int fd = scope_real_socket(n->addr[i].ss_family, n->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last_err = errno;
            continue;
        }
        n->fd = fd = scope_fd_high(fd);
        if (scope_real_connect(fd, (struct sockaddr *)&n->addr[i], n->alen[i]) == 0) {
            if (n->tls) {
                phase(d, NP_HANDSHAKE);
                handshake(d);
            } else
                up(d);
            return;
        }
        if (errno == EINPROGRESS || errno == EINTR) {
            phase(d, NP_CONNECTING);
            return;
        }
        last_err = errno;   /* unix: EAGAIN is a full backlog, a refusal like any other */
        scope_real_close(fd);
        n->fd = -1;
    }
    fail(d, "connect to", scope_strerror(last_err ? last_err : ECONNREFUSED));
}

static void begin(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    d->attempts++;
    n->begun_at_end = n->at_end;
    n->next = n->naddr = 0;
    if (n->litlen) {
        memcpy(&n->addr[0], &n->lit, n->litlen);
        n->alen[0] = n->litlen;
        n->naddr = 1;
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&n->lit;
        if (sun->sun_family == AF_UNIX && sun->sun_path[0] == 0) {
            /* an abstract name is bound with its exact length by C programs and socat, padded
             * with NULs to the whole sun_path by node: the exact one, then the padded one */
            memcpy(&n->addr[1], &n->lit, sizeof n->lit);
            n->alen[1] = sizeof(struct sockaddr_un);
            n->naddr = 2;
        }
        connect_next(d, 0);
        return;
    }
    char why[128];
    if (!resolve_start(n, why, sizeof why)) {
        fail(d, "look up", why);
        return;
    }
    phase(d, NP_RESOLVING);
}

static void resolved(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    struct scope_resolve *r = n->res;
    if (r->err || r->n == 0) {
        char why[160];
        snprintf(why, sizeof why, "%s", r->err == EAI_SYSTEM ? scope_strerror(r->sys_err) :
                 r->err ? scope_gai_strerror(r->err) : "no address");
        fail(d, "look up", why);
        return;
    }
    n->naddr = r->n;
    memcpy(n->addr, r->addr, sizeof n->addr);
    memcpy(n->alen, r->alen, sizeof n->alen);
    res_unref(r);
    n->res = NULL;
    n->next = 0;
    connect_next(d, 0);
}

static void connecting(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    struct pollfd p = {.fd = n->fd, .events = POLLOUT};
    if (poll(&p, 1, 0) <= 0)
        return;
    int err = 0;
    socklen_t el = sizeof err;
    if (scope_real_getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    if (err) {
        scope_real_close(n->fd);
        n->fd = -1;
        connect_next(d, err);
    } else if (n->tls) {
        phase(d, NP_HANDSHAKE);
        handshake(d);
    } else {
        up(d);
    }
}

/* One step forward, whatever the phase; returns at once. Reporting thread only. */
void scope_conn_step(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    if (n->phase == NP_DOWN) {
        if (scope_dest_due(d))
            begin(d);
        return;
    }
    if (n->phase == NP_UP)
        return;
    if (scope_dest_mono_ms() - n->phase_ms >= n->timeout_ms) {
        const char *what = n->phase == NP_RESOLVING ? "look up" :
                           n->phase == NP_CONNECTING ? "connect to" : "handshake with";
        if (n->phase == NP_CONNECTING && n->next < n->naddr) {
            scope_real_close(n->fd);
            n->fd = -1;
            connect_next(d, ETIMEDOUT);
        } else
            fail(d, what, "timed out (SCOPE_CONNECT_TIMEOUT_SECS)");
        return;
    }
    if (n->phase == NP_RESOLVING) {
        if (atomic_load(&n->res->done))
            resolved(d);
    } else if (n->phase == NP_CONNECTING)
        connecting(d);
    else
        handshake(d);
}
