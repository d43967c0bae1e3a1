/* wrap_proc.c — process lifetime: a forked child reports under its own pid, _exit flushes like
 * exit() does, a child reaped by the wait family is a proc.exit event (the exec family is in
 * wrap_exec.c). _exit may run in a vfork child that shares our memory: there we touch nothing. */
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interpose/wrap.h"
#include "scope.h"

/* A thread that makes rdtsc fault (PR_SET_TSC, PR_TSC_SIGSEGV) would fault in our stamping of its
 * next record: records go back to the wall clock first (libc/stamp.c). prctl's arguments are
 * unsigned longs; as many as the kernel reads are passed on. */
SCOPE_API int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a[4];
    for (int i = 0; i < 4; i++)
        a[i] = va_arg(ap, unsigned long);
    va_end(ap);
    SCOPE_NEED_REAL(prctl, -1);
    if (option == PR_SET_TSC && a[0] != PR_TSC_ENABLE)
        scope_stamp_off();
    return scope_real_prctl(option, a[0], a[1], a[2], a[3]);
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

/* The working directory: relative names in the records are resolved by the reporting thread, later,
 * against the directory the app was in when it made the call, so each change goes through the
 * ring in order with the calls (a `cd a; echo > f; cd ..` names a/f, not f). Made whenever the
 * library runs, even while nothing is recorded (a config no scope takes; a signal handler inside
 * one of our wrappers): a change missed would misname every later relative name. Not in a vfork
 * child: its directory is not ours, though its memory is. */
#define CWD_CHANGE(name, call)                                                                \
    SCOPE_NEED_REAL(name, -1);                                                                \
    int r = scope_real_##name call;                                                           \
    if (r == 0 && !scope_vforked() && atomic_load_explicit(&scope_ready, memory_order_acquire) == 1) { \
        int guard = scope_guard;                                                              \
        scope_guard = 1;                                                                      \
        scope_cwd_changed(SCOPE_FN_##name);                                                   \
        scope_guard = guard;                                                                  \
    }                                                                                         \
    return r;

SCOPE_API int chdir(const char *path) { CWD_CHANGE(chdir, (path)) }
SCOPE_API int fchdir(int fd) { CWD_CHANGE(fchdir, (fd)) }

static void exit_flush(void)
{
    if (!scope_guard && !scope_vforked())
        scope_flush(true, 1000);
}

SCOPE_API void _exit(int status)
{
    if (scope_real__exit || scope_resolve(SCOPE_FN__exit)) {
        exit_flush();
        scope_real__exit(status);
    }
    if (scope_real_syscall)
        scope_real_syscall(SYS_exit_group, status);
    __builtin_trap();   /* libc without _exit and syscall: nothing left to end the process with */
}

SCOPE_API void _Exit(int status)
{
    if (scope_real__Exit || scope_resolve(SCOPE_FN__Exit)) {
        exit_flush();
        scope_real__Exit(status);
    }
    if (scope_real_syscall)
        scope_real_syscall(SYS_exit_group, status);
    __builtin_trap();   /* libc without _exit and syscall: nothing left to end the process with */
}

/* The wait family: a child that ended (exited or killed, not stopped or continued) and was reaped
 * is recorded with its status, for proc.exit: the only place a child's exit status is seen, and the
 * only trace of a child killed before it wrote anything. The status is read into our own int (a
 * caller may pass NULL) and copied to the caller's only when the call reaped something, as the
 * kernel writes it. A wait that fails (ECHILD, EINTR) is flow control, not counted as an error.
 * Often called from a SIGCHLD handler: the record is claimed and published with no lock and no
 * allocation. */
static void reaped(enum scope_fn fn, struct scope_call *sc, pid_t r, int st, int err)
{
    scope_call_end(sc, -1, false);
    if (r > 0 && (WIFEXITED(st) || WIFSIGNALED(st)) && scope_hot.ev_fs)
        scope_proc_exit(fn, r, st);
    scope_leave();
    errno = err;
}

SCOPE_API pid_t wait(int *status)
{
    WRAP_BEGIN(wait, -1, (status));
    int st = 0;
    pid_t r = scope_real_wait(&st);
    int err = errno;
    if (r > 0 && status)
        *status = st;
    reaped(SCOPE_FN_wait, &sc_, r, st, err);
    return r;
}

SCOPE_API pid_t waitpid(pid_t pid, int *status, int options)
{
    WRAP_BEGIN(waitpid, -1, (pid, status, options));
    int st = 0;
    pid_t r = scope_real_waitpid(pid, &st, options);
    int err = errno;
    if (r > 0 && status)
        *status = st;
    reaped(SCOPE_FN_waitpid, &sc_, r, st, err);
    return r;
}

SCOPE_API pid_t wait3(int *status, int options, struct rusage *ru)
{
    WRAP_BEGIN(wait3, -1, (status, options, ru));
    int st = 0;
    pid_t r = scope_real_wait3(&st, options, ru);
    int err = errno;
    if (r > 0 && status)
        *status = st;
    reaped(SCOPE_FN_wait3, &sc_, r, st, err);
    return r;
}

SCOPE_API pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    WRAP_BEGIN(wait4, -1, (pid, status, options, ru));
    int st = 0;
    pid_t r = scope_real_wait4(pid, &st, options, ru);
    int err = errno;
    if (r > 0 && status)
        *status = st;
    reaped(SCOPE_FN_wait4, &sc_, r, st, err);
    return r;
}

/* waitid says how the child ended in a siginfo; made into the wait status the others give. With
 * WNOWAIT the child is left to be reaped again: recorded then, not twice. */
SCOPE_API int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    WRAP_BEGIN(waitid, -1, (idtype, id, info, options));
    int r = scope_real_waitid(idtype, id, info, options);
    int err = errno;
    pid_t child = 0;
    int st = 0;
    if (r == 0 && info && !(options & WNOWAIT) && info->si_pid > 0) {
        if (info->si_code == CLD_EXITED) {
            child = info->si_pid;
            st = (info->si_status & 0xff) << 8;
        } else if (info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED) {
            child = info->si_pid;
            st = (info->si_status & 0x7f) | (info->si_code == CLD_DUMPED ? 0x80 : 0);
        }
    }
    reaped(SCOPE_FN_waitid, &sc_, child, st, err);
    return r;
}
