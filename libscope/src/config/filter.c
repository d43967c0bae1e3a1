/* filter.c — applying SCOPE_FILTER. The kinds about the process (comm, binary, pid, ppid, uid,
 * gid, host, container, namespaces, tree, follow) are decided once per process image: at init,
 * in a forked child, and in the image an exec makes; what they leave is own_mask, the scopes this
 * process can match. Event and data kinds are decided per record by the reporting thread before it
 * formats one. Nothing here runs on the app's calls: a process that can match nothing has its
 * events switched off at init (watch.c), where they cost nothing. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libc/libc.h"
#include "config/config.h"
#include "config/filter.h"
#include "config/filterdef.h"
#include "report/ident.h"
#include "dest/log.h"
#include "util/json.h"

bool scope_filter_on;

static struct fscopes fs;
static uint64_t follow_mask;   /* scopes with follow */
static uint64_t event_scopes;  /* scopes whose event set may hold an event record */
static uint64_t start_scopes;  /* scopes whose event set holds start.msg */
static bool start_named;       /* some scope names start.msg: start records are filtered */
static uint64_t data_scopes;   /* scopes with data or error filters */
static uint64_t known_mask[SCOPE_FEV_COUNT];   /* scopes whose event set and sourcetype take it */
static uint64_t parent_mask, own_mask;
static bool need_tree;

/* What the process kinds are tested on, copied at init so a fork never reads it half-written. */
#define MAX_ANCESTORS 256
static struct {
    pid_t pid, ppid;
    double uid, gid, mntns, pidns;
    char proc[256], host[256], exe[4096], containerid[65];
    pid_t anc[MAX_ANCESTORS];   /* ppid, its parent, … (tree filters only) */
    int nanc;
} me;

static char follow_var[48], own_var[48];   /* SCOPE_FILTER_FOLLOW=<parent_mask> / <own_mask> */

/* No stdio: called in a forked child. */
static void make_var(char *out, uint64_t v)
{
    static const char key[] = "SCOPE_FILTER_FOLLOW=";
    memcpy(out, key, sizeof key - 1);
    scope_u_str(out + sizeof key - 1, v);   /* no stdio: it writes digits only */
}

/* FILTER.md's table: EQ only, NE only, both, or a range. A missing value never gets here. */
static bool generic(const struct fcond *c, bool in_eq, bool in_ne, bool in_range)
{
    if (c->has_lo || c->has_hi)
        return in_eq || (in_range && !in_ne);
    if (c->eq.n && c->ne.n)
        return in_eq || !in_ne;
    if (c->eq.n)
        return in_eq;
    return !in_ne;
}

static bool match_str(const struct fcond *c, const char *s, size_t n)
{
    return generic(c, scope_fset_has_str(&c->eq, s, n), scope_fset_has_str(&c->ne, s, n), false);
}

static bool match_num(const struct fcond *c, double v)
{
    bool range = (!c->has_lo || c->lo < v) && (!c->has_hi || v < c->hi);
    return generic(c, scope_fset_has_num(&c->eq, v), scope_fset_has_num(&c->ne, v), range);
}

/* binary: the path, and the mount namespace when the value names one. */
static bool binary_in(const struct fset *set)
{
    size_t n = strlen(me.exe);
    for (size_t i = 0; i < set->n; i++) {
        const struct fval *v = &set->v[i];
        struct fset one = {(struct fval *)v, 1};
        if (scope_fset_has_str(&one, me.exe, n) && (!v->ns || (double)v->ns == me.mntns))
            return true;
    }
    return false;
}

/* tree: set semantics over the pid and its ancestors. */
static bool tree_in(const struct fset *set)
{
    if (scope_fset_has_num(set, me.pid))
        return true;
    for (int i = 0; i < me.nanc; i++)
        if (scope_fset_has_num(set, me.anc[i]))
            return true;
    return false;
}

static bool kind_matches(int k, const struct fcond *c)
{
    switch (k) {
    case FK_COMM: return match_str(c, me.proc, strlen(me.proc));
    case FK_BINARY:
        return me.exe[0] && generic(c, binary_in(&c->eq), binary_in(&c->ne), false);
    case FK_PID: return match_num(c, me.pid);
    case FK_PPID: return match_num(c, me.ppid);
    case FK_UID: return match_num(c, me.uid);
    case FK_GID: return match_num(c, me.gid);
    case FK_HOST: return match_str(c, me.host, strlen(me.host));
    case FK_CONTAINER: return match_str(c, me.containerid, strlen(me.containerid));
    case FK_MNTNS: return me.mntns && match_num(c, me.mntns);
    case FK_PIDNS: return me.pidns && match_num(c, me.pidns);
    case FK_TREE: {
        bool in_ne = c->ne.n && tree_in(&c->ne);
        return (!c->eq.n || tree_in(&c->eq)) && !in_ne;
    }
    }
    return false;
}

/* own_mask: the scopes whose process kinds this process matches, and those with follow that its
 * parent matched. */
static void decide(void)
{
    uint64_t m = 0;
    for (int n = 1; n <= SCOPE_MAX_SCOPES; n++) {
        if (!(fs.defined & SCOPE_BIT(n)))
            continue;
        const struct fscope *s = &fs.s[n];
        bool ok = s->pid_new != 0;   /* every process libscope sees started after the filter */
        if (s->container >= 0)
            ok = ok && (me.containerid[0] != 0) == s->container;
        for (int k = 0; k < FK_COUNT && ok; k++)
            ok = !s->used[k] || kind_matches(k, &s->proc[k]);
        if (ok)
            m |= SCOPE_BIT(n);
    }
    own_mask = m | (follow_mask & parent_mask);
    make_var(follow_var, parent_mask);
    make_var(own_var, own_mask);
}

/* Does the scope's event set take this source (event semantics: (EQ empty or in EQ) and not in
 * NE; start.msg only when named exactly), and its sourcetype filter this sourcetype? */
static bool scope_takes(const struct fscope *s, const char *source, const char *sourcetype)
{
    size_t n = strlen(source);
    bool start = !strcmp(source, "start.msg");
    const struct fcond *e = &s->event;
    bool in;
    if (start) {
        in = false;
        for (size_t i = 0; i < e->eq.n; i++)
            in |= e->eq.v[i].wild == FV_EXACT && !strcmp(e->eq.v[i].s, "start.msg");
    } else {
        in = s->all_events || !e->eq.n || scope_fset_has_str(&e->eq, source, n);
    }
    if (!in || scope_fset_has_str(&e->ne, source, n))
        return false;
    return !s->has_sourcetype ||
           (sourcetype && match_str(&s->sourcetype, sourcetype, strlen(sourcetype)));
}

static uint64_t takes_mask(const char *source, const char *sourcetype)
{
    uint64_t m = 0;
    for (int n = 1; n <= SCOPE_MAX_SCOPES; n++)
        if ((fs.defined & SCOPE_BIT(n)) && scope_takes(&fs.s[n], source, sourcetype))
            m |= SCOPE_BIT(n);
    return m;
}

static pid_t ppid_of(pid_t pid)
{
    char path[40], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = scope_real_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = scope_real_read(fd, buf, sizeof buf - 1);
    scope_real_close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');   /* "pid (comm) S ppid …"; comm may hold anything */
    return p && p[1] == ' ' && p[2] && p[3] == ' ' ? (pid_t)strtol(p + 4, NULL, 10) : 0;
}

static void ancestors(void)
{
    me.nanc = 0;
    for (pid_t p = me.ppid; p > 0 && me.nanc < MAX_ANCESTORS; p = ppid_of(p)) {
        for (int i = 0; i < me.nanc; i++)
            if (me.anc[i] == p)
                return;
        me.anc[me.nanc++] = p;
    }
}

static void setup(void)
{
    for (int n = 1; n <= SCOPE_MAX_SCOPES; n++) {
        if (!(fs.defined & SCOPE_BIT(n)))
            continue;
        struct fscope *s = &fs.s[n];
        uint64_t b = SCOPE_BIT(n);
        if (s->follow == 1)
            follow_mask |= b;
        if (s->ndata)
            data_scopes |= b;
        need_tree |= s->used[FK_TREE];
        bool only_start = !s->all_events && s->event.eq.n;
        for (size_t i = 0; i < s->event.eq.n; i++) {
            const struct fval *v = &s->event.eq.v[i];
            only_start &= v->wild == FV_EXACT && !strcmp(v->s, "start.msg");
            start_named |= v->wild == FV_EXACT && !strcmp(v->s, "start.msg");
        }
        if (!only_start)
            event_scopes |= b;
        if (!s->name) {
            char num[4];
            snprintf(num, sizeof num, "%d", n);
            s->name = strdup(num);
        }
    }
    for (int i = 0; i < SCOPE_FEV_COUNT; i++)
        known_mask[i] = takes_mask(scope_fev_name[i], i == SCOPE_FEV_START ? NULL : scope_fev_type[i]);
    start_scopes = known_mask[SCOPE_FEV_START];
}

void scope_filter_load(void)
{
    const char *text = scope_cfg_get("SCOPE_FILTER");
    if (!text || !*text)
        return;
    const char *bad;
    const char *why = scope_filter_parse(text, &fs, &bad);
    if (why) {
        scope_log(SCOPE_LOG_ERROR, "SCOPE_FILTER: bad filter \"%s\": %s; no filtering applied",
                  bad, why);
        scope_filter_free(&fs);
        return;
    }
    if (!fs.defined)
        return;   /* only separators */
    const char *names = scope_cfg_get("SCOPE_FILTER_NAMES");
    if (names)
        scope_filter_names(names, &fs);
    setup();

    scope_ident_load();
    const struct scope_ident *p = &scope_id;
    me.pid = p->pid;
    me.ppid = p->ppid;
    me.uid = p->uid;
    me.gid = p->gid;
    me.mntns = (double)p->mntns;
    me.pidns = (double)p->pidns;
    _Static_assert(sizeof me.proc == sizeof p->proc && sizeof me.host == sizeof p->host &&
                   sizeof me.exe == sizeof p->exe && sizeof me.containerid == sizeof p->containerid,
                   "copies of scope_id's strings");
    memcpy(me.proc, p->proc, sizeof me.proc);
    memcpy(me.host, p->host, sizeof me.host);
    memcpy(me.exe, p->exe, sizeof me.exe);
    memcpy(me.containerid, p->containerid, sizeof me.containerid);
    if (need_tree)
        ancestors();
    const char *follow = scope_cfg_get("SCOPE_FILTER_FOLLOW");
    char *end;
    parent_mask = follow && *follow ? strtoull(follow, &end, 10) : 0;
    if (follow && (!*follow || *end))
        parent_mask = 0;
    decide();
    scope_filter_on = true;
    scope_log(SCOPE_LOG_INFO, "SCOPE_FILTER: scopes %llx, this process matches %llx",
              (unsigned long long)fs.defined, (unsigned long long)own_mask);
}

void scope_filter_reload(void)
{
    scope_filter_on = false;
    scope_filter_free(&fs);
    memset(&fs, 0, sizeof fs);
    follow_mask = event_scopes = start_scopes = data_scopes = parent_mask = own_mask = 0;
    start_named = need_tree = false;
    memset(known_mask, 0, sizeof known_mask);
    make_var(follow_var, 0);
    make_var(own_var, 0);
    scope_filter_load();
}

void scope_filter_child(void)
{
    if (!scope_filter_on)
        return;
    parent_mask = own_mask;
    if (need_tree) {   /* the parent and its ancestors are this child's ancestors */
        if (me.nanc == MAX_ANCESTORS)
            me.nanc--;
        memmove(me.anc + 1, me.anc, (size_t)me.nanc * sizeof *me.anc);
        me.anc[0] = me.pid;
        me.nanc++;
    }
    me.ppid = me.pid;
    me.pid = getpid();
    decide();
}

bool scope_filter_events(void) { return !scope_filter_on || (own_mask & event_scopes); }

int scope_filter_may(const char *source)
{
    int i = scope_fev_index(source);
    uint64_t m = own_mask & (i >= 0 ? known_mask[i] : ~(uint64_t)0);
    return !m ? SCOPE_FILTER_NO : i < 0 || (m & data_scopes) ? SCOPE_FILTER_DATA : SCOPE_FILTER_YES;
}

/* The field's value as written in the record: a string, a number, or missing (absent, filtered
 * out by the watch type's field filter, or a JSON value that is not a number). */
enum { V_NONE, V_STR, V_NUM };
static int field_value(const char *key, enum scope_watch w, const struct scope_field *f, int nf,
                       const char **s, size_t *n, double *num)
{
    for (int i = 0; i < nf; i++) {
        if (strcmp(f[i].key, key))
            continue;
        if (w != SCOPE_W_COUNT && !scope_watch_field(w, key))
            return V_NONE;
        if (f[i].json)
            return scope_filter_number(f[i].s, f[i].n, num) ? V_NUM : V_NONE;
        if (f[i].s) {
            *s = f[i].s;
            *n = f[i].n;
            return V_STR;
        }
        *num = (double)f[i].num;
        return V_NUM;
    }
    return V_NONE;
}

/* A failure: it has an errno, or an HTTP status of 400 or more. */
static bool failure(enum scope_watch w, const struct scope_field *f, int nf)
{
    const char *s;
    size_t n;
    double v;
    if (field_value("errno", w, f, nf, &s, &n, &v) != V_NONE)
        return true;
    return field_value("http_status_code", w, f, nf, &s, &n, &v) == V_NUM && v >= 400;
}

static bool data_matches(const struct fscope *sc, const char *source, enum scope_watch w,
                         const struct scope_field *f, int nf)
{
    for (size_t i = 0; i < sc->ndata; i++) {
        const struct fdata *d = &sc->data[i];
        if (strcmp(d->event, source))
            continue;
        if (!d->field) {
            if (failure(w, f, nf) != (d->fail == 1))
                return false;
            continue;
        }
        const char *s = NULL;
        size_t n = 0;
        double v = 0;
        int t = field_value(d->field, w, f, nf, &s, &n, &v);
        if (t == V_NONE || (t == V_STR ? !match_str(&d->c, s, n) : !match_num(&d->c, v)))
            return false;
    }
    return true;
}

uint64_t scope_filter_event(const char *source, const char *sourcetype, enum scope_watch w,
                            const struct scope_field *f, int nf)
{
    int i = scope_fev_index(source);
    uint64_t m = own_mask;
    if (m)
        m &= i >= 0 && !strcmp(sourcetype, scope_fev_type[i]) ? known_mask[i]
                                                              : takes_mask(source, sourcetype);
    uint64_t check = m & data_scopes;
    for (int n = 1; check; n++, check >>= 1)
        if ((check & 1) && !data_matches(&fs.s[n], source, w, f, nf))
            m &= ~SCOPE_BIT(n);
    return m;
}

bool scope_filter_start(uint64_t *mask)
{
    *mask = 0;
    if (!scope_filter_on || !start_named)
        return true;
    *mask = own_mask & start_scopes;
    return *mask != 0;
}

void scope_filter_write(struct sbuf *o, uint64_t mask)
{
    sb_s(o, ",\"matchedScopes\":\"");
    sb_u(o, mask);
    sb_s(o, "\",\"matchedPolicies\":[");
    bool first = true;
    for (int n = 1; n <= SCOPE_MAX_SCOPES; n++) {
        if (!(mask & SCOPE_BIT(n)))
            continue;
        if (!first)
            sb_s(o, ",");
        sb_jcstr(o, fs.s[n].name ? fs.s[n].name : "?");
        first = false;
    }
    sb_s(o, "]");
}

const char *scope_filter_follow_var(bool vforked)
{
    return !scope_filter_on ? NULL : vforked ? own_var : follow_var;
}
