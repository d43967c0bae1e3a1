/* emit.h — the record formats of schemas/README.md, written into text buffers. */
#ifndef SCOPE_EMIT_H
#define SCOPE_EMIT_H
#include <stdbool.h>
#include <stdint.h>

#include "util/json.h"

struct scope_dim {
    const char *key;
    const char *str;   /* NULL: use num */
    long long num;
    int level;         /* the metric verbosity from which this dimension is written */
};

/* The process-start record; false when SCOPE_FILTER leaves it out. */
/* {"SCOPE_X":"value",…}: every setting in force (the start record's configuration, status). */
void scope_emit_config(struct sbuf *o);
bool scope_emit_start(struct sbuf *o);
/* {"type":"evt",...,"body":{...,"data":{  — the caller writes the data keys, then _tail. */
void scope_emit_event_head(struct sbuf *o, const char *source, const char *sourcetype,
                           uint64_t chan, uint64_t t_ns);
/* matched: the SCOPE_FILTER scopes it matched (0: none, unfiltered). */
void scope_emit_event_tail(struct sbuf *o, uint64_t matched);
/* A notice event (source notice, sourcetype metric); false when SCOPE_FILTER leaves it out. */
bool scope_emit_notice(struct sbuf *o, const char *message);
void scope_emit_metric(struct sbuf *o, const char *name, const char *type, long long value,
                       const char *unit, const struct scope_dim *dims, int ndims, uint64_t t_ns);
/* A metric the app sent as StatsD (the statsd watch, statsd.c), relayed with our tags. */
struct scope_relay {
    const char *name;
    const char *type;                     /* counter, gauge, timer, histogram or set */
    const char *value_text, *value_json;  /* as the app wrote it (StatsD), and as a JSON number */
    const char *rate_text, *rate_json;    /* its sample rate, NULL when not sampled */
    const char *member;                   /* a set's member that is not a number (value_json: 1) */
    bool delta;                           /* a gauge given with a sign: a change, not a level */
    const char *const *tags;              /* the app's tags: key, value (NULL: a bare tag) pairs */
    int ntags;
};
/* NDJSON with "_source":"statsd" (schemas: statsd), or a StatsD line with SCOPE_STATSD_PREFIX; the
 * app's tags first, then ours (an app tag named like one of ours is left out). false: the line
 * cannot fit SCOPE_STATSD_MAXLEN even without tags, and nothing was written. */
bool scope_emit_relay(struct sbuf *o, const struct scope_relay *r, uint64_t t_ns);
/* proc.* metrics: proc.start (start) or cpu/mem/thread/fd (periodic and final). */
void scope_emit_proc_metrics(struct sbuf *o, bool start);
void scope_metrics_reset(void);
#endif
