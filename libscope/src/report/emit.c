/* emit.c — formatting: the event envelope, the process-start record, metric lines in NDJSON or
 * StatsD. Field names and units are those of schemas/README.md. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "report/elfkind.h"
#include "report/emit.h"
#include "config/filter.h"
#include "report/ident.h"
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
    if (p->netns)
        sb_kv_u(o, "netns", p->netns);
    if (p->host_pid)
        sb_kv_i(o, "host_pid", p->host_pid);
    if (p->machine_id[0])
        sb_kv_s(o, "machine_id", p->machine_id);
    sb_kv_s(o, "uuid", p->uuid);
    sb_s(o, "},\"configuration\":{\"current\":");
    scope_emit_config(o);
    sb_s(o, "},\"environment\":{}");
    scope_start_notices(o);   /* ,"notices":[…]: blind spots (elfkind.c) */
    sb_s(o, "}");
    if (matched)
        scope_filter_write(o, matched);
    sb_s(o, "}\n");
    return true;
}

/* An event's envelope, in two parts around the per-event _channel, _time and source: how it
 * begins, up to the _channel; and what names the process, with the tags. */
static void envelope_id(struct sbuf *o, const struct scope_ident *p)
{
    sb_s(o, "{\"type\":\"evt\",\"id\":");
    sb_jcstr(o, p->id);
    sb_s(o, ",\"_channel\":\"");
}

static void envelope_who(struct sbuf *o, const struct scope_ident *p)
{
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

/* Both parts made once, and again only when the process's identity, the settings or the filter's
 * state changed: escaping them for each event was most of an event's cost. */
static struct {
    struct sbuf id, who;
    unsigned ident_gen, cfg_gen;
    bool filter_on, made;
} envelope;

void scope_emit_event_head(struct sbuf *o, const char *source, const char *sourcetype,
                           uint64_t chan, uint64_t t_ns)
{
    const struct scope_ident *p = &scope_id;
    if (!envelope.made || envelope.ident_gen != scope_ident_gen || envelope.cfg_gen != scope_cfg_gen ||
        envelope.filter_on != scope_filter_on) {
        envelope.id.len = envelope.who.len = 0;
        envelope_id(&envelope.id, p);
        envelope_who(&envelope.who, p);
        envelope.ident_gen = scope_ident_gen;
        envelope.cfg_gen = scope_cfg_gen;
        envelope.filter_on = scope_filter_on;
        envelope.made = envelope.id.p && envelope.who.p;   /* one that could not grow: made again */
    }
    if (envelope.made)
        sb_raw(o, envelope.id.p, envelope.id.len);
    else
        envelope_id(o, p);
    sb_u(o, chan);
    sb_s(o, "\",\"body\":{\"sourcetype\":");
    sb_jcstr(o, sourcetype);
    sb_s(o, ",\"_time\":");
    sb_time(o, t_ns);
    sb_raw(o, ",\"source\":", 10);
    sb_jcstr(o, source);
    if (envelope.made)
        sb_raw(o, envelope.who.p, envelope.who.len);
    else
        envelope_who(o, p);
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
        struct scope_field f = {"message", message, strlen(message), 0, false, 7};
        if (!(matched = scope_filter_event("notice", "metric", SCOPE_W_COUNT, &f, 1)))
            return false;
    }
    scope_emit_event_head(o, "notice", "metric", 0, scope_now_ns());
    sb_s(o, "\"message\":");
    sb_jcstr(o, message);
    scope_emit_event_tail(o, matched);
    return true;
}

/* One metric line, ours or relayed: the value comes as text so a relayed one keeps its own
 * (a fraction, a gauge's sign); unit NULL writes none. */
struct mline {
    const char *name, *type;
    const char *json, *text;   /* the value as a JSON number, and as StatsD text */
    const char *unit;
    const struct scope_dim *dims;
    int ndims;
    const struct scope_relay *relay;   /* NULL: one of ours */
};

static const char *const reserved[] = {"_metric", "_metric_type", "_value", "_time", "_sample_rate",
                                       "_source", "_delta", "_set_member", "proc", "pid", "host",
                                       "unit"};

/* A relayed metric's tag i is written unless one of ours (or an earlier tag) has its name: ours
 * win, and an NDJSON body never gets a key twice. */
static bool app_tag_kept(const struct mline *m, int i)
{
    const char *k = m->relay->tags[2 * i];
    for (size_t j = 0; j < sizeof reserved / sizeof reserved[0]; j++)
        if (!strcmp(k, reserved[j]))
            return false;
    for (int j = 0; j < m->ndims; j++)
        if (!strcmp(k, m->dims[j].key))
            return false;
    for (size_t j = 0; j < scope_cfg.ntags; j++)
        if (!strcmp(k, scope_cfg.tags[j].key))
            return false;
    for (int j = 0; j < i; j++)
        if (!strcmp(k, m->relay->tags[2 * j]))
            return false;
    return true;
}

static void ndjson_metric(struct sbuf *o, const struct mline *m, uint64_t t_ns)
{
    const struct scope_ident *p = &scope_id;
    const struct scope_relay *rl = m->relay;
    sb_s(o, "{\"type\":\"metric\",\"body\":{\"_metric\":");
    sb_jcstr(o, m->name);
    sb_kv_s(o, "_metric_type", m->type);
    sb_s(o, ",\"_value\":");
    sb_s(o, m->json);
    if (rl) {
        if (rl->rate_json) {
            sb_s(o, ",\"_sample_rate\":");
            sb_s(o, rl->rate_json);
        }
        for (int i = 0; i < rl->ntags; i++)
            if (app_tag_kept(m, i))
                sb_kv_s(o, rl->tags[2 * i], rl->tags[2 * i + 1] ? rl->tags[2 * i + 1] : "");
    }
    int v = scope_cfg.verbosity;
    if (v >= 4) {
        sb_kv_s(o, "proc", p->proc);
        sb_kv_i(o, "pid", p->pid);
        sb_kv_s(o, "host", p->host);
    }
    if (v >= 1 && m->unit)
        sb_kv_s(o, "unit", m->unit);
    for (int i = 0; i < m->ndims; i++) {
        if (m->dims[i].level > v)
            continue;
        if (m->dims[i].str)
            sb_kv_s(o, m->dims[i].key, m->dims[i].str);
        else
            sb_kv_i(o, m->dims[i].key, m->dims[i].num);
    }
    if (rl) {   /* the marker the schemas know a relayed metric by */
        sb_kv_s(o, "_source", "statsd");
        if (rl->delta)
            sb_kv_s(o, "_delta", "true");
        if (rl->member)
            sb_kv_s(o, "_set_member", rl->member);
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

/* false: a relayed line that cannot fit SCOPE_STATSD_MAXLEN even without tags (nothing written). */
static bool statsd_metric(struct sbuf *o, const struct mline *m)
{
    const struct scope_ident *p = &scope_id;
    const struct scope_relay *rl = m->relay;
    const char *type = m->type;
    const char *t = !strcmp(type, "counter") ? "c" : !strcmp(type, "gauge") ? "g"
                  : !strcmp(type, "timer") ? "ms" : !strcmp(type, "histogram") ? "h" : "s";
    size_t start = o->len, max = (size_t)scope_cfg.statsd_maxlen;
    if (scope_cfg.statsd_prefix)
        statsd_clean(o, scope_cfg.statsd_prefix);
    statsd_clean(o, m->name);
    sb_s(o, ":");
    statsd_clean(o, m->text);
    sb_s(o, "|");
    sb_s(o, t);
    if (rl && rl->rate_text) {
        sb_s(o, "|@");
        statsd_clean(o, rl->rate_text);
    }
    if (rl && o->len - start > max) {
        o->len = start;
        return false;
    }
    /* tags go in (the app's first, then ours) while the line stays within SCOPE_STATSD_MAXLEN */
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)p->pid);
    int napp = rl ? rl->ntags : 0;
    int total = napp + 4 + m->ndims + (int)scope_cfg.ntags;
    bool first = true;
    for (int i = 0; i < total; i++) {
        const char *k, *v;
        char num[32];
        int j = i - napp;
        if (i < napp) {
            if (!app_tag_kept(m, i))
                continue;
            k = rl->tags[2 * i];
            v = rl->tags[2 * i + 1];   /* NULL: a bare tag, kept bare */
        } else if (j < 4) {
            if (j < 3 ? scope_cfg.verbosity < 4 : scope_cfg.verbosity < 1 || !m->unit)
                continue;
            k = (const char *[]){"proc", "pid", "host", "unit"}[j];
            v = (const char *[]){p->proc, pid, p->host, m->unit}[j];
        } else if (j < 4 + m->ndims) {
            if (m->dims[j - 4].level > scope_cfg.verbosity)
                continue;
            k = m->dims[j - 4].key;
            v = m->dims[j - 4].str;
            if (!v) {
                snprintf(num, sizeof num, "%lld", m->dims[j - 4].num);
                v = num;
            }
        } else {
            k = scope_cfg.tags[j - 4 - m->ndims].key;
            v = scope_cfg.tags[j - 4 - m->ndims].val;
        }
        size_t before = o->len;
        sb_s(o, first ? "|#" : ",");
        statsd_clean(o, k);
        if (v) {
            sb_s(o, ":");
            statsd_clean(o, v);
        }
        if (o->len - start > max) {
            o->len = before;
            break;
        }
        first = false;
    }
    sb_s(o, "\n");
    return true;
}

void scope_emit_metric(struct sbuf *o, const char *name, const char *type, long long value,
                       const char *unit, const struct scope_dim *dims, int ndims, uint64_t t_ns)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    struct mline m = {name, type, num, num, unit, dims, ndims, NULL};
    if (scope_cfg.statsd)
        statsd_metric(o, &m);
    else
        ndjson_metric(o, &m, t_ns);
}

bool scope_emit_relay(struct sbuf *o, const struct scope_relay *r, uint64_t t_ns)
{
    struct mline m = {r->name, r->type, r->value_json, r->value_text, NULL, NULL, 0, r};
    if (scope_cfg.statsd)
        return statsd_metric(o, &m);
    ndjson_metric(o, &m, t_ns);
    return true;
}
