/* netconn.h — what the parts of the network events share (report/netevents.c, netaddr.c,
 * dnsevents.c, httpevents.c, netmetrics.c; private to them): a connection as the reporting thread
 * keeps it (its ends, its protocol per layer, its parsers, its requests awaiting a response), the
 * fields an event is made of, and the entry points each part offers the others. Reporting thread
 * only. */
#ifndef SCOPE_NETCONN_H
#define SCOPE_NETCONN_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/dnstcp.h"
#include "proto/http.h"
#include "report/emit.h"
#include "scope.h"
#include "util/json.h"

enum proto { P_NONE, P_HTTP1, P_H2, P_TLS, P_OTHER, P_DNS };
/* net_protocol as AppScope writes it ("http", for HTTP/1.x and HTTP/2 alike: the http events
 * carry the flavor) */
extern const char *const scope_netev_proto_name[];

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

/* The connections, by fd (netevents.c). */
extern struct conn *scope_netev_conns;
extern size_t scope_netev_nconns;
struct conn *scope_netev_conn_at(int fd);
/* The connection a record is about, when its SOCK record came first. */
struct conn *scope_netev_conn_of(const struct scope_rec *r);
void scope_netev_conn_free(struct conn *c);
/* The fd's copy flags, changed only while it still is this connection. */
void scope_netev_copy_flags(const struct scope_rec *r, uint32_t set, uint32_t clear);

static inline bool scope_netev_is_unix(uint32_t flags)
{
    int c = SCOPE_FD_CLASS(flags);
    return c == SCOPE_NC_UNIX_TCP || c == SCOPE_NC_UNIX_UDP;
}

/* ---- fields ---- */

struct scope_fields {
    struct scope_field f[64];
    int n;
    char store[4096];   /* keys and values made here */
    size_t used;
};

/* Not zeroed: 7 KiB per event would be most of the cost of a small one. */
#define SCOPE_FIELDS(name)                                                                         \
    struct scope_fields name;                                                                      \
    name.n = 0;                                                                                    \
    name.used = 0

static inline void scope_fld_s(struct scope_fields *fl, const char *k, const char *v, size_t n)
{
    if (fl->n < 64)
        fl->f[fl->n++] = (struct scope_field){k, v ? v : "", v ? n : 0, 0, false, 0};
}
static inline void scope_fld_c(struct scope_fields *fl, const char *k, const char *v)
{
    scope_fld_s(fl, k, v, v ? strlen(v) : 0);
}
static inline void scope_fld_n(struct scope_fields *fl, const char *k, long long v)
{
    if (fl->n < 64)
        fl->f[fl->n++] = (struct scope_field){k, NULL, 0, v, false, 0};
}
static inline const char *scope_fld_keep(struct scope_fields *fl, const char *s, size_t n)
{
    if (fl->used + n + 1 > sizeof fl->store)
        return NULL;
    char *p = fl->store + fl->used;
    memcpy(p, s, n);
    p[n] = 0;
    fl->used += n + 1;
    return p;
}
static inline void scope_fld_json(struct scope_fields *fl, const char *k, const char *json)
{
    const char *v = scope_fld_keep(fl, json, strlen(json));
    if (v && fl->n < 64)
        fl->f[fl->n++] = (struct scope_field){k, v, strlen(v), 0, true, 0};
}
/* milliseconds with microseconds, as a JSON number */
static inline void scope_fld_ms(struct scope_fields *fl, const char *k, uint64_t ns)
{
    char num[32];
    size_t n = scope_u_str(num, ns / 1000000);
    unsigned us = (unsigned)(ns / 1000 % 1000);
    num[n] = '.';
    num[n + 1] = (char)('0' + us / 100);
    num[n + 2] = (char)('0' + us / 10 % 10);
    num[n + 3] = (char)('0' + us % 10);
    num[n + 4] = 0;
    scope_fld_json(fl, k, num);
}

/* ---- sockets and addresses (netaddr.c) ---- */

void scope_netev_addr_str(const struct sockaddr *sa, char *ip, size_t cap, int *port);
/* net_transport and the two ends, as every net, dns-over-a-socket and http event gives them. */
void scope_netev_fields(struct scope_fields *fl, const struct conn *c);
/* SOCK: a socket made; CONN: connected, accepted, listening (net.open); NCLOSE: net.close. */
void scope_netev_on_sock(const struct scope_rec *r);
void scope_netev_on_conn(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met);
void scope_netev_on_nclose(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met);

/* ---- HTTP (httpevents.c) ---- */

/* What the HTTP and DNS-over-TCP callbacks are given: the record being fed, its connection and
 * layer, the direction, and where events and metrics go. */
struct scope_netev_hctx {
    struct conn *c;
    struct layer *l;
    int layer;
    bool tx;
    const struct scope_rec *r;
    struct sbuf *ev, *met;
};
void scope_netev_pend_free(struct pend *p);
/* The parsers' callback (proto/http.h): http.req, http.resp and the http metrics. */
bool scope_netev_on_http(void *ctx, const struct scope_http_msg *m);
/* The http metrics summed over the period (below verbosity 6). */
void scope_netev_http_summary(struct sbuf *met, uint64_t now);
void scope_netev_http_reset(void);

/* ---- DNS (dnsevents.c) ---- */

/* A DNS message the app sent or received over a socket: dns.req, or dns.resp paired with it. */
void scope_netev_dns_packet(const struct scope_rec *r, struct conn *c, const unsigned char *p,
                            size_t n, const char *peer, int pport, struct sbuf *ev, struct sbuf *met);
/* A message of DNS over TCP (proto/dnstcp.h's callback; ctx: a struct scope_netev_hctx). */
void scope_netev_dns_message(void *ctx, const unsigned char *msg, size_t n);
/* A DNS record: a resolver call (getaddrinfo, gethostbyname…), its dns.req and dns.resp. */
void scope_netev_on_dns(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met);
void scope_netev_dns_reset(void);

/* ---- metrics (netmetrics.c) ---- */

/* net.open, net.close or net.duration of one connection (verbosity 6 and up). */
void scope_netev_conn_metric(struct sbuf *met, const char *name, const char *type, long long v,
                             const char *unit, const struct conn *c, const struct scope_rec *r);
/* The period's counts: a connection seen (the net gauges are then written), opened (of its
 * class; an inet UDP one names net.udp), closed after dur_ns. */
void scope_netev_count_seen(void);
void scope_netev_count_open(int cls, int fd, int port);
void scope_netev_count_close(int cls, uint64_t dur_ns);
void scope_netev_count_reset(void);
#endif
