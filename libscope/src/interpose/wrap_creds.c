/* wrap_creds.c — changes of user and group. glibc makes every thread of the process run the same
 * set*id system call (its SIGSETXID broadcast) and aborts the process if one thread's result
 * differs from the caller's. Capabilities, the keep-capabilities flag and the securebits are per
 * thread, though: a program that keeps its capabilities across a uid change (setpriv: PR_SET_KEEPCAPS,
 * then capset, then setresgid) has them in its own thread only, our reporting thread's call fails
 * with EPERM and glibc aborts (setpriv exited 134 scoped). So before each change the reporting
 * thread is given the caller's capability state (capget, PR_GET_KEEPCAPS, PR_GET_SECUREBITS) and
 * so gets the caller's result. Around the change, file destinations are pinned (handover.c), so
 * what the process starts as the new user still reaches the session. */
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "control/control.h"
#include "control/handover.h"
#include "report/report.h"
#include "scope.h"

struct capstate {
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    int keep, secbits;
    bool uid;   /* the call may change the uid: the control socket's file goes first */
};

/* Reporting thread: take on the caller's state. Lowering is always allowed; raising only within
 * what we still permit ourselves, which the mirror before each change keeps at the caller's. */
static void take_on(void *arg)
{
    const struct capstate *s = arg;
    if (s->secbits >= 0 && scope_sys_prctl(PR_GET_SECUREBITS, 0) != s->secbits)
        scope_sys_prctl(PR_SET_SECUREBITS, (unsigned long)s->secbits);
    if (s->keep >= 0 && scope_sys_prctl(PR_GET_KEEPCAPS, 0) != s->keep)
        scope_sys_prctl(PR_SET_KEEPCAPS, (unsigned long)s->keep);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    scope_real_syscall(SYS_capset, &h, s->data);
    if (s->uid)
        scope_control_unbind_file();
}

static bool mirrored(bool uid)
{
    if (scope_guard || scope_vforked() || scope_pid() == 0)
        return false;
    struct capstate s;
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (scope_real_syscall(SYS_capget, &h, s.data) != 0)
        return false;
    s.keep = scope_sys_prctl(PR_GET_KEEPCAPS, 0);
    s.secbits = scope_sys_prctl(PR_GET_SECUREBITS, 0);
    s.uid = uid;
    scope_report_call(take_on, &s, 1000);
    return true;
}

/* Everything a change needs around the real call; errno is the call's. */
#define CHANGE(name, call, uid)                                                               \
    SCOPE_NEED_REAL(name, -1);                                                                \
    int saved_errno = errno;                                                                  \
    bool ours = mirrored(uid);                                                                \
    if (ours) {                                                                               \
        int g_ = scope_guard;                                                                 \
        scope_guard = 1;                                                                      \
        scope_pin_before();                                                                   \
        scope_guard = g_;                                                                     \
    }                                                                                         \
    errno = saved_errno;                                                                      \
    int rc = call;                                                                            \
    if (ours) {                                                                               \
        saved_errno = errno;                                                                  \
        int g_ = scope_guard;                                                                 \
        scope_guard = 1;                                                                      \
        scope_pin_after();                                                                    \
        if (uid)                                                                              \
            scope_control_release_file();                                                     \
        scope_guard = g_;                                                                     \
        errno = saved_errno;                                                                  \
    }                                                                                         \
    return rc

SCOPE_API int setuid(uid_t uid) { CHANGE(setuid, scope_real_setuid(uid), true); }
SCOPE_API int setgid(gid_t gid) { CHANGE(setgid, scope_real_setgid(gid), false); }
SCOPE_API int seteuid(uid_t uid) { CHANGE(seteuid, scope_real_seteuid(uid), true); }
SCOPE_API int setegid(gid_t gid) { CHANGE(setegid, scope_real_setegid(gid), false); }
SCOPE_API int setreuid(uid_t r, uid_t e) { CHANGE(setreuid, scope_real_setreuid(r, e), true); }
SCOPE_API int setregid(gid_t r, gid_t e) { CHANGE(setregid, scope_real_setregid(r, e), false); }
SCOPE_API int setresuid(uid_t r, uid_t e, uid_t s) { CHANGE(setresuid, scope_real_setresuid(r, e, s), true); }
SCOPE_API int setresgid(gid_t r, gid_t e, gid_t s) { CHANGE(setresgid, scope_real_setresgid(r, e, s), false); }
SCOPE_API int setgroups(size_t n, const gid_t *list) { CHANGE(setgroups, scope_real_setgroups(n, list), false); }
/* glibc's initgroups calls its internal setgroups, out of our reach */
SCOPE_API int initgroups(const char *user, gid_t group) { CHANGE(initgroups, scope_real_initgroups(user, group), false); }
