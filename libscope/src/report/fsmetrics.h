/* fsmetrics.h — the fs.* metrics: summaries per period from the per-thread counters, per-call
 * metrics from ring records where the verbosity turns summarising off. */
#ifndef SCOPE_FSMETRICS_H
#define SCOPE_FSMETRICS_H
#include "util/json.h"
#include "scope.h"

/* Verbosity from which each kind of call is reported one by one instead of summarised. */
enum { SCOPE_V_ERROR = 5, SCOPE_V_OPEN = 6, SCOPE_V_STAT = 7, SCOPE_V_SEEK = 8, SCOPE_V_IO = 9 };

void scope_fsm_call(struct sbuf *met, const struct scope_rec *r, const char *path);
void scope_fsm_error(struct sbuf *met, const struct scope_rec *r, const char *path, const char *cls);
void scope_fsm_summary(struct sbuf *met);
/* The class an error of a call in category c is counted under (fs.error's class). */
const char *scope_err_class(enum scope_cat c);
/* A forked child starts counting from what the counters hold at the fork. */
void scope_fsm_child(void);
#endif
