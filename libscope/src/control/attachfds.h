/* attachfds.h — destination descriptors handed over by `scope attach`.
 *
 * An attached process may run as a user who cannot open its session's files (an nginx worker
 * running as nobody, attached by root: the session directory is root's, 0700). The attaching tool
 * opens them itself and hands the open descriptors over a one-time unix socket it listens on,
 * named by SCOPE_ATTACH_SOCKET in the attach config (or in a reattach request's config). The
 * setting is taken out of the settings (it is no setting of the process) and the reporting thread
 * fetches the descriptors, into its own descriptor table, before it writes anything. */
#ifndef SCOPE_ATTACHFDS_H
#define SCOPE_ATTACHFDS_H
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* The descriptors a handover brought: -1 for those it did not bring. */
struct scope_given {
    int event, metric, log;
};

/* Takes SCOPE_ATTACH_SOCKET out of kv (n updated): a handover is pending from then on. */
void scope_handover_take(struct scope_kv *kv, size_t *n);
/* A handover is announced and not done yet: file destinations wait for it instead of opening
 * their path (dest: scope_dest_give). */
bool scope_handover_pending(void);
/* Reporting thread: connects to the socket, checks the listener is root or our own user, and
 * receives the descriptors (bounded: a few seconds). 0, or -errno with why[] saying what failed.
 * The handover is no longer pending afterwards, whatever happened. */
int scope_handover_fetch(struct scope_given *g, char *why, size_t whylen);

#endif
