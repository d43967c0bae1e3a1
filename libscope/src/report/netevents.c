/* netevents.c — sockets, DNS and HTTP, from ring records to events and metrics: the dispatch of
 * the network records (SOCK, CONN, NCLOSE, DATA, DNS) to the parts that make their events
 * (netaddr.c: net.open, net.close, net.error; dnsevents.c: dns.req, dns.resp; httpevents.c:
 * http.req, http.resp; netmetrics.c: the net metrics). Owns the per-descriptor table of what a
 * connection is (its ends, its protocol, its parsers, its requests awaiting a response) until its
 * close, and what its bytes (DATA records) go to: the protocol its first bytes show (net.app),
 * the parsers, the payload files, and the StatsD datagrams the app sends, handed to statsd.c.
 * Reporting thread only. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "dest/log.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/netconn.h"
#include "report/netevents.h"
#include "scope.h"
#include "dest/safefile.h"
#include "proto/dnsparse.h"
#include "proto/dnstcp.h"
#include "proto/http.h"
#include "report/ident.h"
#include "report/statsd.h"

/* net_protocol as AppScope writes it ("http", for HTTP/1.x and HTTP/2 alike: the http events
 * carry the flavor) */
const char *const scope_netev_proto_name[] = {"", "http", "http", "tls", "", ""};

struct conn *scope_netev_conns;
size_t scope_netev_nconns;

struct conn *scope_netev_conn_at(int fd)
{
    return scope_fd_slot((void **)&scope_netev_conns, &scope_netev_nconns, sizeof *scope_netev_conns, fd);
}

/* The connection a record is about, when its SOCK record came first. */
struct conn *scope_netev_conn_of(const struct scope_rec *r)
{
    struct conn *c = scope_netev_conn_at(r->fd);
    return c && c->chan && c->chan == r->chan ? c : NULL;
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
            scope_real_close(l->pay[d] - 1);
    }
    for (size_t i = 0; i < l->nreq; i++)
        scope_netev_pend_free(&l->reqs[i]);
    free(l->reqs);
    memset(l, 0, sizeof *l);
}

void scope_netev_conn_free(struct conn *c)
{
    layer_free(&c->l[0]);
    layer_free(&c->l[1]);
    memset(c, 0, sizeof *c);
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
        if (scope_netev_is_unix(c->flags)) {
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
            scope_real_close(dfd);
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
    ssize_t w = scope_real_write(l->pay[tx] - 1, p, n);
    (void)w;
}

/* The fd's copy flags, changed only while it still is this connection. */
void scope_netev_copy_flags(const struct scope_rec *r, uint32_t set, uint32_t clear)
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
    SCOPE_FIELDS(fl);
    scope_fld_c(&fl, "net_protocol", protocol);
    scope_fld_n(&fl, "fd", r->fd);
    scope_netev_fields(&fl, c);
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
        scope_netev_copy_flags(r, noh2, scope_cfg.payload ? 0 : mine | (li ? 0 : SCOPE_FD_TLSCOPY));
        return;
    }
    if (l->proto == P_TLS) {   /* the ciphertext is of no use; the plaintext comes from the library */
        scope_netev_copy_flags(r, SCOPE_FD_NOH2, SCOPE_FD_COPY | SCOPE_FD_ALL);
    } else if (l->proto == P_H2) {   /* HPACK needs every header block: netcopy.c copies them all */
        scope_netev_copy_flags(r, li ? SCOPE_FD_TLSH2 : SCOPE_FD_H2, 0);
        bool client = tx;   /* the side that sends the preface is the client */
        c->server = !client;
        for (int d = 0; d < 2; d++) {
            l->h2[d] = calloc(1, sizeof *l->h2[d]);
            if (l->h2[d])
                scope_h2_init(l->h2[d], d == 1 ? client : !client);
        }
    } else {
        scope_netev_copy_flags(r, noh2, 0);
        bool client = scope_h1_is_request(p, n) ? tx : !tx;
        c->server = !client;
        for (int d = 0; d < 2; d++) {
            l->h1[d] = malloc(sizeof *l->h1[d]);
            if (l->h1[d])   /* responses travel to the client */
                scope_h1_init(l->h1[d], d == 1 ? !client : client);
        }
    }
    app_event(r, c, scope_netev_proto_name[l->proto], ev);
}

static void feed(struct scope_netev_hctx *h, const unsigned char *p, size_t n, size_t total)
{
    struct layer *l = h->l;
    int d = h->tx;
    if (l->proto == P_HTTP1 && l->h1[d]) {
        /* only http events read headers (scope_netev_on_http): metrics need the framing alone */
        l->h1[d]->all_hdrs = scope_watch_on(SCOPE_W_HTTP);
        scope_h1_feed(l->h1[d], p, n, total, scope_netev_on_http, h);
    }
    else if (l->proto == P_H2 && l->h2[d] && !l->h2[d]->broken)
        scope_h2_feed(l->h2[d], p, n, total, scope_netev_on_http, h);
    else if (l->proto == P_DNS && (l->dns[d] || (l->dns[d] = calloc(1, sizeof *l->dns[d])))) {
        scope_dnstcp_feed(l->dns[d], p, n, scope_netev_dns_message, h);
        if (total > n)
            scope_dnstcp_feed(l->dns[d], NULL, total - n, scope_netev_dns_message, h);
    }
}

static void on_data(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    struct conn *c = scope_netev_conn_of(r);
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
        scope_netev_addr_str((struct sockaddr *)&ss, dip, sizeof dip, &pport);
        peer = dip;
        p += 1 + al;
        n -= 1 + al;
    }
    if (c->flags & SCOPE_FD_DGRAM) {   /* one datagram, whole or cut at the copy limit */
        if ((r->aux & SCOPE_DATA_FIRST) && scope_dns_port((unsigned)pport))
            scope_netev_dns_packet(r, c, p, n, peer, pport, ev, met);
        if (tx && met && scope_cfg.met_statsd)   /* the statsd watch */
            scope_statsd_piece(r, p, n, scope_statsd_dest(peer, pport), met);
        payload(c, l, tx, (const char *)p, n);
        return;
    }
    struct scope_netev_hctx h = {c, l, li, tx, r, ev, met};
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

void scope_net_format(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    switch (r->kind) {
    case SCOPE_REC_SOCK: scope_netev_on_sock(r); break;
    case SCOPE_REC_CONN: scope_netev_on_conn(r, ev, met); break;
    case SCOPE_REC_NCLOSE: scope_netev_on_nclose(r, ev, met); break;
    case SCOPE_REC_DATA: on_data(r, ev, met); break;
    case SCOPE_REC_DNS: scope_netev_on_dns(r, ev, met); break;
    default: break;
    }
}

void scope_net_reset(void)
{
    scope_left_behind(scope_netev_conns);
    scope_netev_conns = NULL;   /* the parent's table may have been mid-update: leaked */
    scope_netev_nconns = 0;
    scope_netev_count_reset();
    scope_netev_dns_reset();
    scope_netev_http_reset();
    scope_statsd_reset();
}
