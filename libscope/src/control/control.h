/* control.h — the control socket "@scope/<pid>", served by the reporting thread. */
#ifndef SCOPE_CONTROL_H
#define SCOPE_CONTROL_H
/* Each turn of the reporting thread's loop: listens (again, in a forked child: under its own
 * pid), accepts, reads requests and answers them. Never blocks. */
void scope_control_serve(void);
/* A forked child: the parent's socket and connections are in the parent's reporting thread's
 * descriptor table, not ours: forgotten, not closed. */
void scope_control_child(void);
/* The reporting thread ends (process exit). */
void scope_control_close(void);

/* ctlreq.c: one request line answered into out (a JSON line); the refusal of a peer whose uid
 * may not control us (changed: it is ours, but we changed credentials). */
#include <stdbool.h>
#include <stddef.h>
struct sbuf;
void scope_ctl_request(const char *line, size_t len, struct sbuf *out);
void scope_ctl_denied(struct sbuf *out, unsigned peer_uid, unsigned our_uid, bool changed);
#endif
