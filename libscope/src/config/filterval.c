/* filterval.c — the values SCOPE_FILTER compares with (filterdef.h): sets of texts, patterns
 * (a leading and/or trailing `*`) and numbers, built by the parser (filterparse.c) and matched by
 * filter.c; the event names a filter may give and their sourcetypes; numbers read whatever the
 * app's locale; the scopes freed. */
#include <ctype.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "config/filterdef.h"

const char *const scope_fev_name[SCOPE_FEV_COUNT] = {
    "fs.open", "fs.close", "fs.delete", "fs.rename", "fs.mkdir", "fs.error", "net.open", "net.close",
    "net.app", "net.error", "dns.req", "dns.resp", "http.req", "http.resp", "stdout", "stderr",
    "notice", "proc.exit", "start.msg"};
const char *const scope_fev_type[SCOPE_FEV_COUNT] = {
    "fs", "fs", "fs", "fs", "fs", "fs", "net", "net", "net", "net", "dns", "dns", "http", "http",
    "console", "console", "metric", "proc", ""};

int scope_fev_index(const char *name)
{
    for (int i = 0; i < SCOPE_FEV_COUNT; i++)
        if (!strcmp(name, scope_fev_name[i]))
            return i;
    return -1;
}

bool scope_filter_number(const char *s, size_t n, double *out)
{
    static locale_t c_locale;
    if (!n)
        return false;
    size_t i = s[0] == '-';
    size_t int_digits = 0, frac_digits = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, int_digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && isdigit((unsigned char)s[i]); i++)
            frac_digits++;
    if (!int_digits || i != n || s[n - 1] == '.' || n > 64)
        return false;
    char buf[72];
    memcpy(buf, s, n);
    buf[n] = 0;
    if (!c_locale)
        c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    *out = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
    return true;
}

/* Adds text to a set; pattern: one leading and/or trailing `*` makes a suffix, prefix or
 * contains pattern (`**` is a suffix pattern for `*`, as in the stream filter). */
bool scope_fset_add(struct fset *set, const char *text, bool pattern, uint64_t ns)
{
    struct fval *v = realloc(set->v, (set->n + 1) * sizeof *v);
    if (!v)
        return false;
    set->v = v;
    v += set->n;
    size_t len = strlen(text);
    bool lead = pattern && len > 1 && text[0] == '*', trail = pattern && len > 1 && text[len - 1] == '*';
    const char *from = text;
    v->wild = FV_EXACT;
    if (lead && trail && len > 2) {
        v->wild = FV_CONTAINS;
        from++, len -= 2;
    } else if (lead) {
        v->wild = FV_SUFFIX;
        from++, len--;
    } else if (trail) {
        v->wild = FV_PREFIX;
        len--;
    }
    v->s = strndup(from, len);
    if (!v->s)
        return false;
    v->n = len;
    v->isnum = scope_filter_number(text, strlen(text), &v->num);
    v->ns = ns;
    set->n++;
    return true;
}

static bool str_matches(const struct fval *v, const char *s, size_t n)
{
    switch (v->wild) {
    case FV_PREFIX: return n >= v->n && !memcmp(s, v->s, v->n);
    case FV_SUFFIX: return n >= v->n && !memcmp(s + n - v->n, v->s, v->n);
    case FV_CONTAINS: return memmem(s, n, v->s, v->n) != NULL;
    default: return n == v->n && !memcmp(s, v->s, n);
    }
}

bool scope_fset_has_str(const struct fset *set, const char *s, size_t n)
{
    for (size_t i = 0; i < set->n; i++)
        if (str_matches(&set->v[i], s, n))
            return true;
    return false;
}

bool scope_fset_has_num(const struct fset *set, double v)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].isnum && set->v[i].num == v)
            return true;
    return false;
}

static void fset_free(struct fset *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i].s);
    free(set->v);
}

static void fcond_free(struct fcond *c)
{
    fset_free(&c->eq);
    fset_free(&c->ne);
}

void scope_filter_free(struct fscopes *fs)
{
    for (int i = 1; i <= SCOPE_MAX_SCOPES; i++) {
        struct fscope *s = &fs->s[i];
        for (int k = 0; k < FK_COUNT; k++)
            fcond_free(&s->proc[k]);
        fcond_free(&s->event);
        fcond_free(&s->sourcetype);
        for (size_t d = 0; d < s->ndata; d++) {
            free(s->data[d].event);
            free(s->data[d].field);
            fcond_free(&s->data[d].c);
        }
        free(s->data);
        free(s->name);
    }
    memset(fs, 0, sizeof *fs);
}
