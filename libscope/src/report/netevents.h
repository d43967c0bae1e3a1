/* netevents.h — socket, DNS and HTTP records to events and metrics (reporting thread only). */
#ifndef SCOPE_NETEVENTS_H
#define SCOPE_NETEVENTS_H
#include "util/json.h"
#include "scope.h"

/* SOCK, CONN, NCLOSE, DATA and DNS records. */
void scope_net_format(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met);
/* An ERROR record of a socket call, or on a socket: net.error (true), else false (fs.error). */
bool scope_net_error(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met);
/* net.rx, net.tx, net.open, net.close, net.duration, net.error summaries and the net gauges. */
void scope_net_summary(struct sbuf *met);
/* A forked child: an empty table, counting from the counters' values now. */
void scope_net_reset(void);
void scope_net_child(void);
/* The settings changed: SCOPE_EVENT_HTTP_HEADER is compiled again when next needed. */
void scope_net_config(void);
/* Payload files not written because their name or directory was refused (safefile.h). */
extern uint64_t scope_payload_refused;
#endif
