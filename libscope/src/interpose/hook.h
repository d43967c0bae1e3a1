/* hook.h — function-entry hooks for x86-64: the first instructions of a function are replaced by
 * a jmp to ours, for code that calls a function directly (call rel32) and so never goes through a
 * GOT slot we could rewrite: node's statically linked OpenSSL (SSL_read, SSL_write).
 *
 * The module stands alone (libc only, no other libscope subsystem) and makes its own system calls:
 * it works preloaded or attached, whether or not our sigaction wrapper is in front of libc's.
 * hook.c says how a hook is put in while other threads run the very function being hooked.
 *
 * The names carry "entry": struct scope_hook is already scope.h's (the table of interposed
 * functions, hooks.c), and wrap_tls.c includes both. */
#ifndef SCOPE_HOOK_H
#define SCOPE_HOOK_H
#include <stdbool.h>
#include <stdint.h>

struct scope_entry_hook {
  void *target;    /* the hooked function, while installed; NULL otherwise */
  void *original;  /* calls the function as it was (its first instructions, moved, then the rest);
                    * set before the first call can reach the replacement, kept by remove */
  /* private */
  int rec;         /* index of hook.c's record for target (its trampoline), -1 when none */
  bool installed;
  uint64_t saved;  /* the aligned 8-byte word at target before the patch */
  uint64_t patch;  /* the word with the jmp in it */
};

/* Hooks target: calls of it go to replacement; h->original calls the function as it was. 0 or
 * -errno: EINVAL, a first instruction it cannot move (a relative branch or call within the first
 * 5 bytes, an unknown opcode, a ret, an int3, a one-byte first instruction other than push reg or
 * one that may run twice), or the first 5 bytes not within one aligned 8-byte word; ENOMEM, no
 * page within ±2 GiB (or the table of hooked functions is full); ENOSYS, not x86-64; EBUSY, other
 * threads could not be brought out of the patched bytes in time (a thread that runs with SIGTRAP
 * blocked). Nothing is changed on failure. Not async-signal-safe; calls are serialized by a lock
 * of the module. h must not hold an installed hook (it is overwritten). */
int scope_entry_hook_install(struct scope_entry_hook *h, void *target, void *replacement);
/* Puts the original bytes back; the trampoline stays mapped (a thread may still be in it, and
 * h->original keeps working). 0 or -errno (EINVAL: not installed, or the bytes at target are no
 * longer our patch). */
int scope_entry_hook_remove(struct scope_entry_hook *h);
#endif
