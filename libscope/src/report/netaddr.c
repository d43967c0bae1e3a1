/* netaddr.c — sockets and their ends: a socket made (SOCK records), connected, accepted or
 * listening (CONN: net.open), closed (NCLOSE: net.close), a failed socket call (net.error); the
 * addresses as events give them (net_transport, the peer's and our own ip and port, a unix
 * socket's inode). Reporting thread only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "dest/log.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/fsmetrics.h"
#include "report/netconn.h"
#include "report/netevents.h"
#include "scope.h"
#include "proto/dnsparse.h"
#include "record/stats.h"

static const char *transport(uint32_t flags)
{
    switch (SCOPE_FD_CLASS(flags)) {
    case SCOPE_NC_INET_TCP: return "IP.TCP";
    case SCOPE_NC_INET_UDP: return "IP.UDP";
    case SCOPE_NC_UNIX_TCP: return "Unix.TCP";
    case SCOPE_NC_UNIX_UDP: return "Unix.UDP";
    default: return "other";
    }
}

void scope_netev_addr_str(const struct sockaddr *sa, char *ip, size_t cap, int *port)
{
    ip[0] = 0;
    *port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, (socklen_t)cap);
        *port = ntohs(a->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, (socklen_t)cap);
        *port = ntohs(a->sin6_port);
    }
}

void scope_netev_fields(struct scope_fields *fl, const struct conn *c)
{
    scope_fld_c(fl, "net_transport", transport(c->flags));
    if (scope_netev_is_unix(c->flags)) {
        scope_fld_n(fl, "unix_peer_inode", 0);
        scope_fld_n(fl, "unix_local_inode", (long long)c->inode);
    } else if (SCOPE_FD_CLASS(c->flags) != SCOPE_NC_OTHER) {   /* unknown yet: 0.0.0.0 and port 0 */
        scope_fld_c(fl, "net_peer_ip", c->pip[0] ? c->pip : "0.0.0.0");
        scope_fld_n(fl, "net_peer_port", c->pport);
        scope_fld_c(fl, "net_host_ip", c->lip[0] ? c->lip : "0.0.0.0");
        scope_fld_n(fl, "net_host_port", c->lport);
    }
}

/* ---- lifetimes ---- */

void scope_netev_on_sock(const struct scope_rec *r)
{
    struct conn *c = scope_netev_conn_at(r->fd);
    if (!c)
        return;
    scope_netev_conn_free(c);
    c->chan = r->chan;
    c->t_open = r->t_ns;
    c->flags = (uint32_t)r->aux;
    c->fn = r->fn;
    struct conn *src = r->rbytes ? scope_netev_conn_at((int)(r->rbytes - 1)) : NULL;
    if (src && src->chan && src->chan == r->wops) {   /* dup of a socket: the same ends */
        memcpy(c->lip, src->lip, sizeof c->lip);
        memcpy(c->pip, src->pip, sizeof c->pip);
        c->lport = src->lport;
        c->pport = src->pport;
        c->inode = src->inode;
        c->server = src->server;
    }
}

static unsigned long sock_inode(int fd)
{
    char link[64], target[64], rest[24];
    snprintf(rest, sizeof rest, "fd/%d", fd);
    scope_proc(link, sizeof link, rest);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = 0;
    unsigned long ino = 0;
    sscanf(target, "socket:[%lu]", &ino);
    return ino;
}

void scope_netev_on_conn(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    struct conn *c = scope_netev_conn_at(r->fd);
    if (!c)
        return;
    if (c->chan != r->chan) {   /* its SOCK record was dropped (or it was made before us) */
        scope_netev_conn_free(c);
        c->chan = r->chan;
        c->t_open = r->t_ns;
    }
    c->flags = (uint32_t)r->aux;
    c->fn = r->fn;
    c->server = r->fn == SCOPE_FN_accept || r->fn == SCOPE_FN_accept4;
    size_t at = 0;
    for (int i = 0; i < 2 && at < r->len; i++) {
        size_t n = (unsigned char)r->data[at++];
        if (n && at + n <= r->len) {
            struct sockaddr_storage ss;
            memset(&ss, 0, sizeof ss);
            memcpy(&ss, r->data + at, n < sizeof ss ? n : sizeof ss);
            scope_netev_addr_str((struct sockaddr *)&ss, i ? c->pip : c->lip, sizeof c->lip,
                                 i ? &c->pport : &c->lport);
        }
        at += n;
    }
    if (scope_netev_is_unix(c->flags) && (r->fd >= 0))
        c->inode = sock_inode(r->fd);
    if (c->flags & SCOPE_FD_PENDING) {   /* no connection yet: the ends are for its net.error */
        c->tried = true;
        return;
    }
    scope_netev_count_seen();
    if (c->flags & SCOPE_FD_LISTEN) {
        c->listening = true;
        return;
    }
    c->opened = true;
    scope_netev_count_open(SCOPE_FD_CLASS(c->flags), r->fd, c->server ? c->lport : c->pport);
    if (!(c->flags & SCOPE_FD_DGRAM) && !scope_netev_is_unix(c->flags) &&
        scope_dns_port((unsigned)(c->server ? c->lport : c->pport))) {   /* DNS over TCP */
        c->l[0].proto = P_DNS;
        scope_netev_copy_flags(r, SCOPE_FD_NOH2, 0);
    }
    SCOPE_FIELDS(fl);
    scope_netev_fields(&fl, c);
    scope_fld_n(&fl, "fd", r->fd);
    scope_fld_c(&fl, "op", scope_fn_name[r->fn]);
    scope_event(ev, SCOPE_W_NET, "net.open", "net", r->chan, r->t_ns, fl.f, fl.n);
    if (met && scope_cfg.met_net && scope_cfg.verbosity >= SCOPE_V_OPEN)
        scope_netev_conn_metric(met, "net.open", "counter", 1, "connection", c, r);
}

void scope_netev_on_nclose(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    struct conn *c = scope_netev_conn_of(r);
    if (!c)
        return;
    if (c->opened) {
        uint64_t dur = r->t_ns > c->t_open ? r->t_ns - c->t_open : 0;
        int cls = SCOPE_FD_CLASS(c->flags);
        scope_netev_count_close(cls, dur);
        SCOPE_FIELDS(fl);
        scope_netev_fields(&fl, c);
        scope_fld_n(&fl, "fd", r->fd);
        scope_fld_c(&fl, "op", scope_fn_name[r->fn]);
        if (scope_netev_proto_name[c->l[1].proto][0])
            scope_fld_c(&fl, "net_protocol", scope_netev_proto_name[c->l[1].proto]);
        else if (scope_netev_proto_name[c->l[0].proto][0])
            scope_fld_c(&fl, "net_protocol", scope_netev_proto_name[c->l[0].proto]);
        scope_fld_n(&fl, "duration", (long long)(dur / 1000000));
        if (!scope_subject()) {   /* followed from outside (proxy.c), its bytes and its end are not seen */
            scope_fld_n(&fl, "net_bytes_sent", (long long)r->wbytes);
            scope_fld_n(&fl, "net_bytes_recv", (long long)r->rbytes);
            scope_fld_c(&fl, "net_close_reason", (r->aux & SCOPE_FD_EOF) ? "remote" : "local");
        }
        scope_event(ev, SCOPE_W_NET, "net.close", "net", r->chan, r->t_ns, fl.f, fl.n);
        if (met && scope_cfg.met_net && scope_cfg.verbosity >= SCOPE_V_OPEN) {
            scope_netev_conn_metric(met, "net.close", "counter", 1, "connection", c, r);
            scope_netev_conn_metric(met, "net.duration", "timer", (long long)(dur / 1000000),
                                    "millisecond", c, r);
        }
    }
    scope_netev_conn_free(c);
}

/* ---- errors ---- */

bool scope_net_error(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    enum scope_cat cat = scope_fn_cat[r->fn];
    struct conn *c = r->fd >= 0 ? scope_netev_conn_of(r) : NULL;
    if (cat < SCOPE_CAT_net && !c)
        return false;
    const char *cls = cat == SCOPE_CAT_net ? "connection" : cat == SCOPE_CAT_dns ? "dns" : "rx_tx";
    const char *msg = r->fn == SCOPE_FN_connect && r->aux == EINPROGRESS   /* see scope_net_closing */
        ? "closed before the connect completed (the app gave up waiting)" : scope_strerror(r->aux);
    SCOPE_FIELDS(fl);
    scope_fld_c(&fl, "op", scope_fn_name[r->fn]);
    scope_fld_n(&fl, "errno", r->aux);
    scope_fld_c(&fl, "errno_name", scope_errno_name(r->aux));
    scope_fld_c(&fl, "message", msg);
    scope_fld_c(&fl, "class", cls);
    if (r->fd >= 0)
        scope_fld_n(&fl, "fd", r->fd);
    if (c && (c->opened || c->tried))
        scope_netev_fields(&fl, c);
    scope_event(ev, SCOPE_W_NET, "net.error", "net", r->chan, r->t_ns, fl.f, fl.n);
    if (met && scope_cfg.met_net && scope_cfg.verbosity >= SCOPE_V_ERROR) {
        struct scope_dim dims[] = {{"op", scope_fn_name[r->fn], 0, 3}, {"class", cls, 0, 2}};
        scope_emit_metric(met, "net.error", "counter", 1, "operation", dims, 2, r->t_ns);
    }
    return true;
}
