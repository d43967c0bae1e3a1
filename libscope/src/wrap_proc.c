/* wrap_proc.c — process lifetime: a forked child reports under its own pid, exec flushes what
 * is pending (the image is about to be replaced) and keeps the new image scoped (and tells it, in
 * SCOPE_FILTER_FOLLOW, which filter scopes its parent matched), _exit flushes like exit() does. exec and _exit may run in a vfork child that shares our memory: there we
 * touch nothing but the stack. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "elfkind.h"
#include "filter.h"
#include "scope.h"

extern char **environ;

#define MAX_CARRIED 64
static char preload_var[PATH_MAX + 16];   /* "LD_PRELOAD=<this library>" */
static const char *self_path;
/* "SCOPE_X=..." handed to the new image. Replaced whole after a config change while an exec may
 * be reading the old set on another thread: an old set is never freed (a few per process). */
struct carry {
    int n;
    bool override;    /* attach: these replace the SCOPE_* of the app's environment */
    char *v[MAX_CARRIED];
};
static struct carry *_Atomic carried;
static _Atomic bool exec_keep;

/* Init time or a config change (malloc allowed): everything execve needs later without
 * allocating. Started by LD_PRELOAD, the new image is given the SCOPE_* the environment had at
 * start; attached, the settings in force (the environment's SCOPE_* were never ours). */
void scope_exec_prepare(bool from_config)
{
    Dl_info info;
    if (!self_path && dladdr((void *)&scope_exec_prepare, &info) && info.dli_fname &&
        info.dli_fname[0] == '/') {
        snprintf(preload_var, sizeof preload_var, "LD_PRELOAD=%s", info.dli_fname);
        self_path = preload_var + 11;
    }
    atomic_store(&exec_keep, scope_cfg.execve);
    if (!from_config && atomic_load(&carried))
        return;   /* preloaded: the environment of the start stays what the new image gets */
    struct carry *c = calloc(1, sizeof *c);
    if (!c)
        return;
    if (from_config) {
        c->override = true;
        for (size_t i = 0; i < scope_cfg.npairs && c->n < MAX_CARRIED; i++) {
            size_t kl = strlen(scope_cfg.pairs[i].key), vl = strlen(scope_cfg.pairs[i].val);
            char *v = malloc(kl + vl + 2);
            if (!v)
                break;
            memcpy(v, scope_cfg.pairs[i].key, kl);
            v[kl] = '=';
            memcpy(v + kl + 1, scope_cfg.pairs[i].val, vl + 1);
            c->v[c->n++] = v;
        }
    } else {
        for (char **e = environ; e && *e && c->n < MAX_CARRIED; e++)
            if (!strncmp(*e, "SCOPE_", 6) && strchr(*e, '='))
                c->v[c->n++] = strdup(*e);
    }
    atomic_store(&carried, c);
}

void scope_exec_off(void) { atomic_store(&exec_keep, false); }

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
    struct carry *c = atomic_load(&carried);
    bool keep = atomic_load(&exec_keep) && self_path && c;
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
        if (keep && c->override && !strncmp(v, "SCOPE_", 6))
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
    for (int i = 0; keep && i < c->n; i++)
        if ((c->override || !has_key(envp, c->v[i])) && !(flen && !strncmp(c->v[i], FOLLOW_KEY, flen)))
            env[k++] = c->v[i];
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

/* execv and execvp call these, not execve and execvpe by name: loaded by dlopen (attach), our
 * own references to those names are bound to libc's. */
static int do_execve(const char *path, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(execve, -1);
    scope_exec_notice(path, false);   /* a static image: a notice, flushed with the rest */
    exec_flush();
    return exec_scoped(scope_real_execve, path, argv, envp);
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(execvpe, -1);
    scope_exec_notice(file, true);
    exec_flush();
    return exec_scoped(scope_real_execvpe, file, argv, envp);
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
