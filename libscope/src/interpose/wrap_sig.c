/* wrap_sig.c — sigaction and signal, so that with crash handling on (crash.c) an app that installs
 * its own handler for a fatal signal gets it recorded as its own, called after our snapshot,
 * while ours stays the one the kernel runs. Everything else passes straight through. glibc's
 * signal() reaches the kernel through an internal sigaction that no interposer sees, hence the
 * second wrapper; it keeps signal()'s BSD semantics (SA_RESTART, the signal blocked meanwhile). */
#include <signal.h>

#include "crash/crash.h"
#include "scope.h"

SCOPE_API int sigaction(int sig, const struct sigaction *restrict act, struct sigaction *restrict old)
{
    SCOPE_NEED_REAL(sigaction, -1);
    if (!scope_crash_owns(sig))
        return scope_real_sigaction(sig, act, old);
    scope_crash_app_action(sig, act, old);
    return 0;
}

SCOPE_API __sighandler_t signal(int sig, __sighandler_t fn)
{
    SCOPE_NEED_REAL(signal, SIG_ERR);
    if (!scope_crash_owns(sig))
        return scope_real_signal(sig, fn);
    struct sigaction act = {.sa_handler = fn, .sa_flags = SA_RESTART}, old;
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, sig);
    scope_crash_app_action(sig, &act, &old);
    return old.sa_handler;
}
