/* got.h — attach mode's way in: the GOT entries of the loaded objects pointed at our wrappers,
 * and back. A tiny plthook-like API: int results (a count, or -errno) and a message getter.
 *
 * Locking: every call but scope_got_prepare runs with the control lock held (ctl.c), and takes no
 * loader lock but dl_iterate_phdr's (never dl_load_lock: a thread inside dlopen may be waiting for
 * the control lock in our dlopen wrapper or in a fork handler). scope_got_prepare takes loader
 * locks and so runs without the control lock. */
#ifndef SCOPE_GOT_H
#define SCOPE_GOT_H
#include <stdbool.h>

#include "scope.h"

/* Looks up what a pass compares slots against: the real functions and our own wrappers (hooks.c)
 * and what the global scope binds each name to. */
void scope_got_prepare(void);
/* Points every slot of every eligible object (not libscope, the dynamic loader, the vdso or libc;
 * only the base namespace) that would call the real function of a hook at our wrapper. Returns
 * the number of slots patched by this pass, or -errno. unresolved[fn] is set for a hook an object
 * imports whose real function is not known yet (a TLS library loaded after us): the caller looks
 * it up, without the control lock, and passes again. */
int scope_got_patch(bool unresolved[SCOPE_FN_COUNT]);
/* Every slot that holds one of our wrappers gets back what it held. Returns how many. */
int scope_got_restore(void);
/* Objects were loaded or unloaded since the last pass (or a pass found one half loaded). */
bool scope_got_changed(void);
/* Slots currently pointed at our wrappers, by our passes. */
int scope_got_count(void);
/* The last failure of a pass, "" when none. */
const char *scope_got_error(void);
#endif
