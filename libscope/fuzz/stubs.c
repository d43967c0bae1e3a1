/* stubs.c — what the fuzzed parsers call outside their own files, done without side effects:
 * the log formats its message (so bad format arguments are still caught) and drops it, the
 * settings are defaults, the relay formats the metric's strings into the buffer (so every string
 * the StatsD parser hands out is read), libc is called directly. Linked into every fuzz target
 * and replay driver. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../src/config/config.h"
#include "../src/report/emit.h"
#include "../src/util/json.h"
#include "../src/dest/log.h"

/* The libc layer's pointers the linked sources use (src/libc/libc.h), pointing at libc itself:
 * a driver interposes nothing. Weak, like scope_cfg, for a target that links the real table. */
__attribute__((weak)) int (*scope_real_open)(const char *, int, ...) = open;
__attribute__((weak)) ssize_t (*scope_real_pread)(int, void *, size_t, off_t) = pread;
__attribute__((weak)) int (*scope_real_close)(int) = close;

/* Weak: the config target links the real one (src/config/config.c). */
__attribute__((weak)) struct scope_cfg scope_cfg;

void scope_log(int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    (void)level;
}

int scope_log_level_parse(const char *s)
{
    (void)s;
    return 0;
}

int scope_pin_dup(const char *what)
{
    (void)what;
    return -1;
}

static void put(struct sbuf *o, const char *s)
{
    if (s)
        sb_jcstr(o, s);
}

bool scope_emit_relay(struct sbuf *o, const struct scope_relay *r, uint64_t t_ns)
{
    put(o, r->name);
    put(o, r->type);
    put(o, r->value_text);
    put(o, r->value_json);
    put(o, r->rate_text);
    put(o, r->rate_json);
    put(o, r->member);
    for (int i = 0; i < 2 * r->ntags; i++)
        put(o, r->tags[i]);
    sb_u(o, t_ns);
    sb_s(o, "\n");
    /* Keep the buffer small over a long run: only the reading matters here. */
    if (o->len > 65536)
        o->len = 0;
    return (int)strlen(r->name) < scope_cfg.statsd_maxlen;
}
