/* events.h — ring records to NDJSON events, and the per-call metrics the verbosity asks for
 * (reporting thread only). */
#ifndef SCOPE_EVENTS_H
#define SCOPE_EVENTS_H
#include <stddef.h>

#include "util/json.h"
#include "scope.h"
#include "config/watch.h"

/* Appends what r gives to ev (events) and met (metrics; NULL when metrics are off). */
void scope_events_format(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met);
/* Writes the text joined so far (console, log files) as events: complete lines, or all of it. */
void scope_events_flush(struct sbuf *ev, bool all);
/* The rate-limit notice, when events were dropped over SCOPE_EVENT_MAXEPS; returns how many. */
uint64_t scope_events_rate_notice(struct sbuf *ev, bool force);
void scope_events_reset(void);
/* Reads the app's working directory, on the app's thread, before the reporting thread starts
 * (report.c): relative names in records made before any chdir are resolved against it. */
void scope_events_cwd_start(void);
/* The entry for fd in a table indexed by descriptor (grown, zeroed, as fds appear); NULL for an fd
 * beyond the descriptor table or when memory runs out. */
void *scope_fd_slot(void **table, size_t *len, size_t elem, int fd);
/* Whether an event of this source, of time t_ns, may be written: SCOPE_FILTER may take it, and one
 * more fits in its second's SCOPE_EVENT_MAXEPS (false then counts it as dropped), so the caller can
 * skip building it. */
bool scope_event_room(const char *source, uint64_t t_ns);
/* One event through the watch filters, SCOPE_FILTER and the rate limit (which counts only the
 * events that pass the filters). Notices bypass the watch filters and the rate limit. */
void scope_event(struct sbuf *o, enum scope_watch w, const char *source, const char *sourcetype,
                 uint64_t chan, uint64_t t_ns, const struct scope_field *f, int nf);
#endif
