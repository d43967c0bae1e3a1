/* Two ways to watch the system calls of a program libscope cannot be loaded into (a static
 * executable, Go's runtime), measured side by side by the bench's `supervise` part:
 *
 *   supervise notif PROG [ARG…]   seccomp user notification: the filter sends the watched calls to a
 *                                 listener; the supervisor reads the path argument from the child's
 *                                 memory and lets the call go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *                                 It never learns the call's result.
 *   supervise trace PROG [ARG…]   ptrace with a SECCOMP_RET_TRACE filter (as strace --seccomp-bpf):
 *                                 a stop at the watched call's entry (path read from memory) and
 *                                 one at its exit (the result: a descriptor, or the error).
 *
 * The filter is installed in the child before it execs PROG, with no_new_privs; calls other than
 * open, openat, openat2, close, socket, connect, accept, accept4, unlink, unlinkat go on without
 * any stop. Prints {"mode":…,"entries":…,"exits":…} on stderr at the end and exits with PROG's
 * status. One process (no children followed): enough for the bench's loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "supervise: x86_64 or aarch64"
#endif

static const int watched[] = {
#ifdef SYS_open
    SYS_open,
#endif
    SYS_openat, SYS_openat2, SYS_close, SYS_socket, SYS_connect,
#ifdef SYS_accept
    SYS_accept,
#endif
    SYS_accept4,
#ifdef SYS_unlink
    SYS_unlink,
#endif
    SYS_unlinkat,
};
#define NW (int)(sizeof watched / sizeof watched[0])

static int install(unsigned action, unsigned flags)
{
    struct sock_filter f[4 + NW + 2];
    int k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < NW; i++)   /* a match jumps to the last instruction */
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)watched[i], (unsigned char)(NW - i), 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
    struct sock_fprog p = {(unsigned short)k, f};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

static int fd_pass(int s, int fd, bool send)
{
    char c = 0;
    struct iovec io = {&c, 1};
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr a;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    if (send) {
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        return sendmsg(s, &m, 0) == 1 ? 0 : -1;
    }
    if (recvmsg(s, &m, 0) != 1 || !(cm = CMSG_FIRSTHDR(&m)) || cm->cmsg_type != SCM_RIGHTS)
        return -1;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

/* The path argument of a watched call, read from the child's memory (what a record would need). */
static void read_path(pid_t pid, int nr, const unsigned long long *args, char *out, size_t cap)
{
    unsigned long long addr = 0;
#ifdef SYS_open
    if (nr == SYS_open || nr == SYS_unlink)
        addr = args[0];
#endif
    if (nr == SYS_openat || nr == SYS_openat2 || nr == SYS_unlinkat)
        addr = args[1];
    out[0] = 0;
    if (!addr)
        return;
    struct iovec l = {out, cap - 1}, r = {(void *)(uintptr_t)addr, cap - 1};
    ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
    out[n > 0 ? n : 0] = 0;
}

static int status_of(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

static int notif(char **argv)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return perror("supervise: socketpair"), 125;
    pid_t pid = fork();
    if (pid == 0) {
        int lfd;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            (lfd = install(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER)) < 0) {
            perror("supervise: seccomp");
            _exit(125);
        }
        if (fd_pass(sv[1], lfd, true) != 0)
            _exit(125);
        close(lfd);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(sv[1]);
    int lfd = fd_pass(sv[0], -1, false);
    if (lfd < 0) {
        int st;
        waitpid(pid, &st, 0);
        return status_of(st);
    }
    struct seccomp_notif_sizes sz;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0)
        return perror("supervise: notif sizes"), 125;
    struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
    struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
    long entries = 0;
    char path[4096];
    for (;;) {
        memset(req, 0, sz.seccomp_notif);
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
            if (errno == EINTR)
                continue;
            break;   /* ENOENT: no process uses the filter any more */
        }
        read_path(req->pid, req->data.nr, req->data.args, path, sizeof path);
        entries++;
        memset(resp, 0, sz.seccomp_notif_resp);
        resp->id = req->id;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, resp);   /* ENOENT: the call was interrupted */
    }
    int st;
    waitpid(pid, &st, 0);
    fprintf(stderr, "{\"mode\":\"notif\",\"entries\":%ld,\"exits\":0}\n", entries);
    return status_of(st);
}

static int trace(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            perror("supervise: no_new_privs");
            _exit(125);
        }
        raise(SIGSTOP);   /* the tracer seizes it here, before the filter can stop it */
        if (install(SECCOMP_RET_TRACE, 0) != 0) {
            perror("supervise: seccomp");
            _exit(125);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st))
        return 125;
    if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) != 0)
        return perror("supervise: ptrace"), 125;
    kill(pid, SIGCONT);
    long entries = 0, exits = 0;
    char path[4096];
    for (;;) {
        pid_t w = waitpid(pid, &st, __WALL);
        if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st))
            break;
        int sig = WSTOPSIG(st), event = st >> 16;
        struct __ptrace_syscall_info si;
        if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
            if (ptrace(PTRACE_GET_SYSCALL_INFO, w, sizeof si, &si) > 0 && si.op == PTRACE_SYSCALL_INFO_SECCOMP)
                read_path(w, (int)si.seccomp.nr, (const unsigned long long *)si.seccomp.args, path, sizeof path);
            entries++;
            ptrace(PTRACE_SYSCALL, w, 0, 0);   /* on to the exit stop */
            continue;
        }
        if (sig == (SIGTRAP | 0x80)) {   /* the exit stop: the result */
            if (ptrace(PTRACE_GET_SYSCALL_INFO, w, sizeof si, &si) > 0 && si.op == PTRACE_SYSCALL_INFO_EXIT)
                exits++;
            sig = 0;
        } else if (event == PTRACE_EVENT_STOP || sig == SIGTRAP) {
            sig = 0;   /* the SIGCONT's, and exec's */
        }
        ptrace(PTRACE_CONT, w, 0, sig);
    }
    fprintf(stderr, "{\"mode\":\"trace\",\"entries\":%ld,\"exits\":%ld}\n", entries, exits);
    return status_of(st);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "notif") && strcmp(argv[1], "trace"))) {
        fprintf(stderr, "usage: supervise notif|trace PROG [ARG...]\n");
        return 2;
    }
    return !strcmp(argv[1], "notif") ? notif(argv + 2) : trace(argv + 2);
}
