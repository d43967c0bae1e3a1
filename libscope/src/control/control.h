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
/* Reporting thread, before the process changes its uid or execs: the socket file goes now. Before
 * a uid change, while we may still remove it from our uid's directory (after it, the old uid's
 * 0700 directory is closed to us and the file would outlive the process); before an exec, since
 * the new image binds its own and one that ends before it gets to that would leave ours. It is
 * bound again (in the directory of the uid we then have) once scope_control_release_file says the
 * change or the failed exec is over, not before: a turn in between would bind it as it was. The
 * abstract names stay. */
void scope_control_unbind_file(void);
/* The app's thread, after that change (made or failed) or a failed exec: the file may be bound
 * again. */
void scope_control_release_file(void);

/* ctlreq.c: one request line answered into out (a JSON line); the refusal of a peer whose uid
 * may not control us (changed: it is ours, but we changed credentials). */
#include <stdbool.h>
#include <stddef.h>
struct sbuf;
void scope_ctl_request(const char *line, size_t len, struct sbuf *out);
void scope_ctl_denied(struct sbuf *out, unsigned peer_uid, unsigned our_uid, bool changed);
#endif
