/* netevents.c — sockets, DNS and HTTP, from ring records to events and metrics: net.open,
 * net.close, net.app, net.error; dns.req and dns.resp (resolver calls, and DNS packets the app
 * sends itself); http.req and http.resp (HTTP/1.x and HTTP/2, in the clear or inside TLS); payload
 * files; the StatsD datagrams the app sends, handed to statsd.c. Keeps per-descriptor what a
 * connection is (its ends, its protocol, its parsers, its requests awaiting a response) until its
 * close. Reporting thread only. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "proto/dnsparse.h"
#include "proto/dnstcp.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/fsmetrics.h"
#include "proto/http.h"
#include "report/ident.h"
#include "dest/log.h"
#include "report/netevents.h"
#include "dest/safefile.h"
#include "scope.h"
#include "record/stats.h"
#include "report/statsd.h"

enum proto { P_NONE, P_HTTP1, P_H2, P_TLS, P_OTHER, P_DNS };
/* net_protocol as AppScope writes it ("http", for HTTP/1.x and HTTP/2 alike: the http events
 * carry the flavor) */
static const char *const proto_name[] = {"", "http", "http", "tls", "", ""};

struct pend {   /* a request awaiting its response */
    char *method, *target, *host, *ua, *xapp;
    uint64_t t_ns;
    uint32_t stream;
    int flavor;
    long long clen;
};

struct layer {   /* 0: the socket's bytes; 1: the TLS plaintext on it */
    int proto;
    bool began[2];               /* a first piece was seen in this direction */
    struct scope_h1 *h1[2];   /* [rx, tx] */
    struct scope_h2 *h2[2];
    struct scope_dnstcp *dns[2];   /* DNS over TCP */
    uint64_t total[2], off[2];   /* the call being received per direction, and where it is */
    struct pend *reqs;
    size_t nreq, capreq;
    int pay[2];                  /* payload files .in / .out (+1: 0 means not open) */
};

struct conn {
    uint64_t chan, t_open;
    uint32_t flags;
    bool opened, listening, server;
    bool tried;   /* a connect was attempted: its ends are known, not (yet) a connection */
    int fn;
    char lip[INET6_ADDRSTRLEN], pip[INET6_ADDRSTRLEN];
    int lport, pport;
    unsigned long inode;
    struct layer l[2];
};

static struct conn *conns;
static size_t nconns;

/* per-period counts for the summaries */
static uint64_t opened_n[SCOPE_NC_COUNT], closed_n[SCOPE_NC_COUNT], dur_sum_ms, dur_n;
static struct scope_nettotal last;
static bool any_net;
/* net.udp names a socket, as AppScope's does: the UDP socket opened last (kept after it closed) */
static int udp_fd = -1, udp_port;

/* DNS queries awaiting their answer (packets the app sends itself) */
#define DNS_PEND 64
static struct {
    uint64_t chan, t_ns;
    uint16_t id;
    char name[256];
} dnsq[DNS_PEND];
static unsigned dnsq_next;

static regex_t *hdr_re;
static bool hdr_re_loaded;

static void copy_flags(const struct scope_rec *r, uint32_t set, uint32_t clear);
static void dns_message(void *ctx, const unsigned char *msg, size_t n);

static struct conn *conn_at(int fd) { return scope_fd_slot((void **)&conns, &nconns, sizeof *conns, fd); }

/* The connection a record is about, when its SOCK record came first. */
static struct conn *conn_of(const struct scope_rec *r)
{
    struct conn *c = conn_at(r->fd);
    return c && c->chan && c->chan == r->chan ? c : NULL;
}

static void pend_free(struct pend *p)
{
    free(p->method);
    free(p->target);
    free(p->host);
    free(p->ua);
    free(p->xapp);
}

static void layer_free(struct layer *l)
{
    for (int d = 0; d < 2; d++) {
        free(l->h1[d]);
        free(l->dns[d]);
        if (l->h2[d]) {
            scope_h2_free(l->h2[d]);
            free(l->h2[d]);
        }
        if (l->pay[d])
            close(l->pay[d] - 1);
    }
    for (size_t i = 0; i < l->nreq; i++)
        pend_free(&l->reqs[i]);
    free(l->reqs);
    memset(l, 0, sizeof *l);
}

static void conn_free(struct conn *c)
{
    layer_free(&c->l[0]);
    layer_free(&c->l[1]);
    memset(c, 0, sizeof *c);
}

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

static const char *class_name(int c)
{
    static const char *const n[] = {"inet_tcp", "inet_udp", "unix_tcp", "unix_udp", "other"};
    return c >= 0 && c < SCOPE_NC_COUNT ? n[c] : "other";
}

static const char *proto_of_class(int c)
{
    static const char *const n[] = {"TCP", "UDP", "UNIX", "UNIX", "other"};
    return c >= 0 && c < SCOPE_NC_COUNT ? n[c] : "other";
}

static bool is_unix(uint32_t flags)
{
    int c = SCOPE_FD_CLASS(flags);
    return c == SCOPE_NC_UNIX_TCP || c == SCOPE_NC_UNIX_UDP;
}

static void addr_str(const struct sockaddr *sa, char *ip, size_t cap, int *port)
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

/* ---- fields ---- */

struct fields {
    struct scope_field f[64];
    int n;
    char store[4096];   /* keys and values made here */
    size_t used;
};

/* Not zeroed: 7 KiB per event would be most of the cost of a small one. */
#define FIELDS(name)                                                                          \
    struct fields name;                                                                       \
    name.n = 0;                                                                               \
    name.used = 0

static void fs_(struct fields *fl, const char *k, const char *v, size_t n)
{
    if (fl->n < 64)
        fl->f[fl->n++] = (struct scope_field){k, v ? v : "", v ? n : 0, 0, false};
}
static void fc(struct fields *fl, const char *k, const char *v) { fs_(fl, k, v, v ? strlen(v) : 0); }
static void fn_(struct fields *fl, const char *k, long long v)
{
    if (fl->n < 64)
        fl->f[fl->n++] = (struct scope_field){k, NULL, 0, v, false};
}
static const char *keep(struct fields *fl, const char *s, size_t n)
{
    if (fl->used + n + 1 > sizeof fl->store)
        return NULL;
    char *p = fl->store + fl->used;
    memcpy(p, s, n);
    p[n] = 0;
    fl->used += n + 1;
    return p;
}
static void fjson(struct fields *fl, const char *k, const char *json)
{
    const char *v = keep(fl, json, strlen(json));
    if (v && fl->n < 64)
        fl->f[fl->n++] = (struct scope_field){k, v, strlen(v), 0, true};
}
/* milliseconds with microseconds, as a JSON number */
static void fms(struct fields *fl, const char *k, uint64_t ns)
{
    char num[32];
    snprintf(num, sizeof num, "%llu.%03llu", (unsigned long long)(ns / 1000000),
             (unsigned long long)(ns / 1000 % 1000));
    fjson(fl, k, num);
}

static void net_fields(struct fields *fl, const struct conn *c)
{
    fc(fl, "net_transport", transport(c->flags));
    if (is_unix(c->flags)) {
        fn_(fl, "unix_peer_inode", 0);
        fn_(fl, "unix_local_inode", (long long)c->inode);
    } else if (SCOPE_FD_CLASS(c->flags) != SCOPE_NC_OTHER) {   /* unknown yet: 0.0.0.0 and port 0 */
        fc(fl, "net_peer_ip", c->pip[0] ? c->pip : "0.0.0.0");
        fn_(fl, "net_peer_port", c->pport);
        fc(fl, "net_host_ip", c->lip[0] ? c->lip : "0.0.0.0");
        fn_(fl, "net_host_port", c->lport);
    }
}

/* ---- lifetimes ---- */

static void on_sock(const struct scope_rec *r)
{
    struct conn *c = conn_at(r->fd);
    if (!c)
        return;
    conn_free(c);
    c->chan = r->chan;
    c->t_open = r->t_ns;
    c->flags = (uint32_t)r->aux;
    c->fn = r->fn;
    struct conn *src = r->rbytes ? conn_at((int)(r->rbytes - 1)) : NULL;
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
    char link[64], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = 0;
    unsigned long ino = 0;
    sscanf(target, "socket:[%lu]", &ino);
    return ino;
}

static void conn_metric(struct sbuf *met, const char *name, const char *type, long long v,
                        const char *unit, const struct conn *c, const struct scope_rec *r)
{
    int cls = SCOPE_FD_CLASS(c->flags);
    struct scope_dim dims[] = {
        {"fd", NULL, r->fd, 7},
        {"proto", proto_of_class(cls), 0, 2},
        {"port", NULL, c->server ? c->lport : c->pport, 6},
        {"class", class_name(cls), 0, 2},
        {"op", scope_hooks[c->fn].name, 0, 3},
    };
    scope_emit_metric(met, name, type, v, unit, dims, 5, r->t_ns);
}

static void on_conn(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    struct conn *c = conn_at(r->fd);
    if (!c)
        return;
    if (c->chan != r->chan) {   /* its SOCK record was dropped (or it was made before us) */
        conn_free(c);
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
            addr_str((struct sockaddr *)&ss, i ? c->pip : c->lip, sizeof c->lip, i ? &c->pport : &c->lport);
        }
        at += n;
    }
    if (is_unix(c->flags) && (r->fd >= 0))
        c->inode = sock_inode(r->fd);
    if (c->flags & SCOPE_FD_PENDING) {   /* no connection yet: the ends are for its net.error */
        c->tried = true;
        return;
    }
    any_net = true;
    if (c->flags & SCOPE_FD_LISTEN) {
        c->listening = true;
        return;
    }
    c->opened = true;
    opened_n[SCOPE_FD_CLASS(c->flags)]++;
    if (SCOPE_FD_CLASS(c->flags) == SCOPE_NC_INET_UDP) {
        udp_fd = r->fd;
        udp_port = c->server ? c->lport : c->pport;
    }
    if (!(c->flags & SCOPE_FD_DGRAM) && !is_unix(c->flags) &&
        scope_dns_port((unsigned)(c->server ? c->lport : c->pport))) {   /* DNS over TCP */
        c->l[0].proto = P_DNS;
        copy_flags(r, SCOPE_FD_NOH2, 0);
    }
    FIELDS(fl);
    net_fields(&fl, c);
    fn_(&fl, "fd", r->fd);
    fc(&fl, "op", scope_hooks[r->fn].name);
    scope_event(ev, SCOPE_W_NET, "net.open", "net", r->chan, r->t_ns, fl.f, fl.n);
    if (met && scope_cfg.met_net && scope_cfg.verbosity >= SCOPE_V_OPEN)
        conn_metric(met, "net.open", "counter", 1, "connection", c, r);
}

static void on_nclose(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    struct conn *c = conn_of(r);
    if (!c)
        return;
    if (c->opened) {
        uint64_t dur = r->t_ns > c->t_open ? r->t_ns - c->t_open : 0;
        int cls = SCOPE_FD_CLASS(c->flags);
        closed_n[cls]++;
        dur_sum_ms += dur / 1000000;
        dur_n++;
        FIELDS(fl);
        net_fields(&fl, c);
        fn_(&fl, "fd", r->fd);
        fc(&fl, "op", scope_hooks[r->fn].name);
        if (proto_name[c->l[1].proto][0])
            fc(&fl, "net_protocol", proto_name[c->l[1].proto]);
        else if (proto_name[c->l[0].proto][0])
            fc(&fl, "net_protocol", proto_name[c->l[0].proto]);
        fn_(&fl, "duration", (long long)(dur / 1000000));
        fn_(&fl, "net_bytes_sent", (long long)r->wbytes);
        fn_(&fl, "net_bytes_recv", (long long)r->rbytes);
        fc(&fl, "net_close_reason", (r->aux & SCOPE_FD_EOF) ? "remote" : "local");
        scope_event(ev, SCOPE_W_NET, "net.close", "net", r->chan, r->t_ns, fl.f, fl.n);
        if (met && scope_cfg.met_net && scope_cfg.verbosity >= SCOPE_V_OPEN) {
            conn_metric(met, "net.close", "counter", 1, "connection", c, r);
            conn_metric(met, "net.duration", "timer", (long long)(dur / 1000000), "millisecond", c, r);
        }
    }
    conn_free(c);
}

/* ---- payload files ---- */

/* Payload files refused or not made (the first logged): read by the status (netevents.h). */
uint64_t scope_payload_refused;
static bool payload_refused_logged;

static void payload(struct conn *c, struct layer *l, bool tx, const char *p, size_t n)
{
    if (!scope_cfg.payload || !scope_cfg.payload_dir || !n)
        return;
    if (!l->pay[tx]) {
        char path[4096], peer[96], local[96];
        if (is_unix(c->flags)) {
            snprintf(peer, sizeof peer, "unix");
            snprintf(local, sizeof local, "%lu", c->inode);
        } else {
            snprintf(peer, sizeof peer, "%s:%d", c->pip, c->pport);
            snprintf(local, sizeof local, "%s:%d", c->lip, c->lport);
        }
        snprintf(path, sizeof path, "%d_%s_%s.%s", (int)scope_id.pid, peer, local, tx ? "out" : "in");
        /* never straight into a directory others can write (/tmp, the default): a private one of
         * ours inside it, and there the file made exclusively or, if there, kept only if ours */
        char why[160], sub[48];
        snprintf(sub, sizeof sub, "scope-payloads-%lu", (unsigned long)geteuid());
        int dfd = scope_private_dir(scope_cfg.payload_dir, sub, why, sizeof why);
        int fd = dfd >= 0 ? scope_safe_append(dfd, path, why, sizeof why) : -1;
        if (dfd >= 0)
            close(dfd);
        if (fd < 0) {
            __atomic_add_fetch(&scope_payload_refused, 1, __ATOMIC_RELAXED);
            if (!payload_refused_logged) {
                payload_refused_logged = true;
                scope_log(SCOPE_LOG_ERROR, "payload file %s (under %s) not written: %s; later ones "
                          "refused are counted, not logged", path, scope_cfg.payload_dir, why);
            }
            return;
        }
        l->pay[tx] = fd + 1;
    }
    ssize_t w = write(l->pay[tx] - 1, p, n);
    (void)w;
}

/* ---- HTTP ---- */

struct hctx {
    struct conn *c;
    struct layer *l;
    int layer;
    bool tx;
    const struct scope_rec *r;
    struct sbuf *ev, *met;
};

static char *dupn(struct scope_str s) { return s.p ? strndup(s.p, s.n) : strdup(""); }

static const struct scope_hdr *header(const struct scope_http_msg *m, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < m->nhdrs; i++)
        if (m->hdrs[i].name.n == n && !strncasecmp(m->hdrs[i].name.p, name, n))
            return &m->hdrs[i];
    return NULL;
}

static bool sensitive(const char *lname)
{
    return !strcmp(lname, "authorization") || !strcmp(lname, "cookie") ||
           !strcmp(lname, "set-cookie") || !strcmp(lname, "proxy-authorization");
}

void scope_net_config(void)
{
    if (hdr_re) {
        regfree(hdr_re);
        free(hdr_re);
    }
    hdr_re = NULL;
    hdr_re_loaded = false;
}

/* The headers SCOPE_EVENT_HTTP_HEADER asks for, as http_request_header_<name> fields. */
static void header_fields(struct fields *fl, const struct scope_http_msg *m, const char *prefix)
{
    if (!hdr_re_loaded) {
        hdr_re = scope_cfg.http_header ? scope_watch_compile("SCOPE_EVENT_HTTP_HEADER") : NULL;
        hdr_re_loaded = true;
    }
    if (!scope_cfg.http_header)
        return;
    for (int i = 0; i < m->nhdrs; i++) {
        char lname[128];
        size_t n = m->hdrs[i].name.n < sizeof lname - 1 ? m->hdrs[i].name.n : sizeof lname - 1;
        for (size_t k = 0; k < n; k++)
            lname[k] = (char)tolower((unsigned char)m->hdrs[i].name.p[k]);
        lname[n] = 0;
        if (hdr_re && regexec(hdr_re, lname, 0, NULL, 0) != 0)
            continue;
        char key[192];
        snprintf(key, sizeof key, "%s%s", prefix, lname);
        const char *k = keep(fl, key, strlen(key));
        bool redact = scope_cfg.http_redact && sensitive(lname);
        const char *v = redact ? "[REDACTED]" : keep(fl, m->hdrs[i].value.p, m->hdrs[i].value.n);
        if (k && v)
            fc(fl, k, v);
    }
}

/* HTTP/2 sends no reason phrase: the standard one for the code. */
static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

static const char *flavor_str(int f) { return f == 10 ? "1.0" : f == 20 ? "2.0" : "1.1"; }

static void http_metric(struct sbuf *met, const char *name, const char *type, long long v,
                        const char *unit, const struct pend *q, int status, uint64_t t_ns)
{
    struct scope_dim dims[] = {
        {"http_method", q->method, 0, 3},
        {"http_flavor", flavor_str(q->flavor), 0, 3},
        {"http_status_code", NULL, status, 4},
        {"http_target", q->target, 0, 4},   /* AppScope's consumers expect it and numops */
        {"numops", NULL, 1, 4},
    };
    scope_emit_metric(met, name, type, v, unit, dims, 5, t_ns);
}

/* Below verbosity 6 the http metrics are summed per period, per side, method, target and status. */
#define HTTP_SUMS 64
static struct hsum {
    bool used, server;
    char method[16], target[256];   /* target "*": the last slot, holding what did not fit */
    int status;
    uint64_t n, dur_ns;
    long long req_len, resp_len;
} hsums[HTTP_SUMS];

static void http_sum(bool server, const char *method, const char *target, int status, uint64_t dur,
                     long long qlen, long long rlen)
{
    struct hsum *free_slot = NULL, *h = NULL;
    for (int i = 0; i < HTTP_SUMS && !h; i++) {
        if (!hsums[i].used) {
            if (!free_slot)
                free_slot = &hsums[i];
        } else if (hsums[i].server == server && hsums[i].status == status &&
                   !strncmp(hsums[i].method, method, sizeof hsums[i].method - 1) &&
                   !strncmp(hsums[i].target, target, sizeof hsums[i].target - 1)) {
            h = &hsums[i];
        }
    }
    if (!h) {
        h = free_slot ? free_slot : &hsums[HTTP_SUMS - 1];   /* full: the last one takes the rest */
        if (!h->used) {
            h->used = true;
            h->server = server;
            h->status = status;
            snprintf(h->method, sizeof h->method, "%s", method);
            snprintf(h->target, sizeof h->target, "%s", target);
        } else {
            snprintf(h->target, sizeof h->target, "*");
        }
    }
    h->n++;
    h->dur_ns += dur;
    if (qlen > 0)
        h->req_len += qlen;
    if (rlen > 0)
        h->resp_len += rlen;
}

static void http_summary(struct sbuf *met, uint64_t now)
{
    for (int i = 0; i < HTTP_SUMS; i++) {
        struct hsum *h = &hsums[i];
        if (!h->used || !h->n)
            continue;
        struct scope_dim dims[] = {
            {"http_method", h->method, 0, 3},
            {"http_status_code", NULL, h->status, 4},
            {"http_target", h->target, 0, 4},
            {"numops", NULL, (long long)h->n, 4},
            {"summary", "true", 0, 1},
        };
        scope_emit_metric(met, "http.req", "counter", (long long)h->n, "request", dims, 5, now);
        scope_emit_metric(met, h->server ? "http.duration.server" : "http.duration.client", "timer",
                          (long long)(h->dur_ns / h->n / 1000000), "millisecond", dims, 5, now);
        if (h->req_len)
            scope_emit_metric(met, "http.req.content_length", "counter", h->req_len, "byte", dims, 5, now);
        if (h->resp_len)
            scope_emit_metric(met, "http.resp.content_length", "counter", h->resp_len, "byte", dims, 5, now);
        memset(h, 0, sizeof *h);
    }
}

/* What http.req and http.resp both say of the request. */
static void req_fields(struct fields *fl, const struct pend *q, int flavor, const char *scheme)
{
    fc(fl, "http_method", q->method);
    fc(fl, "http_target", q->target);
    fc(fl, "http_flavor", flavor_str(flavor));
    fc(fl, "http_scheme", scheme);
    fc(fl, "http_host", q->host);
    if (q->ua)
        fc(fl, "http_user_agent", q->ua);
}

static void http_resp_event(struct hctx *h, const struct scope_http_msg *m, const struct pend *q,
                            uint64_t dur, const char *scheme, const struct scope_hdr *xapp)
{
    FIELDS(fl);
    req_fields(&fl, q, m->flavor, scheme);
    fn_(&fl, "http_status_code", m->status);
    if (m->reason.n)
        fs_(&fl, "http_status_text", m->reason.p, m->reason.n);
    else
        fc(&fl, "http_status_text", reason_of(m->status));
    fms(&fl, h->c->server ? "http_server_duration" : "http_client_duration", dur);
    if (m->content_length >= 0)
        fn_(&fl, "http_response_content_length", m->content_length);
    if (q->clen >= 0)
        fn_(&fl, "http_request_content_length", q->clen);
    if (xapp)
        fs_(&fl, "x-appscope", xapp->value.p, xapp->value.n);
    else if (q->xapp)
        fc(&fl, "x-appscope", q->xapp);
    if (m->flavor == 20)
        fn_(&fl, "http_stream", m->stream);
    net_fields(&fl, h->c);
    header_fields(&fl, m, "http_response_header_");
    scope_event(h->ev, SCOPE_W_HTTP, "http.resp", "http", h->r->chan, h->r->t_ns, fl.f, fl.n);
}

static bool on_http(void *ctx, const struct scope_http_msg *m)
{
    struct hctx *h = ctx;
    struct layer *l = h->l;
    const char *scheme = h->layer ? "https" : "http";
    const struct scope_hdr *ua = header(m, "user-agent"), *xapp = header(m, "x-appscope");
    if (m->request) {
        if (l->nreq == l->capreq) {
            size_t n = l->capreq ? l->capreq * 2 : 4;
            struct pend *p = realloc(l->reqs, n * sizeof *p);
            if (!p)
                return false;
            l->reqs = p;
            l->capreq = n;
        }
        if (l->nreq >= 256) {   /* never answered: the oldest goes */
            pend_free(&l->reqs[0]);
            memmove(l->reqs, l->reqs + 1, (l->nreq - 1) * sizeof *l->reqs);
            l->nreq--;
        }
        const struct scope_hdr *host = header(m, "host");
        struct pend *q = &l->reqs[l->nreq++];
        q->method = dupn(m->method);
        q->target = dupn(m->target);
        q->host = m->authority.n ? dupn(m->authority) : host ? dupn(host->value) : strdup("");
        q->ua = ua ? dupn(ua->value) : NULL;
        q->xapp = xapp ? dupn(xapp->value) : NULL;
        q->t_ns = h->r->t_ns;
        q->stream = m->stream;
        q->flavor = m->flavor;
        q->clen = m->content_length;
        if (!scope_watch_on(SCOPE_W_HTTP) || !scope_event_room("http.req"))
            return false;
        FIELDS(fl);
        req_fields(&fl, q, m->flavor, scheme);
        const struct scope_hdr *xff = header(m, "x-forwarded-for");
        if (xff)
            fs_(&fl, "http_client_ip", xff->value.p, xff->value.n);
        if (m->content_length >= 0)
            fn_(&fl, "http_request_content_length", m->content_length);
        if (q->xapp)
            fc(&fl, "x-appscope", q->xapp);
        if (m->flavor == 20)
            fn_(&fl, "http_stream", m->stream);
        net_fields(&fl, h->c);
        header_fields(&fl, m, "http_request_header_");
        scope_event(h->ev, SCOPE_W_HTTP, "http.req", "http", h->r->chan, h->r->t_ns, fl.f, fl.n);
        return false;
    }
    /* a response: to the oldest request (HTTP/1.x), or to its stream's (HTTP/2) */
    if (m->status >= 100 && m->status < 200 && m->status != 101)
        return false;   /* interim: the real response follows */
    size_t qi = 0;
    if (m->flavor == 20)
        while (qi < l->nreq && l->reqs[qi].stream != m->stream)
            qi++;
    struct pend none = {.method = "", .target = "", .host = "", .t_ns = h->r->t_ns, .flavor = m->flavor,
                        .clen = -1, .stream = m->stream};
    bool have = qi < l->nreq;
    struct pend *q = have ? &l->reqs[qi] : &none;
    uint64_t dur = h->r->t_ns > q->t_ns ? h->r->t_ns - q->t_ns : 0;
    if (scope_watch_on(SCOPE_W_HTTP) && scope_event_room("http.resp"))
        http_resp_event(h, m, q, dur, scheme, xapp);
    if (h->met && scope_cfg.met_http && scope_cfg.verbosity < SCOPE_V_OPEN)
        http_sum(h->c->server, q->method, q->target, m->status, dur, q->clen, m->content_length);
    else if (h->met && scope_cfg.met_http) {
        http_metric(h->met, "http.req", "counter", 1, "request", q, m->status, h->r->t_ns);
        http_metric(h->met, h->c->server ? "http.duration.server" : "http.duration.client", "timer",
                    (long long)(dur / 1000000), "millisecond", q, m->status, h->r->t_ns);
        if (q->clen >= 0)
            http_metric(h->met, "http.req.content_length", "counter", q->clen, "byte", q, m->status,
                        h->r->t_ns);
        if (m->content_length >= 0)
            http_metric(h->met, "http.resp.content_length", "counter", m->content_length, "byte", q,
                        m->status, h->r->t_ns);
    }
    bool head = have && !strcmp(q->method, "HEAD");
    /* a tunnel is open: what follows is not HTTP/1 any more */
    if (have && m->status >= 200 && m->status < 300 && !strcmp(q->method, "CONNECT") && l->h1[h->tx])
        l->h1[h->tx]->upgraded = true;
    if (have) {
        pend_free(q);
        memmove(q, q + 1, (l->nreq - qi - 1) * sizeof *q);
        l->nreq--;
    }
    return head;
}

/* The fd's copy flags, changed only while it still is this connection. */
static void copy_flags(const struct scope_rec *r, uint32_t set, uint32_t clear)
{
    struct scope_fdc *f = scope_fdc(r->fd);
    if (!f || atomic_load(&f->chan) != r->chan)
        return;
    uint32_t old = atomic_load(&f->flags), want;
    do {
        want = (old | set) & ~clear;
    } while (want != old && !atomic_compare_exchange_weak(&f->flags, &old, want));
}

static void app_event(const struct scope_rec *r, struct conn *c, const char *protocol, struct sbuf *ev)
{
    FIELDS(fl);
    fc(&fl, "net_protocol", protocol);
    fn_(&fl, "fd", r->fd);
    net_fields(&fl, c);
    scope_event(ev, SCOPE_W_NET, "net.app", "net", r->chan, r->t_ns, fl.f, fl.n);
}

/* The first bytes of a layer decide what it carries. */
static void detect(const struct scope_rec *r, struct conn *c, int li, bool tx, const unsigned char *p,
                   size_t n, struct sbuf *ev)
{
    struct layer *l = &c->l[li];
    uint32_t mine = li ? SCOPE_FD_TLSCOPY | SCOPE_FD_TLSALL : SCOPE_FD_COPY | SCOPE_FD_ALL;
    uint32_t noh2 = li ? SCOPE_FD_TLSNOH2 : SCOPE_FD_NOH2;
    if (scope_h2_is_preface(p, n)) {
        l->proto = P_H2;
    } else if (scope_h1_is_request(p, n) || scope_h1_is_response(p, n)) {
        l->proto = P_HTTP1;
    } else if (!li && n >= 3 && p[0] == 0x16 && p[1] == 3 && p[2] <= 4) {
        l->proto = P_TLS;
    } else if (!l->began[!tx]) {
        return;   /* the other side may speak first (an HTTP/2 server sends SETTINGS at once) */
    } else {
        l->proto = P_OTHER;
        copy_flags(r, noh2, scope_cfg.payload ? 0 : mine | (li ? 0 : SCOPE_FD_TLSCOPY));
        return;
    }
    if (l->proto == P_TLS) {   /* the ciphertext is of no use; the plaintext comes from the library */
        copy_flags(r, SCOPE_FD_NOH2, SCOPE_FD_COPY | SCOPE_FD_ALL);
    } else if (l->proto == P_H2) {   /* HPACK needs every header block: netcopy.c copies them all */
        copy_flags(r, li ? SCOPE_FD_TLSH2 : SCOPE_FD_H2, 0);
        bool client = tx;   /* the side that sends the preface is the client */
        c->server = !client;
        for (int d = 0; d < 2; d++) {
            l->h2[d] = calloc(1, sizeof *l->h2[d]);
            if (l->h2[d])
                scope_h2_init(l->h2[d], d == 1 ? client : !client);
        }
    } else {
        copy_flags(r, noh2, 0);
        bool client = scope_h1_is_request(p, n) ? tx : !tx;
        c->server = !client;
        for (int d = 0; d < 2; d++) {
            l->h1[d] = malloc(sizeof *l->h1[d]);
            if (l->h1[d])   /* responses travel to the client */
                scope_h1_init(l->h1[d], d == 1 ? !client : client);
        }
    }
    app_event(r, c, proto_name[l->proto], ev);
}

static void feed(struct hctx *h, const unsigned char *p, size_t n, size_t total)
{
    struct layer *l = h->l;
    int d = h->tx;
    if (l->proto == P_HTTP1 && l->h1[d])
        scope_h1_feed(l->h1[d], p, n, total, on_http, h);
    else if (l->proto == P_H2 && l->h2[d] && !l->h2[d]->broken)
        scope_h2_feed(l->h2[d], p, n, total, on_http, h);
    else if (l->proto == P_DNS && (l->dns[d] || (l->dns[d] = calloc(1, sizeof *l->dns[d])))) {
        scope_dnstcp_feed(l->dns[d], p, n, dns_message, h);
        if (total > n)
            scope_dnstcp_feed(l->dns[d], NULL, total - n, dns_message, h);
    }
}

/* ---- DNS packets ---- */

/* An answer's address, appended to the JSON array being made. */
struct addrs {
    struct sbuf sb;
    int n;
};
static void dns_addr(void *ctx, int family, const unsigned char *addr)
{
    struct addrs *a = ctx;
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(family, addr, ip, sizeof ip);
    sb_s(&a->sb, a->n++ ? ",\"" : "\"");
    sb_s(&a->sb, ip);
    sb_s(&a->sb, "\"");
}

/* A DNS message the app sent or received (parsed by dnsparse.c): dns.req for a query (kept to
 * pair with its response), dns.resp for a response. */
static void dns_packet(const struct scope_rec *r, struct conn *c, const unsigned char *p, size_t n,
                       const char *peer, int pport, struct sbuf *ev, struct sbuf *met)
{
    struct scope_dns_msg m;
    if (!scope_dns_parse(p, n, &m))
        return;
    const char *name = m.name;
    FIELDS(fl);
    fc(&fl, "domain", name);
    fc(&fl, "query_type", scope_dns_qtype_name(m.qtype));
    if (peer) {
        fc(&fl, "net_peer_ip", peer);
        fn_(&fl, "net_peer_port", pport);
    }
    fn_(&fl, "fd", r->fd);
    fc(&fl, "op", scope_hooks[r->fn].name);
    if (!m.response) {   /* a query */
        unsigned i = dnsq_next++ % DNS_PEND;
        dnsq[i].chan = c->chan;
        dnsq[i].id = (uint16_t)m.id;
        dnsq[i].t_ns = r->t_ns;
        snprintf(dnsq[i].name, sizeof dnsq[i].name, "%s", name);
        scope_event(ev, SCOPE_W_DNS, "dns.req", "dns", r->chan, r->t_ns, fl.f, fl.n);
        if (met && scope_cfg.met_dns) {
            struct scope_dim dims[] = {{"domain", name, 0, 5}};
            scope_emit_metric(met, "dns.req", "counter", 1, "request", dims, 1, r->t_ns);
        }
        return;
    }
    uint64_t t_req = r->t_ns;
    for (int i = 0; i < DNS_PEND; i++)
        if (dnsq[i].chan == c->chan && dnsq[i].id == m.id && !strcmp(dnsq[i].name, name)) {
            t_req = dnsq[i].t_ns;
            dnsq[i].chan = 0;
            break;
        }
    struct addrs addrs = {{0}, 0};
    sb_s(&addrs.sb, "[");
    scope_dns_addrs(p, n, &m, dns_addr, &addrs);
    sb_s(&addrs.sb, "]");
    fms(&fl, "duration", r->t_ns > t_req ? r->t_ns - t_req : 0);
    fjson(&fl, "addrs", addrs.sb.p ? addrs.sb.p : "[]");
    if (m.rcode)
        fc(&fl, "error", scope_dns_rcode_name(m.rcode));
    scope_event(ev, SCOPE_W_DNS, "dns.resp", "dns", r->chan, r->t_ns, fl.f, fl.n);
    free(addrs.sb.p);
}

/* A message of DNS over TCP (dnstcp.c): the same as a datagram. */
static void dns_message(void *ctx, const unsigned char *msg, size_t n)
{
    struct hctx *h = ctx;
    dns_packet(h->r, h->c, msg, n, h->c->pip[0] ? h->c->pip : NULL, h->c->pport, h->ev, h->met);
}

static void on_data(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    struct conn *c = conn_of(r);
    if (!c)
        return;
    int li = (r->aux & SCOPE_DATA_TLS) ? 1 : 0;
    bool tx = r->aux & SCOPE_DATA_TX;
    struct layer *l = &c->l[li];
    const unsigned char *p = (const unsigned char *)r->data;
    size_t n = r->len;
    const char *peer = c->pip[0] ? c->pip : NULL;
    int pport = c->pport;
    char dip[INET6_ADDRSTRLEN];
    if (r->aux & SCOPE_DATA_ADDR) {   /* a datagram with its own peer */
        size_t al = p[0];
        if (al + 1 > n)
            return;
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        memcpy(&ss, p + 1, al < sizeof ss ? al : sizeof ss);
        addr_str((struct sockaddr *)&ss, dip, sizeof dip, &pport);
        peer = dip;
        p += 1 + al;
        n -= 1 + al;
    }
    if (c->flags & SCOPE_FD_DGRAM) {   /* one datagram, whole or cut at the copy limit */
        if ((r->aux & SCOPE_DATA_FIRST) && scope_dns_port((unsigned)pport))
            dns_packet(r, c, p, n, peer, pport, ev, met);
        if (tx && met && scope_cfg.met_statsd)   /* the statsd watch */
            scope_statsd_piece(r, p, n, scope_statsd_dest(peer, pport), met);
        payload(c, l, tx, (const char *)p, n);
        return;
    }
    struct hctx h = {c, l, li, tx, r, ev, met};
    if (r->aux & SCOPE_DATA_FIRST) {
        if (l->off[tx] < l->total[tx])   /* the previous call's end never came */
            feed(&h, p, 0, (size_t)(l->total[tx] - l->off[tx]));
        l->total[tx] = r->rbytes;
        l->off[tx] = 0;
        if (l->proto == P_NONE && n)
            detect(r, c, li, tx, p, n, ev);
        l->began[tx] = true;
    }
    if (r->rops > l->off[tx])   /* pieces lost in between */
        feed(&h, p, 0, (size_t)(r->rops - l->off[tx]));
    if (n)
        feed(&h, p, n, n);
    /* the payload file has the first 64 KiB of each call; past it only HTTP/2 frame heads come */
    if ((l->proto != P_TLS || li) && r->rops < SCOPE_COPY_ALL)
        payload(c, l, tx, (const char *)p, r->rops + n > SCOPE_COPY_ALL ? SCOPE_COPY_ALL - r->rops : n);
    l->off[tx] = r->rops + n;
    if ((r->aux & SCOPE_DATA_LAST) && l->off[tx] < l->total[tx]) {   /* not copied: a gap */
        feed(&h, p, 0, (size_t)(l->total[tx] - l->off[tx]));
        l->off[tx] = l->total[tx];
    }
}

/* ---- resolver calls ---- */

static const char *gai_name(int e)
{
    switch (e) {
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_FAMILY: return "EAI_FAMILY";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_SYSTEM: return "EAI_SYSTEM";
    case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
    case EAI_BADFLAGS: return "EAI_BADFLAGS";
#ifdef EAI_NODATA
    case EAI_NODATA: return "EAI_NODATA";
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
#endif
    default: return "EAI_ERROR";
    }
}

static const char *herr_name(int e)
{
    switch (e) {
    case HOST_NOT_FOUND: return "HOST_NOT_FOUND";
    case TRY_AGAIN: return "TRY_AGAIN";
    case NO_RECOVERY: return "NO_RECOVERY";
    case NO_DATA: return "NO_DATA";
    default: return "HOST_ERROR";
    }
}

static void on_dns(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    char name[256];
    size_t nl = strnlen(r->data, r->len < 255 ? r->len : 255);
    memcpy(name, r->data, nl);
    name[nl] = 0;
    const char *op = scope_hooks[r->fn].name;
    FIELDS(fl);
    fc(&fl, "domain", name);
    fc(&fl, "op", op);
    scope_event(ev, SCOPE_W_DNS, "dns.req", "dns", 0, r->t_ns, fl.f, fl.n);
    struct sbuf addrs = {0};
    sb_s(&addrs, "[");
    int na = 0;
    for (size_t at = nl + 1; at < r->len;) {
        int fam = (unsigned char)r->data[at];
        size_t k = fam == AF_INET ? 4 : fam == AF_INET6 ? 16 : 0;
        if (!k || at + 1 + k > r->len)
            break;
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(fam, r->data + at + 1, ip, sizeof ip);
        sb_s(&addrs, na++ ? ",\"" : "\"");
        sb_s(&addrs, ip);
        sb_s(&addrs, "\"");
        at += 1 + k;
    }
    sb_s(&addrs, "]");
    FIELDS(fr);
    fc(&fr, "domain", name);
    fc(&fr, "op", op);
    fms(&fr, "duration", r->rbytes);
    fjson(&fr, "addrs", addrs.p ? addrs.p : "[]");
    if (r->aux)
        fc(&fr, "error", r->fn == SCOPE_FN_getaddrinfo ? gai_name(r->aux) : herr_name(r->aux));
    scope_event(ev, SCOPE_W_DNS, "dns.resp", "dns", 0, r->t_ns + r->rbytes, fr.f, fr.n);
    free(addrs.p);
    if (met && scope_cfg.met_dns) {
        struct scope_dim dims[] = {{"domain", name, 0, 5}, {"duration", NULL, (long long)(r->rbytes / 1000000), 8}};
        scope_emit_metric(met, "dns.req", "counter", 1, "request", dims, 2, r->t_ns);
    }
}

/* ---- errors ---- */

extern const char *strerrorname_np(int) __attribute__((weak));

bool scope_net_error(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    enum scope_cat cat = scope_fn_cat[r->fn];
    struct conn *c = r->fd >= 0 ? conn_of(r) : NULL;
    if (cat < SCOPE_CAT_net && !c)
        return false;
    const char *cls = cat == SCOPE_CAT_net ? "connection" : cat == SCOPE_CAT_dns ? "dns" : "rx_tx";
    const char *name = strerrorname_np ? strerrorname_np(r->aux) : NULL;
    char msg[256];
    if (r->fn == SCOPE_FN_connect && r->aux == EINPROGRESS)   /* see scope_net_closing */
        snprintf(msg, sizeof msg, "closed before the connect completed (the app gave up waiting)");
    else
        snprintf(msg, sizeof msg, "%s", strerror(r->aux));
    FIELDS(fl);
    fc(&fl, "op", scope_hooks[r->fn].name);
    fn_(&fl, "errno", r->aux);
    fc(&fl, "errno_name", name ? name : "UNKNOWN");
    fc(&fl, "message", msg);
    fc(&fl, "class", cls);
    if (r->fd >= 0)
        fn_(&fl, "fd", r->fd);
    if (c && (c->opened || c->tried))
        net_fields(&fl, c);
    scope_event(ev, SCOPE_W_NET, "net.error", "net", r->chan, r->t_ns, fl.f, fl.n);
    if (met && scope_cfg.met_net && scope_cfg.verbosity >= SCOPE_V_ERROR) {
        struct scope_dim dims[] = {{"op", scope_hooks[r->fn].name, 0, 3}, {"class", cls, 0, 2}};
        scope_emit_metric(met, "net.error", "counter", 1, "operation", dims, 2, r->t_ns);
    }
    return true;
}

void scope_net_format(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    switch (r->kind) {
    case SCOPE_REC_SOCK: on_sock(r); break;
    case SCOPE_REC_CONN: on_conn(r, ev, met); break;
    case SCOPE_REC_NCLOSE: on_nclose(r, ev, met); break;
    case SCOPE_REC_DATA: on_data(r, ev, met); break;
    case SCOPE_REC_DNS: on_dns(r, ev, met); break;
    default: break;
    }
}

/* ---- summaries ---- */

static void summary_metric(struct sbuf *met, const char *name, const char *type, long long v,
                           const char *unit, int cls, const char *data, long long numops, uint64_t now)
{
    struct scope_dim dims[5];
    int n = 0;
    if (cls >= 0) {
        dims[n++] = (struct scope_dim){"class", class_name(cls), 0, 2};
        dims[n++] = (struct scope_dim){"proto", proto_of_class(cls), 0, 2};
    }
    if (data)
        dims[n++] = (struct scope_dim){"data", data, 0, 1};
    if (numops >= 0)
        dims[n++] = (struct scope_dim){"numops", NULL, numops, 8};
    dims[n++] = (struct scope_dim){"summary", "true", 0, 1};
    scope_emit_metric(met, name, type, v, unit, dims, n, now);
}

void scope_net_summary(struct sbuf *met)
{
    scope_statsd_summary();
    if (scope_cfg.met_http)
        http_summary(met, scope_now_ns());
    if (!scope_cfg.met_net)
        return;
    struct scope_nettotal now_t;
    scope_stats_net(&now_t);
    uint64_t now = scope_now_ns();
    for (int c = 0; c < SCOPE_NC_COUNT; c++)
        for (int d = 0; d < 2; d++)
            for (int t = 0; t < 2; t++) {
                uint64_t b = now_t.bytes[c][d][t] - last.bytes[c][d][t];
                uint64_t o = now_t.ops[c][d][t] - last.ops[c][d][t];
                if (o)
                    summary_metric(met, t ? "net.tx" : "net.rx", "counter", (long long)b, "byte", c,
                                   d ? "ssl" : "clear", (long long)o, now);
            }
    static const char *const errcls[] = {"connection", "rx_tx", "dns"};
    if (scope_cfg.verbosity < SCOPE_V_ERROR)
        for (int e = 0; e < SCOPE_NETERR_COUNT; e++) {
            uint64_t k = now_t.errs[e] - last.errs[e];
            if (k) {
                struct scope_dim dims[] = {{"class", errcls[e], 0, 2}, {"summary", "true", 0, 1}};
                scope_emit_metric(met, "net.error", "counter", (long long)k, "operation", dims, 2, now);
            }
        }
    last = now_t;
    if (scope_cfg.verbosity < SCOPE_V_OPEN) {
        for (int c = 0; c < SCOPE_NC_COUNT; c++) {
            if (opened_n[c])
                summary_metric(met, "net.open", "counter", (long long)opened_n[c], "connection", c, NULL, -1, now);
            if (closed_n[c])
                summary_metric(met, "net.close", "counter", (long long)closed_n[c], "connection", c, NULL, -1, now);
        }
        if (dur_n)
            summary_metric(met, "net.duration", "timer", (long long)(dur_sum_ms / dur_n), "millisecond",
                           -1, NULL, (long long)dur_n, now);
    }
    memset(opened_n, 0, sizeof opened_n);
    memset(closed_n, 0, sizeof closed_n);
    dur_sum_ms = dur_n = 0;
    if (!any_net)
        return;
    long long tcp = 0, udp = 0, other = 0, ports = 0;
    for (size_t i = 0; i < nconns; i++) {
        const struct conn *c = &conns[i];
        if (!c->chan)
            continue;
        if (c->listening) {
            ports++;
            continue;
        }
        if (!c->opened)
            continue;
        int cls = SCOPE_FD_CLASS(c->flags);
        if (cls == SCOPE_NC_INET_TCP)
            tcp++;
        else if (cls == SCOPE_NC_INET_UDP)
            udp++;
        else
            other++;
    }
    struct scope_dim none[] = {{"summary", "true", 0, 1}};
    scope_emit_metric(met, "net.tcp", "gauge", tcp, "connection", none, 0, now);
    struct scope_dim udims[] = {{"proto", "UDP", 0, 2}, {"fd", NULL, udp_fd, 4}, {"port", NULL, udp_port, 4}};
    scope_emit_metric(met, "net.udp", "gauge", udp, "connection", udims, udp_fd < 0 ? 1 : 3, now);
    scope_emit_metric(met, "net.other", "gauge", other, "connection", none, 0, now);
    scope_emit_metric(met, "net.port", "gauge", ports, "instance", none, 0, now);
}

void scope_net_child(void) { scope_stats_net(&last); }

void scope_net_reset(void)
{
    scope_left_behind(conns);
    conns = NULL;   /* the parent's table may have been mid-update: leaked */
    nconns = 0;
    memset(opened_n, 0, sizeof opened_n);
    memset(closed_n, 0, sizeof closed_n);
    dur_sum_ms = dur_n = 0;
    any_net = false;
    memset(dnsq, 0, sizeof dnsq);
    memset(hsums, 0, sizeof hsums);
    scope_statsd_reset();
}
