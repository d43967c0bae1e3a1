/* config.c — resolving the SCOPE_* settings: defaults < the KEY=VALUE file named by
 * SCOPE_CONF_PATH < the environment. Runs once at init (and never on the hot path), so plain
 * malloc and stdio are fine; the caller holds the thread guard. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"

extern char **environ;
struct scope_cfg scope_cfg;

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
    {"SCOPE_METRIC_NET", "true"},     {"SCOPE_METRIC_HTTP", "true"},
    {"SCOPE_METRIC_DNS", "true"},     {"SCOPE_PAYLOAD_ENABLE", "false"},
    {"SCOPE_PAYLOAD_DIR", "/tmp"},    {"SCOPE_DNS_PORTS", "53"},
};

static void set(const char *key, size_t klen, const char *val)
{
    for (size_t i = 0; i < scope_cfg.npairs; i++)
        if (strlen(scope_cfg.pairs[i].key) == klen && !strncmp(scope_cfg.pairs[i].key, key, klen)) {
            free(scope_cfg.pairs[i].val);
            scope_cfg.pairs[i].val = strdup(val);
            return;
        }
    struct scope_kv *p = realloc(scope_cfg.pairs, (scope_cfg.npairs + 1) * sizeof *p);
    if (!p)
        return;
    scope_cfg.pairs = p;
    p[scope_cfg.npairs].key = strndup(key, klen);
    p[scope_cfg.npairs].val = strdup(val);
    scope_cfg.npairs++;
}

const char *scope_cfg_get(const char *key)
{
    for (size_t i = 0; i < scope_cfg.npairs; i++)
        if (!strcmp(scope_cfg.pairs[i].key, key))
            return scope_cfg.pairs[i].val;
    return NULL;
}

static void read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && isspace((unsigned char)line[n - 1]))
            line[--n] = 0;
        char *k = line;
        while (isspace((unsigned char)*k))
            k++;
        char *eq = strchr(k, '=');
        if (*k == '#' || !eq || strncmp(k, "SCOPE_", 6) != 0)
            continue;
        char *kend = eq;
        while (kend > k && isspace((unsigned char)kend[-1]))
            kend--;
        set(k, (size_t)(kend - k), eq + 1);
    }
    free(line);
    fclose(f);
}

bool scope_cfg_bool(const char *key)
{
    const char *v = scope_cfg_get(key);
    return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "on"));
}

static long number(const char *key, long dflt, long min, long max)
{
    const char *v = scope_cfg_get(key);
    char *end;
    long n = v ? strtol(v, &end, 10) : dflt;
    if (!v || end == v || *end)
        n = dflt;
    return n < min ? min : n > max ? max : n;
}

static const char *nonempty(const char *key)
{
    const char *v = scope_cfg_get(key);
    return v && *v ? v : NULL;
}

void scope_config_load(void)
{
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        set(defaults[i][0], strlen(defaults[i][0]), defaults[i][1]);
    const char *conf = NULL;
    for (char **e = environ; e && *e; e++)
        if (!strncmp(*e, "SCOPE_CONF_PATH=", 16))
            conf = *e + 16;
    if (conf && *conf)
        read_file(conf);
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq && !strncmp(*e, "SCOPE_", 6))
            set(*e, (size_t)(eq - *e), eq + 1);
    }

    struct scope_cfg *c = &scope_cfg;
    c->event_enable = scope_cfg_bool("SCOPE_EVENT_ENABLE");
    c->metric_enable = scope_cfg_bool("SCOPE_METRIC_ENABLE");
    c->execve = scope_cfg_bool("SCOPE_EXECVE");
    c->allow_binary = scope_cfg_bool("SCOPE_ALLOW_BINARY_CONSOLE");
    c->met_fs = scope_cfg_bool("SCOPE_METRIC_FS");
    c->met_proc = scope_cfg_bool("SCOPE_METRIC_PROC");
    c->met_net = scope_cfg_bool("SCOPE_METRIC_NET");
    c->met_http = scope_cfg_bool("SCOPE_METRIC_HTTP");
    c->met_dns = scope_cfg_bool("SCOPE_METRIC_DNS");
    c->payload = scope_cfg_bool("SCOPE_PAYLOAD_ENABLE");
    c->payload_dir = nonempty("SCOPE_PAYLOAD_DIR");
    c->http_redact = scope_cfg_bool("SCOPE_EVENT_HTTP_REDACT");
    c->http_header = nonempty("SCOPE_EVENT_HTTP_HEADER");
    c->maxeps = number("SCOPE_EVENT_MAXEPS", 10000, 0, 1000000000);
    c->event_dest = nonempty("SCOPE_EVENT_DEST");
    c->metric_dest = nonempty("SCOPE_METRIC_DEST");
    c->log_dest = nonempty("SCOPE_LOG_DEST");
    c->statsd_prefix = scope_cfg_get("SCOPE_STATSD_PREFIX");
    const char *fmt = scope_cfg_get("SCOPE_METRIC_FORMAT");
    c->statsd = fmt && !strcasecmp(fmt, "statsd");
    c->verbosity = (int)number("SCOPE_METRIC_VERBOSITY", 4, 0, 9);
    c->period = (int)number("SCOPE_SUMMARY_PERIOD", 10, 1, 86400);
    c->statsd_maxlen = (int)number("SCOPE_STATSD_MAXLEN", 512, 32, 65536);
    c->queue_len = (size_t)number("SCOPE_QUEUE_LENGTH", 8192, 16, 1 << 20);
    int lvl = scope_log_level_parse(scope_cfg_get("SCOPE_LOG_LEVEL"));
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
