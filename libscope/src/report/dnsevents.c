/* dnsevents.c — DNS: the resolver calls the app makes (DNS records: getaddrinfo, gethostbyname…)
 * and the DNS messages it sends and receives itself, as datagrams or over TCP (parsed by
 * proto/dnsparse.c), as dns.req and dns.resp events (a response paired with its query) and the
 * dns.req metric. Reporting thread only. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dest/log.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/netconn.h"
#include "report/netevents.h"
#include "scope.h"
#include "proto/dnsparse.h"

/* DNS queries awaiting their answer (packets the app sends itself) */
#define DNS_PEND 64
static struct {
    uint64_t chan, t_ns;
    uint16_t id;
    char name[256];
} dnsq[DNS_PEND];
static unsigned dnsq_next;

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
void scope_netev_dns_packet(const struct scope_rec *r, struct conn *c, const unsigned char *p, size_t n,
                       const char *peer, int pport, struct sbuf *ev, struct sbuf *met)
{
    struct scope_dns_msg m;
    if (!scope_dns_parse(p, n, &m))
        return;
    const char *name = m.name;
    SCOPE_FIELDS(fl);
    scope_fld_c(&fl, "domain", name);
    scope_fld_c(&fl, "query_type", scope_dns_qtype_name(m.qtype));
    if (peer) {
        scope_fld_c(&fl, "net_peer_ip", peer);
        scope_fld_n(&fl, "net_peer_port", pport);
    }
    scope_fld_n(&fl, "fd", r->fd);
    scope_fld_c(&fl, "op", scope_fn_name[r->fn]);
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
    scope_fld_ms(&fl, "duration", r->t_ns > t_req ? r->t_ns - t_req : 0);
    scope_fld_json(&fl, "addrs", addrs.sb.p ? addrs.sb.p : "[]");
    if (m.rcode)
        scope_fld_c(&fl, "error", scope_dns_rcode_name(m.rcode));
    scope_event(ev, SCOPE_W_DNS, "dns.resp", "dns", r->chan, r->t_ns, fl.f, fl.n);
    free(addrs.sb.p);
}

/* A message of DNS over TCP (dnstcp.c): the same as a datagram. */
void scope_netev_dns_message(void *ctx, const unsigned char *msg, size_t n)
{
    struct scope_netev_hctx *h = ctx;
    scope_netev_dns_packet(h->r, h->c, msg, n, h->c->pip[0] ? h->c->pip : NULL, h->c->pport, h->ev, h->met);
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

void scope_netev_on_dns(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    char name[256];
    size_t nl = strnlen(r->data, r->len < 255 ? r->len : 255);
    memcpy(name, r->data, nl);
    name[nl] = 0;
    const char *op = scope_fn_name[r->fn];
    SCOPE_FIELDS(fl);
    scope_fld_c(&fl, "domain", name);
    scope_fld_c(&fl, "op", op);
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
    SCOPE_FIELDS(fr);
    scope_fld_c(&fr, "domain", name);
    scope_fld_c(&fr, "op", op);
    scope_fld_ms(&fr, "duration", r->rbytes);
    scope_fld_json(&fr, "addrs", addrs.p ? addrs.p : "[]");
    if (r->aux)
        scope_fld_c(&fr, "error", r->fn == SCOPE_FN_getaddrinfo ? gai_name(r->aux) : herr_name(r->aux));
    scope_event(ev, SCOPE_W_DNS, "dns.resp", "dns", 0, r->t_ns + r->rbytes, fr.f, fr.n);
    free(addrs.p);
    if (met && scope_cfg.met_dns) {
        struct scope_dim dims[] = {{"domain", name, 0, 5}, {"duration", NULL, (long long)(r->rbytes / 1000000), 8}};
        scope_emit_metric(met, "dns.req", "counter", 1, "request", dims, 2, r->t_ns);
    }
}


void scope_netev_dns_reset(void) { memset(dnsq, 0, sizeof dnsq); }
