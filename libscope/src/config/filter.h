/* filter.h — SCOPE_FILTER: up to 64 Tracee-style scopes over this process's records, with the
 * semantics of tools/scope-filter/README.md (the stream filter implements the same). */
#ifndef SCOPE_FILTER_H
#define SCOPE_FILTER_H
#include <stdbool.h>
#include <stdint.h>

#include "util/json.h"
#include "config/watch.h"

/* A good SCOPE_FILTER is in force. False: every record is written as without it, at no cost. */
extern bool scope_filter_on;

/* Init (the log is open, the thread guard held): parses SCOPE_FILTER and SCOPE_FILTER_NAMES (a bad
 * filter is logged and filtering stays off) and decides which scopes this process matches. */
void scope_filter_load(void);
/* The settings changed (the control lock held, reporting thread): filters read again, the
 * process's scopes decided again. */
void scope_filter_reload(void);
/* A forked child, single-threaded and async-signal-safe: what its parent matched is what it may
 * follow; its pid, ppid and tree are decided again. */
void scope_filter_child(void);
/* False when no event record of this process can match (it matches no scope, or its scopes select
 * only process-start records): its events need not be made at all. */
bool scope_filter_events(void);

/* The scopes an event matches, 0 to drop it. w: the watch type whose field filter decides which of
 * f are written (SCOPE_W_COUNT: all of them). Reporting thread. */
uint64_t scope_filter_event(const char *source, const char *sourcetype, enum scope_watch w,
                            const struct scope_field *f, int nf);
/* Before building an event of a known source: SCOPE_FILTER_NO when it cannot match,
 * SCOPE_FILTER_YES when it matches once built, SCOPE_FILTER_DATA when its data decides. */
enum { SCOPE_FILTER_NO, SCOPE_FILTER_YES, SCOPE_FILTER_DATA };
int scope_filter_may(const char *source);
/* The process-start record: false when some scope names start.msg and none of them matches.
 * *mask: the scopes to write with it (0: none, the record is written as it always was). */
bool scope_filter_start(uint64_t *mask);
/* ,"matchedScopes":"<decimal>","matchedPolicies":[names ascending by scope] */
void scope_filter_write(struct sbuf *o, uint64_t mask);
/* "SCOPE_FILTER_FOLLOW=<mask>" for the environment of an exec; vforked: the caller is a vfork
 * child running in our memory (its parent is us). NULL when filtering is off. Stack only. */
const char *scope_filter_follow_var(bool vforked);
#endif
