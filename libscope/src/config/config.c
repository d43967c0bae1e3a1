/* config.c — resolving the SCOPE_* settings. Started by LD_PRELOAD: defaults < the KEY=VALUE file
 * named by SCOPE_CONF_PATH < the environment. Attached (scope_attach) or changed through the
 * control socket: defaults (or the settings in force) < the pairs given, the environment never
 * read. Runs at init and in the reporting thread, never on the hot path, so plain malloc and stdio
 * are fine; the caller holds the thread guard. A change builds the new set aside and swaps it in
 * whole, so the reader that holds the control lock (ctl.c) never sees half of one. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libc/libc.h"
#include "config/config.h"
#include "control/handover.h"
#include "dest/log.h"

extern char **environ;
struct scope_cfg scope_cfg;
unsigned scope_cfg_gen;

static const char *const defaults[][2] = {
    {"SCOPE_EVENT_ENABLE", "true"},   {"SCOPE_METRIC_ENABLE", "true"},
    {"SCOPE_METRIC_FORMAT", "ndjson"}, {"SCOPE_METRIC_VERBOSITY", "4"},
    {"SCOPE_SUMMARY_PERIOD", "10"},   {"SCOPE_LOG_LEVEL", "warning"},
    {"SCOPE_EVENT_FS", "true"},       {"SCOPE_EVENT_CONSOLE", "true"},
    {"SCOPE_EXECVE", "true"},         {"SCOPE_QUEUE_LENGTH", "8192"},
    {"SCOPE_STATSD_PREFIX", ""},      {"SCOPE_STATSD_MAXLEN", "512"},
    {"SCOPE_EVENT_LOGFILE", "true"},  {"SCOPE_EVENT_LOGFILE_NAME", SCOPE_LOGFILE_PATTERN},
    {"SCOPE_EVENT_MAXEPS", "10000"},  {"SCOPE_ALLOW_BINARY_CONSOLE", "false"},
    {"SCOPE_METRIC_FS", "true"},      {"SCOPE_METRIC_PROC", "true"},
    {"SCOPE_EVENT_NET", "true"},      {"SCOPE_EVENT_DNS", "true"},
    {"SCOPE_EVENT_HTTP", "true"},     {"SCOPE_EVENT_HTTP_REDACT", "true"},
    {"SCOPE_REDACT_ARGS", "true"},
    {"SCOPE_METRIC_NET", "true"},     {"SCOPE_METRIC_HTTP", "true"},
    {"SCOPE_METRIC_DNS", "true"},     {"SCOPE_PAYLOAD_ENABLE", "false"},
    {"SCOPE_METRIC_STATSD", "true"},
    {"SCOPE_PAYLOAD_DIR", "/tmp"},    {"SCOPE_DNS_PORTS", "53"},
    {"SCOPE_SNAPSHOT_BACKTRACE", "false"}, {"SCOPE_SNAPSHOT_COREDUMP", "false"},
    /* network destinations (destnet.c): a pending connect's bound, each one's buffer in bytes */
    {"SCOPE_CONNECT_TIMEOUT_SECS", "10"}, {"SCOPE_DEST_BUFFER", "1048576"},
    {"SCOPE_EVENT_TLS_ENABLE", "false"},  {"SCOPE_EVENT_TLS_VALIDATE_SERVER", "true"},
    {"SCOPE_EVENT_TLS_CA_CERT_PATH", ""}, {"SCOPE_METRIC_TLS_ENABLE", "false"},
    {"SCOPE_METRIC_TLS_VALIDATE_SERVER", "true"}, {"SCOPE_METRIC_TLS_CA_CERT_PATH", ""},
    {"SCOPE_LOG_TLS_ENABLE", "false"},    {"SCOPE_LOG_TLS_VALIDATE_SERVER", "true"},
    {"SCOPE_LOG_TLS_CA_CERT_PATH", ""},
};

static void set(struct scope_cfg *c, const char *key, size_t klen, const char *val)
{
    for (size_t i = 0; i < c->npairs; i++)
        if (strlen(c->pairs[i].key) == klen && !strncmp(c->pairs[i].key, key, klen)) {
            char *v = strdup(val);
            if (v) {
                free(c->pairs[i].val);
                c->pairs[i].val = v;
            }
            return;
        }
    struct scope_kv *p = realloc(c->pairs, (c->npairs + 1) * sizeof *p);
    if (!p)
        return;
    c->pairs = p;
    p[c->npairs].key = strndup(key, klen);
    p[c->npairs].val = strdup(val);
    if (!p[c->npairs].key || !p[c->npairs].val) {
        free(p[c->npairs].key);
        free(p[c->npairs].val);
        return;
    }
    c->npairs++;
}

static const char *get(const struct scope_cfg *c, const char *key)
{
    for (size_t i = 0; i < c->npairs; i++)
        if (!strcmp(c->pairs[i].key, key))
            return c->pairs[i].val;
    return NULL;
}

const char *scope_cfg_get(const char *key) { return get(&scope_cfg, key); }

size_t scope_config_parse(const char *text, struct scope_kv **out)
{
    struct scope_kv *kv = NULL;
    size_t n = 0;
    *out = NULL;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *k = line, *end = line + len;
        line = nl ? nl + 1 : NULL;
        while (end > k && isspace((unsigned char)end[-1]))
            end--;
        while (k < end && isspace((unsigned char)*k))
            k++;
        const char *eq = memchr(k, '=', (size_t)(end - k));
        if (k == end || *k == '#' || !eq || strncmp(k, "SCOPE_", 6) != 0)
            continue;
        const char *kend = eq;
        while (kend > k && isspace((unsigned char)kend[-1]))
            kend--;
        struct scope_kv *p = realloc(kv, (n + 1) * sizeof *p);
        if (!p)
            break;
        kv = p;
        kv[n].key = strndup(k, (size_t)(kend - k));
        kv[n].val = strndup(eq + 1, (size_t)(end - eq - 1));
        if (kv[n].key && kv[n].val)
            n++;
        else {
            free(kv[n].key);
            free(kv[n].val);
        }
    }
    *out = kv;
    return n;
}

void scope_kv_free(struct scope_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].val);
    }
    free(kv);
}

static char *conf_path;

const char *scope_config_path(void) { return conf_path; }

/* By name, or through the copy pinned for a process that changed user since (handover.c), read
 * with pread: the copy shares its offset with every other image it was handed to. */
static void read_file(struct scope_cfg *c, const char *path)
{
    free(conf_path);
    conf_path = strdup(path);
    int fd = scope_real_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM))
        fd = scope_pin_dup("conf");
    if (fd < 0)
        return;
    char *text = NULL;
    size_t len = 0, cap = 0;
    ssize_t got;
    do {
        if (len + 4096 + 1 > cap) {
            char *t = realloc(text, cap = len + 65536);
            if (!t)
                break;
            text = t;
        }
        got = scope_real_pread(fd, text + len, cap - len - 1, (off_t)len);
        if (got > 0)
            len += (size_t)got;
    } while (got > 0 || (got < 0 && errno == EINTR));
    scope_real_close(fd);
    if (!text)
        return;
    text[len] = 0;
    struct scope_kv *kv;
    size_t n = scope_config_parse(text, &kv);
    for (size_t i = 0; i < n; i++)
        set(c, kv[i].key, strlen(kv[i].key), kv[i].val);
    scope_kv_free(kv, n);
    free(text);
}

static bool is_true(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "on"));
}

bool scope_cfg_bool(const char *key) { return is_true(scope_cfg_get(key)); }

static long number(const struct scope_cfg *c, const char *key, long dflt, long min, long max)
{
    const char *v = get(c, key);
    char *end;
    long n = v ? strtol(v, &end, 10) : dflt;
    if (!v || end == v || *end)
        n = dflt;
    return n < min ? min : n > max ? max : n;
}

static const char *nonempty(const struct scope_cfg *c, const char *key)
{
    const char *v = get(c, key);
    return v && *v ? v : NULL;
}

static void derive(struct scope_cfg *c)
{
    c->event_enable = is_true(get(c, "SCOPE_EVENT_ENABLE"));
    c->metric_enable = is_true(get(c, "SCOPE_METRIC_ENABLE"));
    c->execve = is_true(get(c, "SCOPE_EXECVE"));
    c->allow_binary = is_true(get(c, "SCOPE_ALLOW_BINARY_CONSOLE"));
    c->met_fs = is_true(get(c, "SCOPE_METRIC_FS"));
    c->met_proc = is_true(get(c, "SCOPE_METRIC_PROC"));
    c->met_net = is_true(get(c, "SCOPE_METRIC_NET"));
    c->met_http = is_true(get(c, "SCOPE_METRIC_HTTP"));
    c->met_dns = is_true(get(c, "SCOPE_METRIC_DNS"));
    c->met_statsd = is_true(get(c, "SCOPE_METRIC_STATSD"));
    c->payload = is_true(get(c, "SCOPE_PAYLOAD_ENABLE"));
    c->payload_dir = nonempty(c, "SCOPE_PAYLOAD_DIR");
    c->http_redact = is_true(get(c, "SCOPE_EVENT_HTTP_REDACT"));
    c->http_header = nonempty(c, "SCOPE_EVENT_HTTP_HEADER");
    c->maxeps = number(c, "SCOPE_EVENT_MAXEPS", 10000, 0, 1000000000);
    c->event_dest = nonempty(c, "SCOPE_EVENT_DEST");
    c->metric_dest = nonempty(c, "SCOPE_METRIC_DEST");
    c->log_dest = nonempty(c, "SCOPE_LOG_DEST");
    c->statsd_prefix = get(c, "SCOPE_STATSD_PREFIX");
    const char *fmt = get(c, "SCOPE_METRIC_FORMAT");
    c->statsd = fmt && !strcasecmp(fmt, "statsd");
    c->verbosity = (int)number(c, "SCOPE_METRIC_VERBOSITY", 4, 0, 9);
    c->period = (int)number(c, "SCOPE_SUMMARY_PERIOD", 10, 1, 86400);
    c->statsd_maxlen = (int)number(c, "SCOPE_STATSD_MAXLEN", 512, 32, 65536);
    c->queue_len = (size_t)number(c, "SCOPE_QUEUE_LENGTH", 8192, 16, 1 << 20);
    c->file_maxbytes = (uint64_t)number(c, "SCOPE_FILE_MAXBYTES", 0, 0, LONG_MAX);
    const char *lv = get(c, "SCOPE_LOG_LEVEL");
    int lvl = lv ? scope_log_level_parse(lv) : -1;
    c->log_level = lvl < 0 ? SCOPE_LOG_WARNING : lvl;

    for (size_t i = 0; i < c->npairs; i++) {
        if (strncmp(c->pairs[i].key, "SCOPE_TAG_", 10) || !c->pairs[i].key[10])
            continue;
        struct scope_kv *t = realloc(c->tags, (c->ntags + 1) * sizeof *t);
        if (!t)
            break;
        c->tags = t;
        t[c->ntags].key = c->pairs[i].key + 10;
        t[c->ntags].val = c->pairs[i].val;
        c->ntags++;
    }
}

static void with_defaults(struct scope_cfg *c)
{
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        set(c, defaults[i][0], strlen(defaults[i][0]), defaults[i][1]);
}

void scope_config_load(void)
{
    struct scope_cfg c = {0};
    with_defaults(&c);
    const char *conf = NULL;
    for (char **e = environ; e && *e; e++)
        if (!strncmp(*e, "SCOPE_CONF_PATH=", 16))
            conf = *e + 16;
    if (conf && *conf)
        read_file(&c, conf);
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq && !strncmp(*e, "SCOPE_", 6))
            set(&c, *e, (size_t)(eq - *e), eq + 1);
    }
    derive(&c);
    scope_cfg = c;
    scope_cfg_gen++;
}

void scope_config_set(const struct scope_kv *kv, size_t n, bool merge)
{
    struct scope_cfg c = {0}, old = scope_cfg;
    if (merge)
        for (size_t i = 0; i < old.npairs; i++)
            set(&c, old.pairs[i].key, strlen(old.pairs[i].key), old.pairs[i].val);
    else
        with_defaults(&c);
    for (size_t i = 0; i < n; i++)
        set(&c, kv[i].key, strlen(kv[i].key), kv[i].val);
    derive(&c);
    scope_cfg = c;
    scope_cfg_gen++;
    scope_kv_free(old.pairs, old.npairs);
    free(old.tags);
}
