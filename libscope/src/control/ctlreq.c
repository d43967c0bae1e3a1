/* ctlreq.c — the control socket's requests and answers: one JSON object in, one out.
 *
 *   {"req":"status"}                        → {"ok":true,"pid":…,"scoped":…,"mode":…,…}
 *   {"req":"update","config":{"SCOPE_X":"v",…}}    → {"ok":true}  (merged into the settings)
 *   {"req":"detach"}                        → {"ok":true}
 *   {"req":"reattach","config":{…}}         → {"ok":true}  (replaces them; no config: keeps them;
 *                                              SCOPE_ATTACH_SOCKET in it: a handover, attachfds.h)
 *   anything else                           → {"ok":false,"error":"…"}
 *
 * The parser is only as big as these need: an object whose members are strings, or an object of
 * scalars (strings; numbers and booleans are taken as their text); other members are skipped.
 * Reporting thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "control/control.h"
#include "control/ctl.h"
#include "report/emit.h"
#include "dest/dest.h"
#include "interpose/got.h"
#include "control/attachfds.h"
#include "util/json.h"
#include "report/netevents.h"
#include "dest/log.h"
#include "report/report.h"
#include "scope.h"

struct jp {
    const char *s, *start, *end;
    char err[160];
    int depth;
};

static bool fail(struct jp *p, const char *what)
{
    if (!p->err[0])
        snprintf(p->err, sizeof p->err, "bad JSON at byte %zu: %s", (size_t)(p->s - p->start), what);
    return false;
}

static void ws(struct jp *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\r' || *p->s == '\n'))
        p->s++;
}

static bool lit(struct jp *p, char c)
{
    ws(p);
    if (p->s < p->end && *p->s == c) {
        p->s++;
        return true;
    }
    return false;
}

static void utf8(struct sbuf *o, unsigned c)
{
    char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xC0 | c >> 6);
        b[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xE0 | c >> 12);
        b[1] = (char)(0x80 | (c >> 6 & 0x3F));
        b[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | c >> 18);
        b[1] = (char)(0x80 | (c >> 12 & 0x3F));
        b[2] = (char)(0x80 | (c >> 6 & 0x3F));
        b[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    sb_raw(o, b, n);
}

static bool hex4(struct jp *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++, p->s++) {
        if (p->s >= p->end)
            return fail(p, "a short \\u escape");
        char c = *p->s;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
        if (d > 15)
            return fail(p, "a bad \\u escape");
        *v = *v << 4 | d;
    }
    return true;
}

/* A string into o (o->p NUL-terminated; a NUL inside is refused: these become C strings). */
static bool str(struct jp *p, struct sbuf *o)
{
    o->len = 0;
    sb_raw(o, "", 0);
    if (!lit(p, '"'))
        return fail(p, "expected a string");
    while (p->s < p->end && *p->s != '"') {
        unsigned char c = (unsigned char)*p->s++;
        if (c < 0x20)
            return fail(p, "a control character in a string");
        if (c != '\\') {
            sb_raw(o, (const char *)&c, 1);
            continue;
        }
        if (p->s >= p->end)
            break;
        char e = *p->s++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            sb_raw(o, &to[simple - "\"\\/bfnrt"], 1);
        } else if (e == 'u') {
            unsigned v, lo;
            if (!hex4(p, &v))
                return false;
            if (v >= 0xD800 && v < 0xDC00 && p->end - p->s >= 6 && p->s[0] == '\\' && p->s[1] == 'u') {
                p->s += 2;
                if (!hex4(p, &lo))
                    return false;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(p, "a lone surrogate");
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            } else if (v >= 0xD800 && v < 0xE000) {
                return fail(p, "a lone surrogate");
            }
            if (!v)
                return fail(p, "\\u0000 in a string");
            utf8(o, v);
        } else {
            return fail(p, "a bad escape");
        }
    }
    if (p->s >= p->end)
        return fail(p, "an unterminated string");
    p->s++;
    return true;
}

/* A number, true, false or null: its text (null: NULL). */
static bool scalar(struct jp *p, struct sbuf *o, bool *null)
{
    ws(p);
    *null = false;
    if (p->s < p->end && *p->s == '"')
        return str(p, o);
    const char *a = p->s;
    while (p->s < p->end && strchr("+-.0123456789eEtrufalsn", *p->s))
        p->s++;
    size_t n = (size_t)(p->s - a);
    char *end;
    bool num = n && n < 64 && (strtod(a, &end), end == p->s);
    if (!num && !(n == 4 && !strncmp(a, "true", 4)) && !(n == 5 && !strncmp(a, "false", 5)) &&
        !(n == 4 && !strncmp(a, "null", 4)))
        return fail(p, "expected a value");
    *null = n == 4 && !strncmp(a, "null", 4);
    o->len = 0;
    sb_raw(o, a, n);
    return true;
}

static bool skip(struct jp *p)
{
    struct sbuf t = {0};
    bool ok, null;
    ws(p);
    if (++p->depth > 32)
        ok = fail(p, "nested too deep");
    else if (lit(p, '{')) {
        ok = true;
        if (!lit(p, '}')) {
            do
                ok = str(p, &t) && (lit(p, ':') || fail(p, "expected ':'")) && skip(p);
            while (ok && lit(p, ','));
            ok = ok && (lit(p, '}') || fail(p, "expected ',' or '}'"));
        }
    } else if (lit(p, '[')) {
        ok = true;
        if (!lit(p, ']')) {
            do
                ok = skip(p);
            while (ok && lit(p, ','));
            ok = ok && (lit(p, ']') || fail(p, "expected ',' or ']'"));
        }
    } else {
        ok = scalar(p, &t, &null);
    }
    p->depth--;
    free(t.p);
    return ok;
}

struct request {
    struct sbuf req;
    bool has_req, has_config;
    struct scope_kv *kv;
    size_t n;
};

static bool config(struct jp *p, struct request *r)
{
    struct sbuf k = {0}, v = {0};
    bool ok = true, null;
    r->has_config = true;
    if (!lit(p, '{'))
        return fail(p, "\"config\" is not an object");
    if (!lit(p, '}')) {
        do {
            ok = str(p, &k) && (lit(p, ':') || fail(p, "expected ':'")) && scalar(p, &v, &null);
            if (ok && null)
                ok = fail(p, "null is not a setting's value (\"\" turns a destination off)");
            if (ok && strncmp(k.p, "SCOPE_", 6) != 0) {
                snprintf(p->err, sizeof p->err, "not a SCOPE_* setting: %.100s", k.p);
                ok = false;
            }
            struct scope_kv *t = ok ? realloc(r->kv, (r->n + 1) * sizeof *t) : NULL;
            if (ok && !t)
                ok = fail(p, "out of memory");
            if (ok) {
                r->kv = t;
                t[r->n].key = strdup(k.p);
                t[r->n].val = strdup(v.p);
                r->n++;
            }
        } while (ok && lit(p, ','));
        ok = ok && (lit(p, '}') || fail(p, "expected ',' or '}'"));
    }
    free(k.p);
    free(v.p);
    return ok;
}

static bool parse(const char *line, size_t len, struct request *r, char *err, size_t errlen)
{
    struct jp p = {.s = line, .start = line, .end = line + len};
    struct sbuf k = {0};
    bool ok = lit(&p, '{') || fail(&p, "expected an object");
    if (ok && !lit(&p, '}')) {
        do {
            ok = str(&p, &k) && (lit(&p, ':') || fail(&p, "expected ':'"));
            if (!ok)
                break;
            if (!strcmp(k.p, "req")) {
                ok = str(&p, &r->req);
                r->has_req = ok;
            } else if (!strcmp(k.p, "config")) {
                ok = config(&p, r);
            } else {
                ok = skip(&p);
            }
        } while (ok && lit(&p, ','));
        ok = ok && (lit(&p, '}') || fail(&p, "expected ',' or '}'"));
    }
    ws(&p);
    if (ok && p.s != p.end)
        ok = fail(&p, "text after the object");
    free(k.p);
    if (!ok)
        snprintf(err, errlen, "%s", p.err);
    return ok;
}

static void dest_json(struct sbuf *o, const char *name, const struct scope_dest *d, bool first)
{
    sb_s(o, first ? "{\"name\":" : ",{\"name\":");
    sb_jcstr(o, name);
    sb_kv_s(o, "url", d->url);
    sb_kv_s(o, "state", scope_dest_state(d));
    sb_kv_u(o, "attempts", d->attempts);
    sb_kv_u(o, "failures", d->failures);
    sb_s(o, ",\"last_failure\":");
    if (d->last_failure[0])
        sb_jcstr(o, d->last_failure);
    else
        sb_s(o, "null");
    sb_s(o, ",\"last_failure_time\":");
    if (d->last_failure_time)
        sb_i(o, d->last_failure_time);
    else
        sb_s(o, "null");
    sb_s(o, ",\"connected_since\":");
    if (d->connected_since && d->kind != SCOPE_DEST_NONE)
        sb_i(o, d->connected_since);
    else
        sb_s(o, "null");
    sb_kv_u(o, "lines", d->lines);
    sb_kv_u(o, "dropped", d->dropped);
    sb_kv_u(o, "buffered", d->buffered);
    sb_s(o, "}");
}

static void status(struct sbuf *o)
{
    sb_s(o, "{\"ok\":true");
    sb_kv_i(o, "pid", (int64_t)getpid());
    sb_s(o, scope_ctl_scoped() ? ",\"scoped\":true" : ",\"scoped\":false");
    sb_kv_s(o, "mode", scope_mode() == SCOPE_MODE_ATTACH ? "attach" : "preload");
    sb_kv_s(o, "version", SCOPE_VERSION);
    sb_s(o, ",\"config\":");
    scope_emit_config(o);
    sb_s(o, ",\"destinations\":[");
    struct scope_dest log;
    scope_log_dest(&log);
    dest_json(o, "events", scope_report_dest(false), true);
    dest_json(o, "metrics", scope_report_dest(true), false);
    dest_json(o, "log", &log, false);
    sb_s(o, "],\"counters\":{");
    uint64_t ev, met;
    scope_report_lines(&ev, &met);
    sb_s(o, "\"events\":");
    sb_u(o, ev);
    sb_kv_u(o, "metrics", met);
    sb_kv_u(o, "drops", atomic_load(&scope_drops));
    sb_kv_u(o, "payloads_refused", __atomic_load_n(&scope_payload_refused, __ATOMIC_RELAXED));
    sb_s(o, "}");
    sb_kv_i(o, "got_slots", scope_mode() == SCOPE_MODE_ATTACH ? scope_got_count() : 0);
    sb_s(o, "}\n");
}

static void reply_error(struct sbuf *o, const char *why)
{
    sb_s(o, "{\"ok\":false,\"error\":");
    sb_jcstr(o, why);
    sb_s(o, "}\n");
}

void scope_ctl_request(const char *line, size_t len, struct sbuf *out)
{
    struct request r = {0};
    char err[200];
    if (!parse(line, len, &r, err, sizeof err))
        reply_error(out, err);
    else if (!r.has_req)
        reply_error(out, "no \"req\" in the request (status, update, detach or reattach)");
    else if (!strcmp(r.req.p, "status"))
        status(out);
    else if (!strcmp(r.req.p, "update") && !r.has_config)
        reply_error(out, "update needs a \"config\" object of SCOPE_* settings");
    else if (!strcmp(r.req.p, "update"))
        sb_s(out, scope_ctl_update(r.kv, r.n) == 0 ? "{\"ok\":true}\n" : "{\"ok\":false,\"error\":\"update failed\"}\n");
    else if (!strcmp(r.req.p, "detach"))
        sb_s(out, scope_ctl_detach() == 0 ? "{\"ok\":true}\n" : "{\"ok\":false,\"error\":\"detach failed\"}\n");
    else if (!strcmp(r.req.p, "reattach")) {
        scope_handover_take(r.kv, &r.n);   /* descriptors for the new session: attachfds.h */
        sb_s(out, scope_ctl_reattach(r.kv, r.n, r.has_config) == 0
                      ? "{\"ok\":true}\n" : "{\"ok\":false,\"error\":\"reattach failed\"}\n");
    }
    else {
        snprintf(err, sizeof err, "unknown request \"%.100s\" (status, update, detach or reattach)", r.req.p);
        reply_error(out, err);
    }
    free(r.req.p);
    scope_kv_free(r.kv, r.n);
}

void scope_ctl_denied(struct sbuf *out, unsigned peer_uid, unsigned our_uid, bool changed)
{
    char why[200];
    if (changed)
        snprintf(why, sizeof why, "permission denied: pid %d changed its credentials (its uid is %u, "
                 "not dumpable or set-uid); only root may control it", (int)getpid(), our_uid);
    else
        snprintf(why, sizeof why, "permission denied: uid %u may not control pid %d (its uid is %u)",
                 peer_uid, (int)getpid(), our_uid);
    reply_error(out, why);
}
