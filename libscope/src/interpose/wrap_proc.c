/* wrap_proc.c — process lifetime: a forked child reports under its own pid, _exit flushes like
 * exit() does (the exec family is in wrap_exec.c). _exit may run in a vfork child that shares our
 * memory: there we touch nothing. */
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

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
