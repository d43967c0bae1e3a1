/* netmetrics.c — the net metrics: per connection (net.open, net.close, net.duration, from
 * verbosity 6), and each summary period net.rx and net.tx (from the byte counters of stats.c),
 * net.error below verbosity 5, the period's net.open, net.close and net.duration below 6, the
 * net.tcp, net.udp, net.other and net.port gauges; the http and StatsD summaries are asked for
 * here too. Reporting thread only. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "dest/log.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/fsmetrics.h"
#include "report/netconn.h"
#include "report/netevents.h"
#include "scope.h"
#include "record/stats.h"
#include "report/ident.h"
#include "report/statsd.h"

/* per-period counts for the summaries */
static uint64_t opened_n[SCOPE_NC_COUNT], closed_n[SCOPE_NC_COUNT], dur_sum_ms, dur_n;
static struct scope_nettotal last;
static bool any_net;
/* net.udp names a socket, as AppScope's does: the UDP socket opened last (kept after it closed) */
static int udp_fd = -1, udp_port;

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

void scope_netev_conn_metric(struct sbuf *met, const char *name, const char *type, long long v,
                        const char *unit, const struct conn *c, const struct scope_rec *r)
{
    int cls = SCOPE_FD_CLASS(c->flags);
    struct scope_dim dims[] = {
        {"fd", NULL, r->fd, 7},
        {"proto", proto_of_class(cls), 0, 2},
        {"port", NULL, c->server ? c->lport : c->pport, 6},
        {"class", class_name(cls), 0, 2},
        {"op", scope_fn_name[c->fn], 0, 3},
    };
    scope_emit_metric(met, name, type, v, unit, dims, 5, r->t_ns);
}

void scope_netev_count_seen(void) { any_net = true; }

void scope_netev_count_open(int cls, int fd, int port)
{
    opened_n[cls]++;
    if (cls == SCOPE_NC_INET_UDP) {
        udp_fd = fd;
        udp_port = port;
    }
}

void scope_netev_count_close(int cls, uint64_t dur_ns)
{
    closed_n[cls]++;
    dur_sum_ms += dur_ns / 1000000;
    dur_n++;
}

void scope_netev_count_reset(void)
{
    memset(opened_n, 0, sizeof opened_n);
    memset(closed_n, 0, sizeof closed_n);
    dur_sum_ms = dur_n = 0;
    any_net = false;
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
        scope_netev_http_summary(met, scope_now_ns());
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
    for (size_t i = 0; i < scope_netev_nconns; i++) {
        const struct conn *c = &scope_netev_conns[i];
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
