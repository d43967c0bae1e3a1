/* supexec.c — a scoped process about to exec a program libscope cannot see into (a static
 * executable; a Go program, whose runtime calls the kernel itself) has scope-supervise follow it
 * from outside (libscope/supervise/, tracer.h), instead of only saying it goes unseen.
 *
 * The exec keeps its pid, its parent and its place in every wait(): the supervisor is started
 * apart (two clones with no exit signal, so the app never hears of them; the second's parent
 * exits at once, so it is nobody's child the app could wait for), in a session of its own (a
 * terminal's ^C is not for it), with no descriptor of the app's but the two it talks on. It tells
 * this thread its pid (the exception Yama's ptrace_scope 1 needs, PR_SET_PTRACER), seizes the
 * thread, and says so; the thread then installs the seccomp filter that hands the watched calls
 * to it (util/supfilter.c) and execs, with SCOPE_SUPERVISED=1 in the new image's environment.
 * Until that exec the supervisor leaves this process to its own libscope. Every step is a raw
 * system call on the stack: it may run in a vfork child, or after another thread took a lock.
 * Where any step fails the exec goes on as before, with the notice (report/elfkind.c).
 *
 * posix_spawn and posix_spawnp exec in a child of libc's making, out of reach: for a static or Go
 * program, scope-supervise is spawned in its place and runs it as its own child (as under scope
 * run). The app's pid is then the supervisor's, whose status is the program's and which passes
 * it the signals it can catch; the program's pid is another, a child of that one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/execenv.h"
#include "interpose/supexec.h"
#include "scope.h"
#include "util/supfilter.h"

#define SUPERVISOR "scope-supervise"
#define HANDSHAKE_MS 3000   /* the supervisor's start and its seize, at most */
#define MAX_ENV 8192        /* an environment this large is passed on without a supervisor */

extern char **environ;

static long sys(long nr, long a, long b, long c, long d, long e)
{
    return scope_real_syscall(nr, a, b, c, d, e);
}

static char *dec(char *end, long v)   /* v in decimal, written backwards ending at end */
{
    *--end = 0;
    do
        *--end = (char)('0' + v % 10);
    while ((v /= 10));
    return end;
}

/* The supervisor's environment (room for n + 1 in out, others for one LD_PRELOAD): src without this
 * library in LD_PRELOAD (it would be scoped itself); *preload, when asked, the LD_PRELOAD of src. */
static void env_without_self(char *const src[], size_t n, char **out, char *others, size_t cap, const char **preload)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(src[i], "LD_PRELOAD=", 11)) {
            out[k++] = src[i];
            continue;
        }
        if (preload)
            *preload = src[i] + 11;
        if (scope_exec_without_self(src[i], others, cap))
            out[k++] = others;
    }
    out[k] = NULL;
}

/* The grandchild: becomes scope-supervise following tid, talking on go (read) and ready (write). */
static __attribute__((noreturn)) void start_supervisor(const char *exe, const char *lib, pid_t tid, int go, int ready)
{
    sys(SYS_setsid, 0, 0, 0, 0, 0);
    long hgo = sys(SYS_fcntl, go, F_DUPFD, 10, 0, 0), hready = sys(SYS_fcntl, ready, F_DUPFD, 10, 0, 0);
    long null = sys(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDWR, 0, 0);
    if (hgo < 0 || hready < 0 || null < 0)
        sys(SYS_exit_group, 127, 0, 0, 0, 0);
    for (int fd = 0; fd < 3; fd++)
        sys(SYS_dup3, null, fd, 0, 0, 0);
    sys(SYS_dup3, hgo, 3, 0, 0, 0);
    sys(SYS_dup3, hready, 4, 0, 0, 0);
    if (sys(SYS_close_range, 5, ~0U, 0, 0, 0) != 0)
        for (int fd = 5; fd < 4096; fd++)
            sys(SYS_close, fd, 0, 0, 0, 0);
    char tidbuf[24];
    char *argv[] = {(char *)SUPERVISOR, "--lib", (char *)lib, "--seize", dec(tidbuf + sizeof tidbuf, tid),
                    "--go-fd", "3", "--ready-fd", "4", NULL};
    /* the app's environment; each helper takes the program's own */
    size_t n = 0;
    while (environ && environ[n] && n < MAX_ENV)
        n++;
    char *env[n + 1], others[PATH_MAX + 4096];
    env_without_self(environ, n, env, others, sizeof others, NULL);
    sys(SYS_execve, (long)exe, (long)argv, (long)env, 0, 0);
    sys(SYS_exit_group, 127, 0, 0, 0, 0);
    __builtin_unreachable();
}

/* n bytes from fd within the handshake's time; false on a timeout, an error or the end. */
static bool read_within(int fd, void *buf, size_t n)
{
    struct pollfd pf = {fd, POLLIN, 0};
    long r;
    do
#ifdef SYS_poll
        r = sys(SYS_poll, (long)&pf, 1, HANDSHAKE_MS, 0, 0);
#else
        /* (aarch64 has only ppoll) */
        r = sys(SYS_ppoll, (long)&pf, 1, (long)&(struct timespec){HANDSHAKE_MS / 1000, (HANDSHAKE_MS % 1000) * 1000000L}, 0, 0);
#endif
    while (r < 0 && errno == EINTR);
    if (r != 1)
        return false;
    do
        r = sys(SYS_read, fd, (long)buf, (long)n, 0, 0);
    while (r < 0 && errno == EINTR);
    return r == (long)n;
}

/* scope-supervise, beside this library (lib), into exe; false when it is not there. */
static bool supervisor_path(const char *lib, char exe[PATH_MAX])
{
    const char *slash = strrchr(lib, '/');
    size_t dl = slash ? (size_t)(slash - lib) + 1 : 0;
    if (!slash || dl + sizeof SUPERVISOR > PATH_MAX)
        return false;
    memcpy(exe, lib, dl);
    memcpy(exe + dl, SUPERVISOR, sizeof SUPERVISOR);
    return sys(SYS_faccessat, AT_FDCWD, (long)exe, X_OK, 0, 0) == 0;
}

static bool follow_me(const char *lib)
{
    char exe[PATH_MAX];
    if (!supervisor_path(lib, exe))
        return false;
    int to_me[2], to_it[2];
    if (sys(SYS_pipe2, (long)to_me, O_CLOEXEC, 0, 0, 0) != 0)
        return false;
    if (sys(SYS_pipe2, (long)to_it, O_CLOEXEC, 0, 0, 0) != 0) {
        sys(SYS_close, to_me[0], 0, 0, 0, 0);
        sys(SYS_close, to_me[1], 0, 0, 0, 0);
        return false;
    }
    pid_t tid = (pid_t)sys(SYS_gettid, 0, 0, 0, 0, 0);
    /* flags 0: a copy of this process (not of its other threads), whose end signals nobody */
    long mid = sys(SYS_clone, 0, 0, 0, 0, 0);
    if (mid == 0) {
        long g = sys(SYS_clone, 0, 0, 0, 0, 0);
        if (g == 0)
            start_supervisor(exe, lib, tid, to_it[0], to_me[1]);
        int gp = (int)g;
        sys(SYS_write, to_me[1], (long)&gp, sizeof gp, 0, 0);
        sys(SYS_exit_group, 0, 0, 0, 0, 0);
    }
    sys(SYS_close, to_me[1], 0, 0, 0, 0);
    sys(SYS_close, to_it[0], 0, 0, 0, 0);
    bool followed = false;
    if (mid > 0) {
        int st;
        while (sys(SYS_wait4, mid, (long)&st, __WALL, 0, 0) < 0 && errno == EINTR)
            ;
        int gp = -1;
        char go = 1, ready = 0;
        if (read_within(to_me[0], &gp, sizeof gp) && gp > 0) {
            sys(SYS_prctl, PR_SET_PTRACER, gp, 0, 0, 0);   /* Yama: it may (EINVAL without Yama) */
            followed = sys(SYS_write, to_it[1], (long)&go, 1, 0, 0) == 1 && read_within(to_me[0], &ready, 1) && ready == 1;
        }
    }
    sys(SYS_close, to_me[0], 0, 0, 0, 0);
    sys(SYS_close, to_it[1], 0, 0, 0, 0);   /* a supervisor still waiting to seize gives up */
    /* followed: this thread's watched calls now stop for it; the filter must be in place for the
     * exec (if it cannot be, the supervisor sees the exec and the new image's start, no calls) */
    return followed && scope_sup_filter_install(scope_real_syscall) == 0;
}

/* A program to follow: static or Go, and not setuid or setgid (followed, it would run without its
 * privileges: the filter needs no_new_privs without CAP_SYS_ADMIN, and a traced exec gains none;
 * it runs unscoped, as a dynamic one does, the loader ignoring LD_PRELOAD). */
static bool unseen(enum scope_exe_kind k, const char *path)
{
    struct stat st;
    return (k == SCOPE_EXE_STATIC || k == SCOPE_EXE_GO_STATIC || k == SCOPE_EXE_GO) &&
           scope_sys_stat(path, &st) == 0 && !(st.st_mode & (S_ISUID | S_ISGID));
}

bool scope_spawn_follow(int *rc, enum scope_exe_kind k, const char *path, pid_t *pid,
                        const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                        char *const argv[], char *const env[])
{
    const char *lib = scope_exec_self();
    char exe[PATH_MAX];
    if (!unseen(k, path) || !lib || !argv || !argv[0] || !supervisor_path(lib, exe))
        return false;
    size_t na = 0, ne = 0;
    while (argv[na] && na < MAX_ENV)
        na++;
    while (env && env[ne] && ne < MAX_ENV)
        ne++;
    if (na >= MAX_ENV || ne >= MAX_ENV)
        return false;
    /* the program's LD_PRELOAD is given apart */
    char *senv[ne + 1], others[PATH_MAX + 4096];
    const char *preload = NULL;
    env_without_self(env, ne, senv, others, sizeof others, &preload);
    char *sargv[na + 12];
    size_t j = 0;
    sargv[j++] = (char *)SUPERVISOR;
    sargv[j++] = "--lib";
    sargv[j++] = (char *)lib;
    sargv[j++] = "--or-run";
    if (preload) {
        sargv[j++] = "--preload";
        sargv[j++] = (char *)preload;
    }
    sargv[j++] = "--argv0";
    sargv[j++] = argv[0];
    sargv[j++] = "--";
    sargv[j++] = (char *)path;
    for (size_t i = 1; i < na; i++)
        sargv[j++] = argv[i];
    sargv[j] = NULL;
    int saved_errno = errno;
    *rc = scope_real_posix_spawn(pid, exe, actions, attr, sargv, senv);
    errno = saved_errno;
    return *rc == 0;
}

bool scope_exec_follow(enum scope_exe_kind k, const char *path)
{
    if (!unseen(k, path))
        return false;
    const char *lib = scope_exec_self();
    if (!lib)
        return false;   /* the new image is not to be scoped (SCOPE_EXECVE=false, detached) */
    int saved_errno = errno;
    bool followed = follow_me(lib);
    errno = saved_errno;
    return followed;
}
