/* wrap_proc.c — process lifetime: a forked child reports under its own pid, exec flushes what
 * is pending (the image is about to be replaced) and keeps the new image scoped (and tells it, in
 * SCOPE_FILTER_FOLLOW, which filter scopes its parent matched), _exit flushes like exit() does. exec and _exit may run in a vfork child that shares our memory: there we
 * touch nothing but the stack. */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "filter.h"
#include "scope.h"

extern char **environ;

#define MAX_CARRIED 64
static char preload_var[PATH_MAX + 16];   /* "LD_PRELOAD=<this library>" */
static const char *self_path;
static char *carried[MAX_CARRIED];        /* "SCOPE_X=..." as the environment had them at start */
static int ncarried;
static bool exec_keep;

/* Init time (malloc allowed): everything execve needs later without allocating. */
void scope_exec_prepare(void)
{
    Dl_info info;
    exec_keep = scope_cfg.execve;
    if (dladdr((void *)&scope_exec_prepare, &info) && info.dli_fname && info.dli_fname[0] == '/') {
        snprintf(preload_var, sizeof preload_var, "LD_PRELOAD=%s", info.dli_fname);
        self_path = preload_var + 11;
    }
    for (char **e = environ; e && *e && ncarried < MAX_CARRIED; e++)
        if (!strncmp(*e, "SCOPE_", 6) && strchr(*e, '='))
            carried[ncarried++] = strdup(*e);
}

static bool has_key(char *const envp[], const char *var)
{
    size_t klen = strcspn(var, "=") + 1;
    for (size_t i = 0; envp && envp[i]; i++)
        if (!strncmp(envp[i], var, klen))
            return true;
    return false;
}

typedef int (*exec_fn)(const char *, char *const[], char *const[]);

/* A vfork child has another pid but our memory: flushing or touching the guard there would
 * corrupt the parent. */
static bool vforked(void) { return scope_pid() != 0 && (pid_t)syscall(SYS_getpid) != scope_pid(); }

#define FOLLOW_KEY "SCOPE_FILTER_FOLLOW="

/* Runs the real exec (execve, or execvpe for a PATH search) with an environment that keeps the
 * child scoped and names the filter scopes it may follow; stack memory only. */
static int exec_scoped(exec_fn real, const char *path, char *const argv[], char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    /* The new image keeps this pid and so its parent: what it may follow is what our parent
     * matched, whatever value the environment inherited (even when the image is scoped only
     * because the app kept LD_PRELOAD). */
    const char *follow = scope_filter_follow_var(vforked());
    bool keep = exec_keep && self_path;
    if ((!keep && !follow) || n > 65536)
        return real(path, argv, envp);
    size_t flen = follow ? sizeof FOLLOW_KEY - 1 : 0;
    char *env[n + MAX_CARRIED + 3];
    char merged[PATH_MAX + 4096];
    size_t k = 0;
    bool preload = !keep;
    for (size_t i = 0; i < n; i++) {
        char *v = envp[i];
        if (flen && !strncmp(v, FOLLOW_KEY, flen))
            continue;
        if (keep && !strncmp(v, "LD_PRELOAD=", 11)) {
            preload = true;
            if (!strstr(v + 11, self_path) &&
                (size_t)snprintf(merged, sizeof merged, "%s:%s", preload_var, v + 11) <
                    sizeof merged)
                v = merged;
        }
        env[k++] = v;
    }
    if (!preload)
        env[k++] = preload_var;
    for (int i = 0; keep && i < ncarried; i++)
        if (!has_key(envp, carried[i]) && !(flen && !strncmp(carried[i], FOLLOW_KEY, flen)))
            env[k++] = carried[i];
    if (follow)
        env[k++] = (char *)follow;
    env[k] = NULL;
    return real(path, argv, env);
}

static void exec_flush(void)
{
    if (!scope_guard && !vforked()) {
        scope_ensure_init();
        scope_flush(false, 1000);
    }
}

SCOPE_API int execve(const char *path, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(execve, -1);
    exec_flush();
    return exec_scoped(scope_real_execve, path, argv, envp);
}

SCOPE_API int execv(const char *path, char *const argv[])
{
    SCOPE_NEED_REAL(execve, -1);
    return execve(path, argv, environ);
}

SCOPE_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(execvpe, -1);
    exec_flush();
    return exec_scoped(scope_real_execvpe, file, argv, envp);
}

/* glibc's execvp searches PATH then calls its internal execve, out of our reach: go through
 * execvpe so an app that removed LD_PRELOAD from its own environment still execs scoped. */
SCOPE_API int execvp(const char *file, char *const argv[])
{
    SCOPE_NEED_REAL(execvpe, -1);
    return execvpe(file, argv, environ);
}

SCOPE_API pid_t fork(void)
{
    SCOPE_NEED_REAL(fork, -1);
    pid_t pid = scope_real_fork();
    if (pid == 0 && !scope_guard) {
        /* The atfork handler reset our state; bring the reporting thread back now rather than
         * at the child's first interposed call. */
        int saved_errno = errno;
        scope_ensure_init();
        errno = saved_errno;
    }
    return pid;
}

static void exit_flush(void)
{
    if (!scope_guard && !vforked())
        scope_flush(true, 1000);
}

SCOPE_API void _exit(int status)
{
    if (scope_real__exit || scope_resolve(SCOPE_FN__exit)) {
        exit_flush();
        scope_real__exit(status);
    }
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

SCOPE_API void _Exit(int status)
{
    if (scope_real__Exit || scope_resolve(SCOPE_FN__Exit)) {
        exit_flush();
        scope_real__Exit(status);
    }
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}
