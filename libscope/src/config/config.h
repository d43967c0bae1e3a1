/* config.h — the SCOPE_* settings libscope runs with. */
#ifndef SCOPE_CONFIG_H
#define SCOPE_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AppScope's default for SCOPE_EVENT_LOGFILE_NAME. */
#define SCOPE_LOGFILE_PATTERN "(\\/logs?\\/)|(\\.log$)|(\\.log[.\\d])"

struct scope_kv {
    char *key, *val;
};

struct scope_cfg {
    bool event_enable, metric_enable, execve, allow_binary;   /* watch types: watch.c */
    bool met_fs, met_proc, met_net, met_http, met_dns;
    bool met_statsd;          /* the statsd watch: relay the app's own StatsD datagrams */
    bool payload, http_redact;
    const char *payload_dir;  /* SCOPE_PAYLOAD_DIR */
    const char *http_header;  /* SCOPE_EVENT_HTTP_HEADER: names of headers put in http events */
    long maxeps;              /* events per second, 0: no limit */
    const char *event_dest, *metric_dest, *log_dest, *statsd_prefix;
    bool statsd;
    int verbosity, period, log_level, statsd_maxlen;
    size_t queue_len;
    uint64_t file_maxbytes;   /* SCOPE_FILE_MAXBYTES: cap of an events/metrics file, 0: none */
    struct scope_kv *pairs;   /* every SCOPE_* in force, defaults included */
    size_t npairs;
    struct scope_kv *tags;    /* SCOPE_TAG_<name>: key is <name> */
    size_t ntags;
};
extern struct scope_cfg scope_cfg;
/* Counts changes of scope_cfg (what is made from it can tell it is still current). */
extern unsigned scope_cfg_gen;

/* Defaults, then the file SCOPE_CONF_PATH names, then the environment (a preloaded start). */
void scope_config_load(void);
/* The SCOPE_CONF_PATH file read at load, or NULL. */
const char *scope_config_path(void);
/* The settings in force become defaults + kv (merge false: an attach, a reattach) or the settings
 * in force + kv (merge true: an update). The environment is not read. The old strings are freed:
 * the caller holds the control lock, and only the reporting thread and init read them. */
void scope_config_set(const struct scope_kv *kv, size_t n, bool merge);
/* KEY=VALUE lines (SCOPE_* keys; blank lines and # comments skipped, as in scope.env) into an
 * array the caller frees with scope_kv_free; returns how many. */
size_t scope_config_parse(const char *text, struct scope_kv **out);
void scope_kv_free(struct scope_kv *kv, size_t n);
const char *scope_cfg_get(const char *key);
bool scope_cfg_bool(const char *key);
#endif
