/* supfilter.c — the watched calls and their seccomp filter (supfilter.h). */
#include <errno.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "util/supfilter.h"

#if defined(__x86_64__)
#define SUP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SUP_ARCH AUDIT_ARCH_AARCH64
#else
#error "scope-supervise knows x86_64 and aarch64"
#endif

const struct scope_sup_call scope_sup_calls[] = {
#ifdef SYS_open
    {SYS_open, "open", SCOPE_SUP_PATH0},
#endif
#ifdef SYS_creat
    {SYS_creat, "creat", SCOPE_SUP_PATH0},
#endif
    {SYS_openat, "openat", SCOPE_SUP_PATH1},
    {SYS_openat2, "openat2", SCOPE_SUP_PATH1},
    {SYS_close, "close", SCOPE_SUP_NONE},
#ifdef SYS_unlink
    {SYS_unlink, "unlink", SCOPE_SUP_PATH0},
#endif
    {SYS_unlinkat, "unlinkat", SCOPE_SUP_PATH1},
#ifdef SYS_rmdir
    {SYS_rmdir, "rmdir", SCOPE_SUP_PATH0},
#endif
#ifdef SYS_mkdir
    {SYS_mkdir, "mkdir", SCOPE_SUP_PATH0},
#endif
    {SYS_mkdirat, "mkdirat", SCOPE_SUP_PATH1},
#ifdef SYS_rename
    {SYS_rename, "rename", SCOPE_SUP_PATHS02},
#endif
#ifdef SYS_renameat
    {SYS_renameat, "renameat", SCOPE_SUP_PATHS13},
#endif
    {SYS_renameat2, "renameat2", SCOPE_SUP_PATHS13},
    {SYS_socket, "socket", SCOPE_SUP_NONE},
    {SYS_connect, "connect", SCOPE_SUP_ADDR1},
    {SYS_bind, "bind", SCOPE_SUP_ADDR1},
#ifdef SYS_accept
    {SYS_accept, "accept", SCOPE_SUP_NONE},
#endif
    {SYS_accept4, "accept4", SCOPE_SUP_NONE},
    {SYS_execve, "execve", SCOPE_SUP_PATH0},
    {SYS_execveat, "execveat", SCOPE_SUP_PATH1},
    /* only getsockopt(SOL_SOCKET, SO_ERROR) (the filter looks at its arguments): how a connect
     * that was under way (EINPROGRESS, Go's every connect) turned out */
    {SYS_getsockopt, "getsockopt", SCOPE_SUP_NONE},
};
#define NCALLS (int)(sizeof scope_sup_calls / sizeof scope_sup_calls[0])
const int scope_sup_ncalls = NCALLS;
_Static_assert(4 + 7 + NCALLS + 2 <= SCOPE_SUP_FILTER_MAX, "SCOPE_SUP_FILTER_MAX is too small");

int scope_sup_filter_build(struct sock_filter *f)
{
    int k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SUP_ARCH, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    /* getsockopt: traced only for SOL_SOCKET, SO_ERROR (the arguments' low words: little-endian) */
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsockopt, 0, 6);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_SOCKET, 0, 2);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SO_ERROR, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
    for (int i = 0; i < NCALLS; i++)   /* a match jumps to the last instruction */
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)scope_sup_calls[i].nr,
                                              (unsigned char)(NCALLS - i), 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
    return k;
}

int scope_sup_filter_install(long (*sys)(long nr, ...))
{
    struct sock_filter f[SCOPE_SUP_FILTER_MAX];
    struct sock_fprog p = {(unsigned short)scope_sup_filter_build(f), f};
    if (sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) == 0)
        return 0;
    if (errno != EACCES)
        return -1;
    /* without CAP_SYS_ADMIN a filter needs no_new_privs (setuid programs then run unprivileged) */
    if (sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p);
}
