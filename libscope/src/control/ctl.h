/* ctl.h — how libscope came in (preload, attach) and the changes made to it while it runs: the
 * control lock, update, detach and reattach (asked for on the control socket, control.c), and
 * the GOT kept patched while attached (got.c). */
#ifndef SCOPE_CTL_H
#define SCOPE_CTL_H
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

enum scope_mode { SCOPE_MODE_NONE, SCOPE_MODE_PRELOAD, SCOPE_MODE_ATTACH, SCOPE_MODE_PROXY };

/* init.c */
int scope_mode(void);
/* Starts reporting with the settings in scope_cfg: log, filter, queue, reporting thread, fork
 * handlers. 0, or -errno. */
int scope_start(int how);
/* What the hot path records, from the settings in force; recording false: nothing at all. */
void scope_hot_apply(bool recording);
/* The destinations the settings ask for (NULL: off). */
const char *scope_event_url(void);
const char *scope_metric_url(void);

/* attach.c: whether this copy of the library was preloaded (its wrappers win the symbol lookup,
 * or LD_PRELOAD names it and it is in the global scope). */
bool scope_preloaded(void);

/* ctl.c. Fork handlers: a fork waits for a change in progress, so the child never inherits half
 * of one (a config half swapped, a GOT page left writable). */
void scope_ctl_fork_prepare(void);
void scope_ctl_fork_parent(void);
void scope_ctl_fork_child(void);
/* Attach mode, just started: the GOT patched for the first time. */
void scope_ctl_attached(void);
/* A dlopen returned (attach mode): objects it loaded are patched. Any thread, no lock held. */
void scope_ctl_loaded(void);
/* Reporting thread, each turn of its loop: objects loaded behind our back (libc's own dlopen of
 * NSS or iconv modules) are patched within one nap. */
void scope_ctl_turn(void);
/* Reporting thread (control requests). update merges kv into the settings in force; reattach
 * resumes, with defaults + kv (replace) or the settings in force. 0 or -errno. */
int scope_ctl_update(const struct scope_kv *kv, size_t n);
int scope_ctl_detach(void);
int scope_ctl_reattach(const struct scope_kv *kv, size_t n, bool replace);
/* Records are being made (started, not detached). */
bool scope_ctl_scoped(void);
#endif
