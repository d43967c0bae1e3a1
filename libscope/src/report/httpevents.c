/* httpevents.c — HTTP, as the parsers (proto/http.h) find it on a connection, in the clear or
 * inside TLS: http.req and http.resp (a response paired with its request: the oldest one awaiting
 * its answer for HTTP/1.x, its stream's for HTTP/2), the headers SCOPE_EVENT_HTTP_HEADER asks for,
 * and the http metrics (per response, or summed over the period below verbosity 6). Reporting
 * thread only. */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dest/log.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/fsmetrics.h"
#include "report/netconn.h"
#include "report/netevents.h"
#include "scope.h"
#include "config/watch.h"
#include "proto/http.h"

static regex_t *hdr_re;
static bool hdr_re_loaded;

/* A request's strings live in one block that starts with its method (pend_strings). */
void scope_netev_pend_free(struct pend *p)
{
    free(p->method);
    p->method = p->target = p->host = p->ua = p->xapp = NULL;
}

/* Copies the request's strings into one allocation (one malloc a request, not five); ua and
 * xapp stay NULL when the request had none. False when out of memory. */
static bool pend_strings(struct pend *q, struct scope_str method, struct scope_str target,
                         struct scope_str host, const struct scope_str *ua, const struct scope_str *xapp)
{
    const struct scope_str *in[5] = {&method, &target, &host, ua, xapp};
    size_t size = 0;
    for (int i = 0; i < 5; i++)
        size += in[i] ? (in[i]->p ? in[i]->n : 0) + 1 : 0;
    char *b = malloc(size), *at = b;
    char **out[5] = {&q->method, &q->target, &q->host, &q->ua, &q->xapp};
    for (int i = 0; i < 5; i++) {
        *out[i] = NULL;
        if (!in[i] || !b)
            continue;
        size_t n = in[i]->p ? in[i]->n : 0;
        if (n)
            memcpy(at, in[i]->p, n);
        at[n] = 0;
        *out[i] = at;
        at += n + 1;
    }
    return b != NULL;
}

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
static void header_fields(struct scope_fields *fl, const struct scope_http_msg *m, const char *prefix)
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
        const char *k = scope_fld_keep(fl, key, strlen(key));
        bool redact = scope_cfg.http_redact && sensitive(lname);
        const char *v = redact ? "[REDACTED]" : scope_fld_keep(fl, m->hdrs[i].value.p, m->hdrs[i].value.n);
        if (k && v)
            scope_fld_c(fl, k, v);
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

void scope_netev_http_summary(struct sbuf *met, uint64_t now)
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
static void req_fields(struct scope_fields *fl, const struct pend *q, int flavor, const char *scheme)
{
    scope_fld_c(fl, "http_method", q->method);
    scope_fld_c(fl, "http_target", q->target);
    scope_fld_c(fl, "http_flavor", flavor_str(flavor));
    scope_fld_c(fl, "http_scheme", scheme);
    scope_fld_c(fl, "http_host", q->host);
    if (q->ua)
        scope_fld_c(fl, "http_user_agent", q->ua);
}

static void http_resp_event(struct scope_netev_hctx *h, const struct scope_http_msg *m, const struct pend *q,
                            uint64_t dur, const char *scheme, const struct scope_hdr *xapp)
{
    SCOPE_FIELDS(fl);
    req_fields(&fl, q, m->flavor, scheme);
    scope_fld_n(&fl, "http_status_code", m->status);
    if (m->reason.n)
        scope_fld_s(&fl, "http_status_text", m->reason.p, m->reason.n);
    else
        scope_fld_c(&fl, "http_status_text", reason_of(m->status));
    scope_fld_ms(&fl, h->c->server ? "http_server_duration" : "http_client_duration", dur);
    if (m->content_length >= 0)
        scope_fld_n(&fl, "http_response_content_length", m->content_length);
    if (q->clen >= 0)
        scope_fld_n(&fl, "http_request_content_length", q->clen);
    if (xapp)
        scope_fld_s(&fl, "x-appscope", xapp->value.p, xapp->value.n);
    else if (q->xapp)
        scope_fld_c(&fl, "x-appscope", q->xapp);
    if (m->flavor == 20)
        scope_fld_n(&fl, "http_stream", m->stream);
    scope_netev_fields(&fl, h->c);
    header_fields(&fl, m, "http_response_header_");
    scope_event(h->ev, SCOPE_W_HTTP, "http.resp", "http", h->r->chan, h->r->t_ns, fl.f, fl.n);
}

bool scope_netev_on_http(void *ctx, const struct scope_http_msg *m)
{
    struct scope_netev_hctx *h = ctx;
    struct layer *l = h->l;
    const char *scheme = h->layer ? "https" : "http";
    /* the user agent, x-appscope and the host are for the events only: metrics alone skip the lookups */
    bool evt = scope_watch_on(SCOPE_W_HTTP);
    const struct scope_hdr *ua = evt ? header(m, "user-agent") : NULL, *xapp = evt ? header(m, "x-appscope") : NULL;
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
            scope_netev_pend_free(&l->reqs[0]);
            memmove(l->reqs, l->reqs + 1, (l->nreq - 1) * sizeof *l->reqs);
            l->nreq--;
        }
        const struct scope_hdr *host = evt ? header(m, "host") : NULL;
        struct pend *q = &l->reqs[l->nreq++];
        struct scope_str none = {"", 0};
        if (!pend_strings(q, m->method, m->target, evt && m->authority.n ? m->authority : host ? host->value : none,
                          ua ? &ua->value : NULL, xapp ? &xapp->value : NULL)) {
            l->nreq--;
            return false;
        }
        q->t_ns = h->r->t_ns;
        q->stream = m->stream;
        q->flavor = m->flavor;
        q->clen = m->content_length;
        if (!scope_watch_on(SCOPE_W_HTTP) || !scope_event_room("http.req", h->r->t_ns))
            return false;
        SCOPE_FIELDS(fl);
        req_fields(&fl, q, m->flavor, scheme);
        const struct scope_hdr *xff = header(m, "x-forwarded-for");
        if (xff)
            scope_fld_s(&fl, "http_client_ip", xff->value.p, xff->value.n);
        if (m->content_length >= 0)
            scope_fld_n(&fl, "http_request_content_length", m->content_length);
        if (q->xapp)
            scope_fld_c(&fl, "x-appscope", q->xapp);
        if (m->flavor == 20)
            scope_fld_n(&fl, "http_stream", m->stream);
        scope_netev_fields(&fl, h->c);
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
    if (scope_watch_on(SCOPE_W_HTTP) && scope_event_room("http.resp", h->r->t_ns))
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
        scope_netev_pend_free(q);
        memmove(q, q + 1, (l->nreq - qi - 1) * sizeof *q);
        l->nreq--;
    }
    return head;
}


void scope_netev_http_reset(void) { memset(hsums, 0, sizeof hsums); }
