/* supexec.h — an exec of a program libscope cannot see into, followed from outside (supexec.c). */
#ifndef SCOPE_SUPEXEC_H
#define SCOPE_SUPEXEC_H
#include <spawn.h>
#include <stdbool.h>

#include "util/exekind.h"

/* Before the real exec of the file at path, of kind k (report/elfkind.c's scope_exec_kind): when it
 * is a static executable or a Go program (not setuid or setgid), scope-supervise now follows this
 * thread, and the seccomp
 * filter that hands it the watched calls is installed: true, and the new image's environment must
 * carry SCOPE_SUPERVISED=1. false: nothing changed (the notice is then due). errno is kept. */
bool scope_exec_follow(enum scope_exe_kind k, const char *path);

/* posix_spawn(p) of the file at path, of kind k: scope-supervise is spawned in its place to run it
 * (the file actions and attributes are its, and so its child's), with env (the scoped one): true,
 * *rc 0, when it was; false: spawn the program as usual (the notice is due). */
bool scope_spawn_follow(int *rc, enum scope_exe_kind k, const char *path, pid_t *pid,
                        const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                        char *const argv[], char *const env[]);
#endif
