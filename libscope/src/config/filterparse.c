/* filterparse.c — reading SCOPE_FILTER (`;`-separated filters in the `[N:]NAME OP VALUES` text of
 * the stream filter, `\;` and `\\` escaped) and SCOPE_FILTER_NAMES into scopes. Every check the
 * stream filter makes at start is made here too, except that data fields are not checked against
 * the schemas (libscope does not carry them). Init only: malloc is fine. */
#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/filterdef.h"
#include "dest/log.h"

static const char *const families[] = {"fs", "net", "dns", "http", "proc"};
static const char *const sourcetypes[] = {"fs", "net", "http", "dns", "console", "file", "metric", "proc"};

static const char *const kind_name[FK_COUNT] = {"comm", "binary", "pid", "ppid", "uid", "gid",
                                                "host", "container", "mntns", "pidns", "tree"};
static const bool kind_numeric[FK_COUNT] = {[FK_PID] = 1, [FK_PPID] = 1, [FK_UID] = 1, [FK_GID] = 1,
                                            [FK_MNTNS] = 1, [FK_PIDNS] = 1, [FK_TREE] = 1};
static const bool kind_ranged[FK_COUNT] = {[FK_PID] = 1, [FK_PPID] = 1, [FK_UID] = 1, [FK_GID] = 1};

static char why[512];
#define FAIL(...)                                                                             \
    do {                                                                                      \
        snprintf(why, sizeof why, __VA_ARGS__);                                               \
        return why;                                                                           \
    } while (0)
static const char *const NOMEM = "out of memory";

static bool all_digits(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* The values of one filter: `=` and `!=` add to the sets; `>`, `<` set the range (several keep
 * the widest bound) and `>=`, `<=` add the values to EQ as well. */
static const char *add_values(struct fcond *c, const char *op, char **vals, int nv, bool pattern,
                              const uint64_t *ns)
{
    if (!strcmp(op, "=") || !strcmp(op, "!=")) {
        for (int i = 0; i < nv; i++)
            if (!scope_fset_add(op[0] == '=' ? &c->eq : &c->ne, vals[i], pattern, ns ? ns[i] : 0))
                return NOMEM;
        return NULL;
    }
    bool lower = op[0] == '>';
    for (int i = 0; i < nv; i++) {
        double d;
        if (!scope_filter_number(vals[i], strlen(vals[i]), &d))
            FAIL("\"%s\" is not a number (%s compares numbers)", vals[i], op);
        if (lower && (!c->has_lo || d < c->lo))
            c->lo = d, c->has_lo = true;
        if (!lower && (!c->has_hi || d > c->hi))
            c->hi = d, c->has_hi = true;
        if (op[1] == '=' && !scope_fset_add(&c->eq, vals[i], false, 0))
            return NOMEM;
    }
    return NULL;
}

static const char *set_bool(signed char *cur, bool val, const char *what)
{
    if (*cur >= 0 && *cur != val)
        FAIL("conflicts with an earlier %s%s in the same scope", val ? "not-" : "", what);
    *cur = val;
    return NULL;
}

/* What data and error filters may name: one event, not a family, not start.msg. */
static const char *check_data_event(const char *event)
{
    if (!strcmp(event, "start.msg"))
        FAIL("the process-start record (start.msg) has no data fields");
    if (event[strlen(event) - 1] == '*')
        FAIL("\"%s\": data and error filters name one event, not a family", event);
    if (event[0] != '/' && scope_fev_index(event) < 0)
        FAIL("unknown event \"%s\"", event);
    return NULL;
}

static struct fdata *data_of(struct fscope *s, const char *event, const char *field)
{
    for (size_t i = 0; i < s->ndata; i++)
        if (!strcmp(s->data[i].event, event) &&
            (field ? s->data[i].field && !strcmp(s->data[i].field, field) : !s->data[i].field))
            return &s->data[i];
    struct fdata *d = realloc(s->data, (s->ndata + 1) * sizeof *d);
    if (!d)
        return NULL;
    s->data = d;
    d += s->ndata;
    memset(d, 0, sizeof *d);
    d->fail = -1;
    d->event = strdup(event);
    d->field = field ? strdup(field) : NULL;
    if (!d->event || (field && !d->field))
        return NULL;
    s->ndata++;
    return d;
}

/* The kind a name means: a process kind (>= 0), or one of these, with EVENT (and FIELD) cut out
 * of name in place. */
enum { K_EVENT = -1, K_SOURCETYPE = -2, K_FOLLOW = -3, K_DATA = -4, K_ERROR = -5, K_UNKNOWN = -6 };
static int kind_of(char *name, char **event, char **field)
{
    for (int k = 0; k < FK_COUNT; k++)
        if (!strcmp(name, kind_name[k]))
            return k;
    if (!strcmp(name, "event"))
        return K_EVENT;
    if (!strcmp(name, "sourcetype"))
        return K_SOURCETYPE;
    if (!strcmp(name, "follow"))
        return K_FOLLOW;
    char *d = NULL;   /* the last ".data." with something either side */
    for (char *p = strstr(name, ".data."); p; p = strstr(p + 1, ".data."))
        if (p > name && p[6])
            d = p;
    if (d) {
        *d = 0;
        *event = name;
        *field = d + 6;
        return K_DATA;
    }
    size_t n = strlen(name);
    if (n > 6 && !strcmp(name + n - 6, ".error")) {
        name[n - 6] = 0;
        *event = name;
        return K_ERROR;
    }
    return K_UNKNOWN;
}

static const char *event_values(struct fscope *s, const char *op, char **vals, int nv)
{
    if (strcmp(op, "=") && strcmp(op, "!="))
        FAIL("event takes = and !=, not %s", op);
    for (int i = 0; i < nv; i++) {
        const char *v = vals[i];
        if (!strcmp(v, "*")) {
            if (op[0] == '!')
                FAIL("event!=* would select nothing");
            s->all_events = true;
            continue;
        }
        bool neg = v[0] == '-';
        const char *name = neg ? v + 1 : v;
        size_t n = strlen(name);
        if (!n || !strcmp(name, "*"))
            FAIL("\"%s\" names no event", v);
        if (name[0] == '/') {
            /* a log file, by its path */
        } else if (n > 2 && !strcmp(name + n - 2, ".*") && !memchr(name, '*', n - 2)) {
            bool known = false;
            for (size_t f = 0; f < sizeof families / sizeof *families; f++)
                known |= strlen(families[f]) == n - 2 && !strncmp(name, families[f], n - 2);
            if (!known)
                FAIL("unknown event family \"%s\" (families: fs.*, net.*, dns.*, http.*)", name);
        } else if (scope_fev_index(name) < 0) {
            FAIL("unknown event \"%s\"", name);
        }
        if (!scope_fset_add(neg || op[0] == '!' ? &s->event.ne : &s->event.eq, name, true, 0))
            return NOMEM;
    }
    return NULL;
}

static const char *process_values(struct fscope *s, int k, const char *op, char **vals, int nv)
{
    if (!kind_ranged[k] && strcmp(op, "=") && strcmp(op, "!="))
        FAIL("%s takes = and !=, not %s", kind_name[k], op);
    uint64_t ns[nv > 0 ? nv : 1];
    int kept = 0;
    for (int i = 0; i < nv; i++) {
        char *v = vals[i];
        if (!strcmp(v, "*"))
            FAIL("a lone * matches everything; leave the filter out instead");
        if (k == FK_PID && !strcmp(v, "new") && (!strcmp(op, "=") || !strcmp(op, "!="))) {
            const char *e = set_bool(&s->pid_new, op[0] == '=', "pid=new");
            if (e)
                return e;
            continue;
        }
        if (kind_numeric[k] && !all_digits(v, strlen(v)))
            FAIL("\"%s\" is not a number%s", v, k == FK_PID ? " (or new)" : "");
        ns[kept] = 0;
        if (k == FK_BINARY) {   /* host:PATH, or MNTNS:PATH with MNTNS the mount namespace too */
            char *colon = strchr(v, ':');
            if (colon && colon[1] && (!strncmp(v, "host:", 5) || all_digits(v, (size_t)(colon - v)))) {
                if (v[0] != 'h')
                    ns[kept] = strtoull(v, NULL, 10);
                v = colon + 1;
            }
        }
        vals[kept++] = v;
    }
    if (!kept)
        return NULL;
    char *with_star[nv > 0 ? nv : 1];   /* container=PFX: a prefix */
    if (k == FK_CONTAINER) {
        for (int i = 0; i < kept; i++) {
            size_t n = strlen(vals[i]);
            with_star[i] = malloc(n + 2);
            if (!with_star[i]) {
                while (i--)
                    free(with_star[i]);
                return NOMEM;
            }
            memcpy(with_star[i], vals[i], n);
            with_star[i][n] = '*';
            with_star[i][n + (vals[i][n - 1] != '*')] = 0;
        }
    }
    s->used[k] = true;
    bool pattern = k == FK_COMM || k == FK_BINARY || k == FK_HOST || k == FK_CONTAINER;
    const char *e = add_values(&s->proc[k], op, k == FK_CONTAINER ? with_star : vals, kept, pattern, ns);
    if (k == FK_CONTAINER)
        for (int i = 0; i < kept; i++)
            free(with_star[i]);
    return e;
}

/* One filter into its scope; f is modified in place. */
static const char *parse_filter(struct fscopes *fs, char *f)
{
    size_t op_at = strcspn(f, "=!<>");
    char *colon = strchr(f, ':'), *rest = f;
    long n = 1;
    if (colon && (size_t)(colon - f) < op_at) {
        if (!all_digits(f, (size_t)(colon - f)))
            FAIL("\"%.*s\" is not a scope number (1 to 64)", (int)(colon - f), f);
        n = (colon - f) > 3 ? 1000 : strtol(f, NULL, 10);
        if (n < 1 || n > SCOPE_MAX_SCOPES)
            FAIL("scope %.*s is outside 1..64", (int)(colon - f), f);
        rest = colon + 1;
    }
    if (!*rest)
        FAIL("an empty filter");
    struct fscope *s = &fs->s[n];
    fs->defined |= SCOPE_BIT(n);
    char *event = NULL, *field = NULL;
    size_t at = strcspn(rest, "=!<>");
    if (!rest[at]) {   /* a boolean: container, follow, EVENT.error, or not- one of them */
        bool neg = !strncmp(rest, "not-", 4);
        char *name = neg ? rest + 4 : rest;
        if (!*name)
            FAIL("no kind");
        char given[strlen(name) + 1];
        memcpy(given, name, sizeof given);
        int k = kind_of(name, &event, &field);
        if (k == K_DATA || k == K_ERROR) {
            const char *e = check_data_event(event);
            if (e)
                return e;
        }
        if (k == K_FOLLOW)
            return set_bool(&s->follow, !neg, "follow");
        if (k == FK_CONTAINER)
            return set_bool(&s->container, !neg, "container");
        if (k == K_ERROR) {
            struct fdata *d = data_of(s, event, NULL);
            if (!d)
                return NOMEM;
            return set_bool(&d->fail, !neg, "EVENT.error");
        }
        if (k == K_UNKNOWN)
            FAIL("unknown kind \"%s\"", given);
        FAIL("\"%s\" needs an operator and a value (e.g. %s=VALUE)", given, given);
    }
    static const char *const ops[] = {"!=", "<=", ">=", "=", "<", ">"};
    const char *op = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof *ops && !op; i++)
        if (!strncmp(rest + at, ops[i], strlen(ops[i])))
            op = ops[i];
    if (!op)
        FAIL("\"%s\" does not start with an operator (=, !=, <, >, <=, >=)", rest + at);
    char *vtext = rest + at + strlen(op);
    rest[at] = 0;
    if (!*vtext)
        FAIL("the operator %s has no value", op);
    int nv = 1;
    for (char *p = vtext; *p; p++)
        nv += *p == ',';
    char *vals[nv];
    nv = 0;
    for (char *p = vtext;; p++) {
        char *end = p + strcspn(p, ",");
        bool last = !*end;
        *end = 0;
        if (!*p)
            FAIL("an empty value in the list");
        vals[nv++] = p;
        if (last)
            break;
        p = end;
    }
    char name[strlen(rest) + 1];
    memcpy(name, rest, sizeof name);
    int k = kind_of(rest, &event, &field);
    if (k == K_UNKNOWN)
        FAIL("unknown kind \"%s\" (kinds: event, sourcetype, comm, binary, pid, ppid, uid, gid, host, "
             "container, mntns, pidns, tree, follow, EVENT.data.FIELD, EVENT.error)", name);
    if (k == K_DATA || k == K_ERROR) {
        const char *e = check_data_event(event);
        if (e)
            return e;
    }
    if (k == K_FOLLOW || k == K_ERROR)
        FAIL("%s is a boolean: write it bare, or not-%s", name, name);
    if (k == K_EVENT)
        return event_values(s, op, vals, nv);
    if (k == K_SOURCETYPE) {
        if (strcmp(op, "=") && strcmp(op, "!="))
            FAIL("sourcetype takes = and !=, not %s", op);
        for (int i = 0; i < nv; i++) {
            bool known = false;
            for (size_t t = 0; t < sizeof sourcetypes / sizeof *sourcetypes; t++)
                known |= !strcmp(vals[i], sourcetypes[t]);
            if (!known)
                FAIL("unknown sourcetype \"%s\" (sourcetypes: fs, net, http, dns, console, file, "
                     "metric)", vals[i]);
        }
        s->has_sourcetype = true;
        return add_values(&s->sourcetype, op, vals, nv, false, NULL);
    }
    if (k == K_DATA) {
        for (int i = 0; i < nv; i++)
            if (!strcmp(vals[i], "*"))
                FAIL("a lone * matches everything; leave the filter out instead");
        struct fdata *d = data_of(s, event, field);
        if (!d)
            return NOMEM;
        return add_values(&d->c, op, vals, nv, true, NULL);
    }
    return process_values(s, k, op, vals, nv);
}

/* The text split at each unescaped `;`, with `\;` and `\\` unescaped (any other backslash stays);
 * empty pieces are skipped. Returns how many, or -1 when memory runs out. */
static int split(const char *text, char ***out, char **bufp)
{
    size_t cap = strlen(text) + 1;
    char *buf = malloc(cap), **list = malloc((cap / 2 + 2) * sizeof *list);
    if (!buf || !list) {
        free(buf);
        free(list);
        return -1;
    }
    int n = 0;
    char *w = buf, *start = buf;
    for (const char *p = text;; p++) {
        if (*p == '\\' && (p[1] == ';' || p[1] == '\\')) {
            *w++ = *++p;
            continue;
        }
        if (*p == ';' || !*p) {
            *w++ = 0;
            if (*start)
                list[n++] = start;
            start = w;
            if (!*p)
                break;
            continue;
        }
        *w++ = *p;
    }
    *out = list;
    *bufp = buf;
    return n;
}

const char *scope_filter_parse(const char *text, struct fscopes *fs, const char **bad)
{
    for (int i = 1; i <= SCOPE_MAX_SCOPES; i++)
        fs->s[i].pid_new = fs->s[i].container = fs->s[i].follow = -1;
    static char shown[512];   /* the filter as given, for the message */
    char **list, *buf;
    int n = split(text, &list, &buf);
    *bad = text;
    if (n < 0)
        return NOMEM;
    const char *e = NULL;
    for (int i = 0; i < n && !e; i++) {
        snprintf(shown, sizeof shown, "%s", list[i]);
        *bad = shown;
        e = parse_filter(fs, list[i]);
    }
    free(buf);
    free(list);
    return e;
}

void scope_filter_names(const char *text, struct fscopes *fs)
{
    char **list, *buf;
    int n = split(text, &list, &buf);
    for (int i = 0; i < n; i++) {
        char *eq = strchr(list[i], '=');
        long num = eq && all_digits(list[i], (size_t)(eq - list[i])) && eq - list[i] <= 3
                       ? strtol(list[i], NULL, 10) : 0;
        if (num < 1 || num > SCOPE_MAX_SCOPES || !eq[1]) {
            scope_log(SCOPE_LOG_WARNING, "SCOPE_FILTER_NAMES: \"%s\" is not N=NAME with N in 1..64; "
                      "ignored", list[i]);
            continue;
        }
        char *name = strdup(eq + 1);
        if (name) {
            free(fs->s[num].name);
            fs->s[num].name = name;
        }
    }
    if (n >= 0) {
        free(buf);
        free(list);
    }
}
