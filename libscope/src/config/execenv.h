/* execenv.h — what an exec carries to the new image (execenv.c). */
#ifndef SCOPE_EXECENV_H
#define SCOPE_EXECENV_H
#include <stdbool.h>
#include <stddef.h>

#include "control/handover.h"

#define MAX_CARRIED 64
/* How many entries the environment for a new image may need beyond the app's own. */
#define ENV_EXTRA (MAX_CARRIED + 5 + SCOPE_PIN_COUNT)

/* What exec needs, taken at init (preload: the SCOPE_* of the environment) or from the settings
 * in force (attach: scope_cfg, which the new image then gets in its environment); again after
 * each config change. off: a detached process execs unchanged. */
void scope_exec_prepare(bool from_config);
void scope_exec_off(void);
/* Fills env (room for n + ENV_EXTRA entries) with the environment that keeps the new image
 * scoped and names the filter scopes it may follow; merged is room for a combined LD_PRELOAD;
 * supervised: followed by scope-supervise (SCOPE_SUPERVISED=1). Returns envp itself when nothing
 * needs changing. Stack memory only (a vfork child). */
char *const *scope_exec_env(char *const envp[], size_t n, char **env, char *merged, size_t mlen,
                            char hand[SCOPE_PIN_COUNT][32], bool supervised);
/* This library's path when a new image is to be scoped (not with SCOPE_EXECVE=false, nor once
 * detached); NULL otherwise. */
const char *scope_exec_self(void);
/* "LD_PRELOAD=..." (var) without this library (the loader splits the list at spaces and colons)
 * into out; false when nothing else is left. Stack only. */
bool scope_exec_without_self(const char *var, char *out, size_t cap);
/* The descriptors pinned after a change of user that go to the new image (fds, and the variables
 * naming them), if it is to be scoped at all; -1 and "" otherwise. */
void scope_exec_handing(int fds[SCOPE_PIN_COUNT], char vars[SCOPE_PIN_COUNT][32]);
#endif
