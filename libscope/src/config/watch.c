/* watch.c — the event watch types (file, console, fs, net, dns, http) and their filters, from SCOPE_EVENT_<TYPE>
 * and its _NAME, _FIELD and _VALUE regexes: an event is written when its source matches the
 * name regex and one of its values matches the value regex; only fields whose names match the
 * field regex are written. AppScope's regexes are PCRE; POSIX extended regexes cover them once
 * the escapes PCRE users write (\d \w \s and their negations, (?i)) are rewritten. */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dest/log.h"
#include "config/watch.h"

static const char *const env[SCOPE_W_COUNT] = {"SCOPE_EVENT_LOGFILE", "SCOPE_EVENT_CONSOLE",
                                               "SCOPE_EVENT_FS", "SCOPE_EVENT_NET",
                                               "SCOPE_EVENT_DNS", "SCOPE_EVENT_HTTP"};
static struct {
    bool on;
    regex_t *re[3];   /* name, field, value; NULL: everything passes */
} w[SCOPE_W_COUNT];
static bool muted;

/* PCRE → POSIX ERE for the escapes that differ. Inside brackets a class's contents are inlined. */
static char *to_ere(const char *s, int *flags)
{
    size_t n = strlen(s);
    char *o = malloc(n * 12 + 1), *p = o;
    if (!o)
        return NULL;
    if (!strncmp(s, "(?i)", 4)) {
        *flags |= REG_ICASE;
        s += 4;
    }
    bool in = false;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            const char *cls = NULL;
            switch (s[1]) {
            case 'd': cls = "0-9"; break;
            case 'w': cls = "A-Za-z0-9_"; break;
            case 's': cls = "[:space:]"; break;
            case 'D': cls = in ? NULL : "^0-9"; break;
            case 'W': cls = in ? NULL : "^A-Za-z0-9_"; break;
            case 'S': cls = in ? NULL : "^[:space:]"; break;
            }
            if (cls) {
                p += sprintf(p, in ? "%s" : "[%s]", cls);
                s++;
                continue;
            }
            if (in) {   /* an escaped character inside brackets is itself */
                *p++ = s[1];
                s++;
                continue;
            }
            *p++ = *s++;
            *p++ = *s;
            continue;
        }
        if (*s == '[' && !in) {
            in = true;
            *p++ = *s;
            if (s[1] == '^')
                *p++ = *++s;
            if (s[1] == ']')
                *p++ = *++s;
            continue;
        }
        if (*s == ']' && in)
            in = false;
        *p++ = *s;
    }
    *p = 0;
    return o;
}

regex_t *scope_watch_compile(const char *key)
{
    const char *src = scope_cfg_get(key);
    if (!src || !*src || !strcmp(src, ".*"))
        return NULL;
    int flags = REG_EXTENDED | REG_NOSUB;
    char *ere = to_ere(src, &flags);
    regex_t *re = malloc(sizeof *re);
    if (!ere || !re || regcomp(re, ere, flags) != 0) {
        scope_log(SCOPE_LOG_WARNING, "%s: cannot use the regular expression \"%s\"; matching everything",
                  key, src);
        free(re);
        re = NULL;
    }
    free(ere);
    return re;
}

/* Again after a config change (reporting thread, the only user of the regexes). */
void scope_watch_load(bool events)
{
    static const char *const part[3] = {"_NAME", "_FIELD", "_VALUE"};
    for (int t = 0; t < SCOPE_W_COUNT; t++) {
        for (int i = 0; i < 3; i++)
            if (w[t].re[i]) {
                regfree(w[t].re[i]);
                free(w[t].re[i]);
                w[t].re[i] = NULL;
            }
        w[t].on = events && scope_cfg_bool(env[t]);   /* no regex compiled for nothing */
        for (int i = 0; i < 3; i++) {
            char key[64];
            snprintf(key, sizeof key, "%s%s", env[t], part[i]);
            w[t].re[i] = w[t].on ? scope_watch_compile(key) : NULL;
        }
    }
}

bool scope_watch_on(enum scope_watch t) { return w[t].on && !muted; }

void scope_watch_mute(bool mute) { muted = mute; }

static bool match(regex_t *re, const char *s, size_t n)
{
    if (!re)
        return true;
    char small[512], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    bool ok = regexec(re, buf, 0, NULL, 0) == 0;
    if (buf != small)
        free(buf);
    return ok;
}

bool scope_watch_name(enum scope_watch t, const char *name)
{
    return match(w[t].re[0], name, strlen(name));
}

bool scope_watch_field(enum scope_watch t, const char *key)
{
    return !w[t].re[1] || match(w[t].re[1], key, strlen(key));
}

bool scope_watch_fields_filtered(enum scope_watch t) { return w[t].re[1] != NULL; }

bool scope_watch_value(enum scope_watch t, const struct scope_field *f, int nf)
{
    if (!w[t].re[2])
        return true;
    for (int i = 0; i < nf; i++) {
        char num[32];
        const char *s = f[i].s;
        size_t n = f[i].n;
        if (!s) {
            n = (size_t)snprintf(num, sizeof num, "%lld", f[i].num);
            s = num;
        }
        if (match(w[t].re[2], s, n))
            return true;
    }
    return false;
}
