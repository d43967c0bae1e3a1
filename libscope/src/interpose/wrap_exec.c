/* wrap_exec.c — the exec family and posix_spawn. An exec replaces the image: what it recorded
 * (events, and the metrics of its last period) is flushed first, whichever entry point the app
 * used (execve, execv, execvp, execvpe, execl, execle, execlp, fexecve, execveat: glibc's own
 * variants call its internal execve, out of an interposer's reach, so each needs a wrapper). The
 * new image is kept scoped (LD_PRELOAD and the settings) and told, in SCOPE_FILTER_FOLLOW, which
 * filter scopes its parent matched. posix_spawn children get the same environment; nothing of
 * the parent is lost there, it goes on. An exec may run in a vfork child that shares our memory:
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
#include "report/elfkind.h"
#include "config/filter.h"
#include "control/handover.h"
#include "report/ident.h"
#include "scope.h"

extern char **environ;

#define MAX_CARRIED 64
#define MAX_ARGS 65536
static char preload_var[2 * PATH_MAX + 16];   /* "LD_PRELOAD=<this library>" */
static char self_buf[PATH_MAX];
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
#ifdef SCOPE_SANITIZED
/* The sanitized build (npm run test:sanitize) needs the ASan runtime preloaded too, after us
 * (test/lib.ts says why): an image we preload ourselves into gets it as well. */
void __asan_init(void);
static const char *preload_also(void)
{
    Dl_info rt;
    if (dladdr((void *)&__asan_init, &rt) && rt.dli_fname && rt.dli_fname[0] == '/')
        return rt.dli_fname;
    return "";
}
#else
static const char *preload_also(void) { return ""; }
#endif

/* A variable the new image gets from us when its environment lacks it: ours, and in the sanitized
 * build the runtime's settings (an image started with an empty environment would otherwise refuse
 * the runtime's place in LD_PRELOAD, and report nowhere). */
static bool carried_var(const char *e)
{
    if (!strchr(e, '='))
        return false;
#ifdef SCOPE_SANITIZED
    if (!strncmp(e, "ASAN_OPTIONS=", 13) || !strncmp(e, "LSAN_OPTIONS=", 13) ||
        !strncmp(e, "UBSAN_OPTIONS=", 14) || !strncmp(e, "LIBSCOPE_SANITIZER_LOG=", 23))
        return true;
#endif
    return !strncmp(e, "SCOPE_", 6);
}

void scope_exec_prepare(bool from_config)
{
    Dl_info info;
    if (!self_path && dladdr((void *)&scope_exec_prepare, &info) && info.dli_fname &&
        info.dli_fname[0] == '/') {
        const char *also = preload_also();
        int k = snprintf(self_buf, sizeof self_buf, "%s", info.dli_fname);
        if (k > 0 && (size_t)k < sizeof self_buf) {
            k = snprintf(preload_var, sizeof preload_var, "LD_PRELOAD=%s%s%s", self_buf, *also ? ":" : "", also);
            if (k > 0 && (size_t)k < sizeof preload_var)
                self_path = self_buf;
        }
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
            if (carried_var(*e))
                c->v[c->n++] = strdup(*e);
    }
    /* The set it replaces is not freed: an exec on another thread (or in a vfork child) may be
     * copying it right now, without a lock. One set per settings update. */
    scope_left_behind(atomic_exchange(&carried, c));
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

bool scope_vforked(void) { return scope_pid() != 0 && (pid_t)syscall(SYS_getpid) != scope_pid(); }

#define FOLLOW_KEY "SCOPE_FILTER_FOLLOW="

/* How many entries the environment for a new image may need beyond the app's own. */
#define ENV_EXTRA (MAX_CARRIED + 4 + SCOPE_PIN_COUNT)

/* Fills env (room for n + ENV_EXTRA entries) with the environment that keeps the new image
 * scoped and names the filter scopes it may follow; merged is room for a combined LD_PRELOAD.
 * Returns envp itself when nothing needs changing. Stack memory only (a vfork child). */
static bool preload_has_self(char *const envp[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strncmp(envp[i], "LD_PRELOAD=", 11) && strstr(envp[i] + 11, self_path))
            return true;
    return false;
}

/* "LD_PRELOAD=..." without this library (the loader splits the list at spaces and colons) into
 * out; false when nothing else is left. */
static bool without_self(const char *var, char *out, size_t cap)
{
    size_t self_len = strlen(self_path), k = 11, left = 0;
    if (cap < 12)
        return false;
    memcpy(out, "LD_PRELOAD=", 11);
    for (const char *p = var + 11; *p;) {
        size_t len = strcspn(p, ": ");
        if (len && !(len == self_len && !memcmp(p, self_path, len)) && k + len + 2 < cap) {
            if (left)
                out[k++] = ':';
            memcpy(out + k, p, len);
            k += len;
            left++;
        }
        p += len;
        while (*p == ':' || *p == ' ')
            p++;
    }
    out[k] = 0;
    return left > 0;
}

static char *const *scoped_env(char *const envp[], size_t n, char **env, char *merged, size_t mlen,
                               char hand[SCOPE_PIN_COUNT][32])
{
    /* The new image keeps this pid and so its parent: what it may follow is what our parent
     * matched, whatever value the environment inherited (even when the image is scoped only
     * because the app kept LD_PRELOAD). */
    const char *follow = scope_filter_follow_var(scope_vforked());
    struct carry *c = atomic_load(&carried);
    bool keep = atomic_load(&exec_keep) && self_path && c;
    /* SCOPE_EXECVE=false: the new image must not load us, even from an inherited LD_PRELOAD */
    bool strip = !atomic_load(&exec_keep) && self_path && preload_has_self(envp, n);
    if (!keep && !follow && !strip)
        return envp;
    size_t flen = follow ? sizeof FOLLOW_KEY - 1 : 0;
    size_t k = 0;
    bool preload = !keep;
    for (size_t i = 0; i < n; i++) {
        char *v = envp[i];
        if (flen && !strncmp(v, FOLLOW_KEY, flen))
            continue;
        if (!strncmp(v, "SCOPE_HOST_PID=", 15))
            continue;   /* ours, for one image only (ident.c) */
        if (keep && c->override && !strncmp(v, "SCOPE_", 6))
            continue;
        if (strip && !strncmp(v, "LD_PRELOAD=", 11)) {
            if (!without_self(v, merged, mlen))
                continue;   /* nothing else was preloaded: the variable goes */
            v = merged;
        }
        if (keep && !strncmp(v, "LD_PRELOAD=", 11)) {
            preload = true;
            if (!strstr(v + 11, self_path) &&
                (size_t)snprintf(merged, mlen, "%s:%s", preload_var, v + 11) < mlen)
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
    for (int i = 0; keep && i < SCOPE_PIN_COUNT; i++)
        if (hand[i][0])
            env[k++] = hand[i];
    const char *host = keep ? scope_ident_host_var() : NULL;
    if (host)
        env[k++] = (char *)host;
    env[k] = NULL;
    return env;
}

static size_t env_count(char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

/* The environment the new image gets, built on the caller's stack: a macro, since the arrays
 * must outlive the call they are passed to. */
#define SCOPED_ENV(envp, out)                                                                 \
    int hfd_##out[SCOPE_PIN_COUNT];                                                           \
    char hand_##out[SCOPE_PIN_COUNT][32];                                                     \
    handing(hfd_##out, hand_##out);                                                           \
    size_t n_##out = env_count(envp);                                                         \
    bool huge_##out = n_##out > MAX_ARGS;                                                     \
    char *arr_##out[(huge_##out ? 0 : n_##out) + ENV_EXTRA];                                  \
    char merged_##out[PATH_MAX + 4096];                                                       \
    char *const *out = huge_##out ? (envp)                                                    \
        : scoped_env(envp, n_##out, arr_##out, merged_##out, sizeof merged_##out, hand_##out)

/* The call with the scoped environment in place of envp; afterwards (an exec that failed, or a
 * spawn: the child has its copies) the handed descriptors are closed again. */
#define RUN_SCOPED(envp, call)                                                                \
    SCOPED_ENV(envp, env);                                                                    \
    int rc_ = call;                                                                           \
    int e_ = errno;                                                                           \
    scope_pin_unhand(hfd_env);                                                                \
    errno = e_;                                                                               \
    return rc_

/* Descriptors pinned after a change of user go to the new image (handover.c), if it is to be
 * scoped at all. */
static void handing(int fds[SCOPE_PIN_COUNT], char vars[SCOPE_PIN_COUNT][32])
{
    if (atomic_load(&exec_keep) && self_path && atomic_load(&carried)) {
        scope_pin_pull();
        scope_pin_hand(fds, vars);
    }
    else
        for (int i = 0; i < SCOPE_PIN_COUNT; i++) {
            fds[i] = -1;
            vars[i][0] = 0;
        }
}

/* Everything this image recorded goes out before it is replaced, its metrics included. */
static void exec_flush(void)
{
    if (!scope_guard && !scope_vforked()) {
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
    RUN_SCOPED(envp, scope_real_execve(path, argv, env));
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(execvpe, -1);
    scope_exec_notice(file, true);
    exec_flush();
    RUN_SCOPED(envp, scope_real_execvpe(file, argv, env));
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
    RUN_SCOPED(envp, scope_real_fexecve(fd, argv, env));
}

SCOPE_API int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    SCOPE_NEED_REAL(execveat, -1);
    if (dirfd == AT_FDCWD || path[0] == '/')
        scope_exec_notice(path, false);
    exec_flush();
    RUN_SCOPED(envp, scope_real_execveat(dirfd, path, argv, env, flags));
}

/* The parent goes on: nothing to flush; the child gets the environment an exec would give it. */
SCOPE_API int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(posix_spawn, ENOSYS);
    scope_exec_notice(path, false);
    RUN_SCOPED(envp, scope_real_posix_spawn(pid, path, actions, attr, argv, env));
}

SCOPE_API int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    SCOPE_NEED_REAL(posix_spawnp, ENOSYS);
    scope_exec_notice(file, true);
    RUN_SCOPED(envp, scope_real_posix_spawnp(pid, file, actions, attr, argv, env));
}
