/* handover.h — file destinations pinned across a change of user, and handed to an exec'd image
 * (handover.c says why). */
#ifndef SCOPE_HANDOVER_H
#define SCOPE_HANDOVER_H

enum { SCOPE_PIN_COUNT = 4 };   /* event, metric, log destinations; the SCOPE_CONF_PATH file */

/* A copy (close-on-exec) of the descriptor pinned for the destination named what, or -1. */
int scope_pin_dup(const char *what);
/* The pinned descriptor of slot i (event, metric, log), or -1: the reporting thread keeps it in
 * its own table. */
int scope_pin_fd(int i);
/* Constructor: adopt the descriptors SCOPE_EVENT_FD, SCOPE_METRIC_FD, SCOPE_LOG_FD name. */
void scope_pin_take_handed(void);
/* Proxy reporting (interpose/proxy.c), in the helper, with the subject's environment and before it
 * takes the subject's credentials: the descriptors handed to the subject's image are copied from
 * its table (pidfd_getfd) and the variables made to name the copies, for scope_pin_take_handed. */
void scope_pin_copy_handed(pid_t pid);
/* Around a change of credentials: open the file destinations first; keep only what the new
 * credentials could not open. */
void scope_pin_before(void);
/* Before a fork or an exec of a process whose files `scope attach` handed to its reporting thread
 * (it runs as a user who cannot open them): copies of them are pinned in the app's table too,
 * taken from that thread with pidfd_getfd, so its children can write where it does. */
void scope_pin_pull(void);
void scope_pin_after(void);
/* exec: copies for the new image and their "SCOPE_X_FD=N" variables; how many. unhand closes the
 * copies again (the exec failed). Stack and syscalls only. */
int scope_pin_hand(int fds[SCOPE_PIN_COUNT], char vars_out[SCOPE_PIN_COUNT][32]);
void scope_pin_unhand(const int fds[SCOPE_PIN_COUNT]);

#endif
