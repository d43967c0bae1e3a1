/* tracer.h — following a process tree's system calls from outside, for programs libscope cannot be
 * loaded into (static executables; Go's runtime, which calls the kernel without libc).
 *
 * Mechanism (chosen by bench/ `--only supervise`): a seccomp filter installed in the child before it
 * execs the program returns SECCOMP_RET_TRACE for the watched calls only, and this process, their
 * tracer (ptrace, PTRACE_SEIZE), gets a stop at each watched call's entry and one at its exit, so a
 * call is seen with its arguments and its result. Every other call runs without a stop. seccomp user
 * notification was half the cost here (12.6 against 27.1 µs a watched call) but never sees a call's
 * result: no descriptor for an open, no error for a failed connect.
 *
 * The filter and the tracing are inherited: forks, vforks, clones and execs of the tree are followed
 * (PTRACE_O_TRACEFORK/VFORK/CLONE/EXEC). Signals reach the tree as they would (each is delivered on
 * at the stop that reports it), a stop by SIGSTOP/SIGTSTP stays a stop (PTRACE_LISTEN), and the
 * status is the program's. */
#ifndef SCOPE_TRACER_H
#define SCOPE_TRACER_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gotls.h"

#define SUP_PATH_MAX 4096

/* One watched call, at its exit. */
struct sup_call {
    pid_t pid, tid;        /* the process (thread group) and the thread */
    long nr;               /* the system call's number */
    uint64_t args[6];
    int64_t ret;           /* the result: >= 0, or -errno */
    uint64_t t_ns;         /* CLOCK_REALTIME at the entry stop */
    char path[SUP_PATH_MAX];    /* the first path argument as given, read at the entry ("" if none) */
    char path2[SUP_PATH_MAX];   /* the second (rename*) */
    /* each made absolute at the entry, while the thread is stopped in the call: against its
     * working directory or the directory its descriptor argument names ("" when not known) */
    char abs[SUP_PATH_MAX], abs2[SUP_PATH_MAX];
    unsigned char addr[128];    /* a sockaddr argument (connect, bind), read at the entry */
    unsigned addrlen;
    /* a socket's own address and its peer's after connect, bind, accept (a copy of the
     * descriptor taken with pidfd_getfd): "a.b.c.d:port", "[v6]:port", a unix path, "@name" */
    char local[128], peer[128];
    unsigned char local_raw[128], peer_raw[128];   /* the same as sockaddrs */
    unsigned local_len, peer_len;
    int socktype;               /* the socket's SOCK_* type, read with its ends (0: not read) */
    /* A send (write, sendto, sendmsg, sendmmsg) on a socket connected to a name server: what it
     * carried, up to two messages (sendmmsg's A and AAAA queries) one after the other in data. */
    unsigned char data[2048];
    unsigned datalen[2], nparts;
};

enum sup_event { SUP_FORK, SUP_THREAD, SUP_EXEC, SUP_ENDING, SUP_EXIT, SUP_ATTACHED };

struct sup_hooks {
    void *ctx;
    void (*call)(void *ctx, const struct sup_call *c);
    /* SUP_FORK: `pid` made process `other`; SUP_THREAD: thread `other` in `pid`; SUP_EXEC: `pid`
     * runs a new program (`other`: the thread that exec'd, when not the leader); SUP_ENDING: process
     * `pid` is exiting, held (its /proc still tells of it) until this returns; SUP_EXIT: process
     * `pid` ended, `other` its wait status; SUP_ATTACHED: running process `pid` is followed now. */
    void (*proc)(void *ctx, enum sup_event e, pid_t pid, long other);
    /* A child of the supervisor's own that ended (not a followed process): true when it was one. */
    bool (*reaped)(void *ctx, pid_t pid, int status);
    /* Whether process pid's calls are wanted (false: libscope is loaded into it and reports them
     * itself); NULL: all are. */
    bool (*wanted)(void *ctx, pid_t pid);
    /* The plaintext of a Go program's TLS connection (gotls.h); NULL: not taken. */
    void (*tls)(void *ctx, const struct gotls_io *io);
    /* The tracer's word on process pid (why its TLS plaintext is not seen, say). */
    void (*notice)(void *ctx, pid_t pid, const char *says);
    /* Whether process pid's TLS plaintext is wanted (breakpoints cost stops); NULL: it is. */
    bool (*tls_wanted)(void *ctx, pid_t pid);
};

/* How the program is started. */
struct sup_start {
    const char *file;      /* the program, looked up on PATH as argv[0] would be */
    int pid_fd;            /* >= 0: told the program's pid, a decimal line, once it is followed */
    const char *preload;   /* non-NULL: the program's LD_PRELOAD (its dynamic descendants load it) */
};

/* A number from /proc/TID/status ("Tgid", "NoNewPrivs"…); 0 when absent or gone. */
long sup_status(pid_t tid, const char *key);

/* The name of a system call this tracer may report, or NULL. */
const char *sup_call_name(long nr);

/* Runs the program with argv under the tracer with the default set of watched calls, until the
 * process it started and every process it was following have ended. Its environment is ours, with
 * SCOPE_SUPERVISED=1 (libscope loaded into a Go program of the tree leaves it to us) and LD_PRELOAD
 * as `start` says. Returns the program's status as a shell gives it (code, or 128 + signal),
 * 126/127 when it could not be exec'd, or -1 with `why` set when tracing could not begin. */
int sup_run(const struct sup_start *start, char *const argv[], const struct sup_hooks *hooks, char *why,
            size_t whylen);

/* Follows thread tid of a running process (which installs the filter itself once ready_fd has
 * been told: a byte, then closed) and what it becomes and starts, until all of it has ended: a
 * scoped process about to exec a program libscope cannot see into (libscope's interpose/
 * supexec.c). Returns its status as sup_run's, or -1 with `why` set when it could not be seized. */
int sup_seize(pid_t tid, int ready_fd, const struct sup_hooks *hooks, char *why, size_t whylen);

/* Follows running process pid (scope attach to a static or Go program): every thread seized, then
 * one of them stopped and made to install the filter in all (SECCOMP_FILTER_FLAG_TSYNC, and
 * no_new_privs first when it may not otherwise) and put back exactly as it was; ready_fd told (a
 * byte, then closed), and the process followed until it and what it starts have ended. -1 with
 * `why` set when it could not be (nothing is left installed then). x86-64. */
int sup_attach(pid_t pid, int ready_fd, const struct sup_hooks *hooks, char *why, size_t whylen);
#endif
