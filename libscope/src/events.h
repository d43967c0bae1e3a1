/* events.h — ring records to NDJSON events (reporting thread only). */
#ifndef SCOPE_EVENTS_H
#define SCOPE_EVENTS_H
#include <stddef.h>

#include "json.h"
#include "scope.h"

/* Appends the event for r to o; returns the number of lines added. */
size_t scope_events_format(const struct scope_rec *r, struct sbuf *o);
void scope_events_reset(void);
#endif
