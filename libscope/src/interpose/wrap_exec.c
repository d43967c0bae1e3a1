/* wrap_exec.c — the exec family and posix_spawn. An exec replaces the image: what it recorded
 * (events, and the metrics of its last period) is flushed first, whichever entry point the app
 * used (execve, execv, execvp, execvpe, execl, execle, execlp, fexecve, execveat: glibc's own
 * variants call its internal execve, out of an interposer's reach, so each needs a wrapper). The
 * new image is kept scoped (LD_PRELOAD and the settings) and told, in SCOPE_FILTER_FOLLOW, which
 * filter scopes its parent matched (the environment it gets is built by config/execenv.c).
 * posix_spawn children get the same environment; nothing of the parent is lost there, it goes on. An exec may run in a vfork child that shares our memory:
 * there we touch nothing but the stack. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config/config.h"
#include "config/execenv.h"
#include "report/elfkind.h"
#include "config/filter.h"
#include "interpose/supexec.h"
#include "control/control.h"
#include "control/handover.h"
#include "report/ident.h"
#include "report/report.h"
#include "scope.h"

#define MAX_ARGS 65536

static size_t env_count(char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

/* The environment the new image gets, built on the caller's stack: a macro, since the arrays
 * must outlive the call they are passed to. */
#define SCOPED_ENV(envp, out, sup)                                                            \
    int hfd_##out[SCOPE_PIN_COUNT];                                                           \
    char hand_##out[SCOPE_PIN_COUNT][32];                                                     \
    scope_exec_handing(hfd_##out, hand_##out);                                            \
    size_t n_##out = env_count(envp);                                                         \
    bool huge_##out = n_##out > MAX_ARGS;                                                     \
    char *arr_##out[(huge_##out ? 0 : n_##out) + ENV_EXTRA];                                  \
    char merged_##out[PATH_MAX + 4096];                                                       \
    char *const *out = huge_##out ? (envp)                                                    \
        : scope_exec_env(envp, n_##out, arr_##out, merged_##out, sizeof merged_##out, hand_##out, sup)

/* The call with the scoped environment in place of envp (sup: followed from outside); afterwards
 * (an exec that failed, or a spawn: the child has its copies) the handed descriptors are closed
 * again. */
#define RUN_SCOPED(envp, sup, call)                                                           \
    SCOPED_ENV(envp, env, sup);                                                               \
    int rc_ = call;                                                                           \
    int e_ = errno;                                                                           \
    scope_pin_unhand(hfd_env);                                                                \
    scope_control_release_file();   /* an exec that failed: ours again (a spawn: never held) */ \
    errno = e_;                                                                               \
    return rc_

static void unbind_file(void *arg)
{
    (void)arg;
    scope_control_unbind_file();
}

/* Everything this image recorded goes out before it is replaced, its metrics included. The control
 * socket file goes too: the new image (the same pid) binds its own, and one that ends before it
 * gets to that would otherwise leave ours behind; held unbound until the exec returns (failed). */
static void exec_flush(void)
{
    if (!scope_guard && !scope_vforked()) {
        scope_ensure_init();
        scope_flush(false, 1000);
        scope_report_call(unbind_file, NULL, 1000);
    }
}

/* execv and execvp call these, not execve and execvpe by name: loaded by dlopen (attach), our
 * own references to those names are bound to libc's. */
/* Before an exec: a static or Go image is followed from outside (interpose/supexec.c) or, where it
 * cannot be, said in a notice, flushed with the rest. */
static bool exec_unseen(const char *file, bool search_path)
{
    char path[PATH_MAX];
    enum scope_exe_kind k = scope_exec_kind(file, search_path, path, sizeof path);
    if (scope_exec_follow(k, path))
        return true;
    scope_exec_notice_kind(path, k);
    return false;
}

static int do_execve(const char *path, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(execve, -1);
    bool sup = exec_unseen(path, false);
    exec_flush();
    RUN_SCOPED(envp, sup, scope_real_execve(path, argv, env));
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(execvpe, -1);
    bool sup = exec_unseen(file, true);
    exec_flush();
    RUN_SCOPED(envp, sup, scope_real_execvpe(file, argv, env));
}

SCOPE_API int execve(const char *path, char *const argv[], char *const envp[])
{
    return do_execve(path, argv, envp);
}

SCOPE_API int execv(const char *path, char *const argv[])
{
    return do_execve(path, argv, environ);
}

SCOPE_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return do_execvpe(file, argv, envp);
}

/* glibc's execvp searches PATH then calls its internal execve, out of our reach: go through
 * execvpe so an app that removed LD_PRELOAD from its own environment still execs scoped. */
SCOPE_API int execvp(const char *file, char *const argv[])
{
    return do_execvpe(file, argv, environ);
}

/* The list forms: the arguments gathered into an array on the stack, as glibc does. */
#define LIST_ARGS(first, ap, argv, n)                                                         \
    va_list ap;                                                                               \
    size_t n = 1;                                                                             \
    va_start(ap, first);                                                                      \
    while (va_arg(ap, const char *) && n < MAX_ARGS)                                          \
        n++;                                                                                  \
    va_end(ap);                                                                               \
    char *argv[n + 1];                                                                        \
    argv[0] = (char *)(first);                                                                \
    va_start(ap, first);                                                                      \
    for (size_t i_ = 1; i_ <= n; i_++)                                                        \
        argv[i_] = i_ < n ? va_arg(ap, char *) : NULL

SCOPE_API int execl(const char *path, const char *arg, ...)
{
    LIST_ARGS(arg, ap, argv, n);
    va_end(ap);
    return do_execve(path, argv, environ);
}

SCOPE_API int execlp(const char *file, const char *arg, ...)
{
    LIST_ARGS(arg, ap, argv, n);
    va_end(ap);
    return do_execvpe(file, argv, environ);
}

SCOPE_API int execle(const char *path, const char *arg, ...)
{
    LIST_ARGS(arg, ap, argv, n);
    char *const *envp = va_arg(ap, char *const *);   /* after the terminating NULL */
    va_end(ap);
    return do_execve(path, argv, envp);
}

SCOPE_API int fexecve(int fd, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(fexecve, -1);
    exec_flush();
    RUN_SCOPED(envp, false, scope_real_fexecve(fd, argv, env));
}

SCOPE_API int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    SCOPE_NEED_REAL(execveat, -1);
    bool sup = (dirfd == AT_FDCWD || path[0] == '/') && exec_unseen(path, false);
    exec_flush();
    RUN_SCOPED(envp, sup, scope_real_execveat(dirfd, path, argv, env, flags));
}

/* The parent goes on: nothing to flush; the child gets the environment an exec would give it. */
/* A static or Go program: scope-supervise spawned in its place (interpose/supexec.c), or else a
 * notice. Returns from the wrapper when the supervisor was spawned. */
#define SPAWN_UNSEEN(file, search)                                                            \
    char path_[PATH_MAX];                                                                     \
    enum scope_exe_kind k_ = scope_exec_kind(file, search, path_, sizeof path_);              \
    if (k_ != SCOPE_EXE_UNKNOWN && k_ != SCOPE_EXE_DYNAMIC) {                                 \
        int src_;                                                                             \
        SCOPED_ENV(envp, senv_, false);                                                       \
        bool done_ = scope_spawn_follow(&src_, k_, path_, pid, actions, attr, argv, senv_);   \
        scope_pin_unhand(hfd_senv_);                                                          \
        if (done_)                                                                            \
            return src_;                                                                      \
        scope_exec_notice_kind(path_, k_);                                                    \
    }

SCOPE_API int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(posix_spawn, ENOSYS);
    SPAWN_UNSEEN(path, false);
    RUN_SCOPED(envp, false, scope_real_posix_spawn(pid, path, actions, attr, argv, env));
}

SCOPE_API int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(posix_spawnp, ENOSYS);
    SPAWN_UNSEEN(file, true);
    RUN_SCOPED(envp, false, scope_real_posix_spawnp(pid, file, actions, attr, argv, env));
}
