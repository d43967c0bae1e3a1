/* emit.c — formatting: the event envelope, the process-start record, metric lines in NDJSON or
 * StatsD. Field names and units are those of schemas/README.md. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "emit.h"
#include "filter.h"
#include "ident.h"
#include "scope.h"

void scope_emit_config(struct sbuf *o)
{
    sb_s(o, "{");
    for (size_t i = 0; i < scope_cfg.npairs; i++) {
        if (i)
            sb_s(o, ",");
        sb_jcstr(o, scope_cfg.pairs[i].key);
        sb_s(o, ":");
        sb_jcstr(o, scope_cfg.pairs[i].val);
    }
    sb_s(o, "}");
}

bool scope_emit_start(struct sbuf *o)
{
    uint64_t matched;
    if (!scope_filter_start(&matched))
        return false;
    const struct scope_ident *p = &scope_id;
    sb_s(o, "{\"format\":\"ndjson\",\"info\":{\"process\":{\"libscopever\":\"" SCOPE_VERSION "\"");
    sb_kv_i(o, "pid", p->pid);
    sb_kv_i(o, "ppid", p->ppid);
    sb_kv_u(o, "uid", p->uid);
    sb_kv_u(o, "gid", p->gid);
    sb_kv_s(o, "username", p->user);
    sb_kv_s(o, "groupname", p->group);
    sb_kv_s(o, "hostname", p->host);
    sb_kv_s(o, "procname", p->proc);
    sb_kv_s(o, "cmd", p->cmd);
    sb_kv_s(o, "id", p->id);
    if (p->exe[0])
        sb_kv_s(o, "exe", p->exe);
    if (p->cgroup[0])
        sb_kv_s(o, "cgroup", p->cgroup);
    sb_kv_s(o, "containerid", p->containerid);
    if (p->mntns)
        sb_kv_u(o, "mntns", p->mntns);
    if (p->pidns)
        sb_kv_u(o, "pidns", p->pidns);
    sb_s(o, "},\"configuration\":{\"current\":");
    scope_emit_config(o);
    sb_s(o, "},\"environment\":{}}");
    if (matched)
        scope_filter_write(o, matched);
    sb_s(o, "}\n");
    return true;
}

void scope_emit_event_head(struct sbuf *o, const char *source, const char *sourcetype,
                           uint64_t chan, uint64_t t_ns)
{
    const struct scope_ident *p = &scope_id;
    sb_s(o, "{\"type\":\"evt\",\"id\":");
    sb_jcstr(o, p->id);
    sb_s(o, ",\"_channel\":\"");
    sb_u(o, chan);
    sb_s(o, "\",\"body\":{\"sourcetype\":");
    sb_jcstr(o, sourcetype);
    sb_s(o, ",\"_time\":");
    sb_time(o, t_ns);
    sb_kv_s(o, "source", source);
    sb_kv_s(o, "host", p->host);
    sb_kv_s(o, "proc", p->proc);
    sb_kv_s(o, "cmd", p->cmd);
    sb_kv_i(o, "pid", p->pid);
    sb_kv_u(o, "uid", p->uid);
    sb_kv_u(o, "gid", p->gid);
    for (size_t i = 0; i < scope_cfg.ntags; i++) {
        const char *k = scope_cfg.tags[i].key;
        if (scope_filter_on && (!strcmp(k, "matchedScopes") || !strcmp(k, "matchedPolicies")))
            continue;   /* the filter's own keys replace a tag of that name */
        sb_kv_s(o, k, scope_cfg.tags[i].val);
    }
    sb_s(o, ",\"data\":{");
}

void scope_emit_event_tail(struct sbuf *o, uint64_t matched)
{
    sb_s(o, "}");
    if (matched)
        scope_filter_write(o, matched);
    sb_s(o, "}}\n");
}

bool scope_emit_notice(struct sbuf *o, const char *message)
{
    uint64_t matched = 0;
    if (scope_filter_on) {
        struct scope_field f = {"message", message, strlen(message), 0, false};
        if (!(matched = scope_filter_event("notice", "metric", SCOPE_W_COUNT, &f, 1)))
            return false;
    }
    scope_emit_event_head(o, "notice", "metric", 0, scope_now_ns());
    sb_s(o, "\"message\":");
    sb_jcstr(o, message);
    scope_emit_event_tail(o, matched);
    return true;
}

static void ndjson_metric(struct sbuf *o, const char *name, const char *type, long long value,
                          const char *unit, const struct scope_dim *dims, int ndims,
                          uint64_t t_ns)
{
    const struct scope_ident *p = &scope_id;
    sb_s(o, "{\"type\":\"metric\",\"body\":{\"_metric\":");
    sb_jcstr(o, name);
    sb_kv_s(o, "_metric_type", type);
    sb_kv_i(o, "_value", value);
    int v = scope_cfg.verbosity;
    if (v >= 4) {
        sb_kv_s(o, "proc", p->proc);
        sb_kv_i(o, "pid", p->pid);
        sb_kv_s(o, "host", p->host);
    }
    if (v >= 1)
        sb_kv_s(o, "unit", unit);
    for (int i = 0; i < ndims; i++) {
        if (dims[i].level > v)
            continue;
        if (dims[i].str)
            sb_kv_s(o, dims[i].key, dims[i].str);
        else
            sb_kv_i(o, dims[i].key, dims[i].num);
    }
    for (size_t i = 0; i < scope_cfg.ntags; i++)
        sb_kv_s(o, scope_cfg.tags[i].key, scope_cfg.tags[i].val);
    sb_s(o, ",\"_time\":");
    sb_time(o, t_ns);
    sb_s(o, "}}\n");
}

/* StatsD has no quoting: characters with a meaning in the line become '_'. */
static void statsd_clean(struct sbuf *o, const char *s)
{
    for (; *s; s++) {
        char c = *s;
        sb_raw(o, (c == ':' || c == '|' || c == ',' || c == '#' || c == '\n' || c == '@') ? "_"
                  : &c, 1);
    }
}

static void statsd_metric(struct sbuf *o, const char *name, const char *type, long long value,
                          const char *unit, const struct scope_dim *dims, int ndims)
{
    const struct scope_ident *p = &scope_id;
    const char *t = !strcmp(type, "counter") ? "c" : !strcmp(type, "gauge") ? "g"
                  : !strcmp(type, "timer") ? "ms" : !strcmp(type, "histogram") ? "h" : "s";
    size_t start = o->len, max = (size_t)scope_cfg.statsd_maxlen;
    if (scope_cfg.statsd_prefix)
        statsd_clean(o, scope_cfg.statsd_prefix);
    statsd_clean(o, name);
    sb_fmt(o, ":%lld|%s", value, t);
    /* dimensions go in while the line stays within SCOPE_STATSD_MAXLEN */
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)p->pid);
    int total = 4 + ndims + (int)scope_cfg.ntags;
    bool first = true;
    for (int i = 0; i < total; i++) {
        const char *k, *v;
        char num[32];
        if (i < 4) {
            if (i < 3 ? scope_cfg.verbosity < 4 : scope_cfg.verbosity < 1)
                continue;
            k = (const char *[]){"proc", "pid", "host", "unit"}[i];
            v = (const char *[]){p->proc, pid, p->host, unit}[i];
        } else if (i < 4 + ndims) {
            if (dims[i - 4].level > scope_cfg.verbosity)
                continue;
            k = dims[i - 4].key;
            v = dims[i - 4].str;
            if (!v) {
                snprintf(num, sizeof num, "%lld", dims[i - 4].num);
                v = num;
            }
        } else {
            k = scope_cfg.tags[i - 4 - ndims].key;
            v = scope_cfg.tags[i - 4 - ndims].val;
        }
        size_t before = o->len;
        sb_s(o, first ? "|#" : ",");
        statsd_clean(o, k);
        sb_s(o, ":");
        statsd_clean(o, v);
        if (o->len - start > max) {
            o->len = before;
            break;
        }
        first = false;
    }
    sb_s(o, "\n");
}

void scope_emit_metric(struct sbuf *o, const char *name, const char *type, long long value,
                       const char *unit, const struct scope_dim *dims, int ndims, uint64_t t_ns)
{
    if (scope_cfg.statsd)
        statsd_metric(o, name, type, value, unit, dims, ndims);
    else
        ndjson_metric(o, name, type, value, unit, dims, ndims, t_ns);
}
