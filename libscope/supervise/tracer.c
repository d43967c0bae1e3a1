/* tracer.c — a process tree's watched system calls, seen from outside (tracer.h says why this way). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#if defined(__x86_64__)
#include <sys/user.h>
#endif
#include <time.h>
#include <unistd.h>

#include "tracer.h"

#include "util/supfilter.h"   /* libscope's (src/util/supfilter.c): the watched calls and their filter */

static const struct scope_sup_call *watched_of(long nr)
{
    for (int i = 0; i < scope_sup_ncalls; i++)
        if (scope_sup_calls[i].nr == nr)
            return &scope_sup_calls[i];
    return NULL;
}

const char *sup_call_name(long nr)
{
    const struct scope_sup_call *w = watched_of(nr);
    if (w)
        return w->name;
    /* not watched: seen only while a query to a name server is awaited */
    return nr == SYS_write ? "write" : nr == SYS_sendto ? "sendto" : nr == SYS_sendmsg ? "sendmsg"
         : nr == SYS_sendmmsg ? "sendmmsg" : NULL;
}

/* ---- the threads followed ------------------------------------------------------------------ */
struct thread {
    pid_t tid, tgid;     /* tid 0: a free slot */
    bool in_call;        /* between a watched call's entry and its exit */
    bool told;           /* a close under way already reported (its number was given out again) */
    bool in_send;        /* between a send's entry and its exit, on the name server's socket */
    /* After a connect to a name server in its process: this thread's every call is stopped at
     * (PTRACE_SYSCALL) for the next watch_left calls, so a query sent on one of watch_fd is seen
     * (by any thread: Go's goroutines move between threads, and its resolver asks A and AAAA on
     * two sockets at once). */
    int watch_fd[4], nwatch, watch_left;
    struct sup_call call;
};

/* DNS: the ports a name server listens on (SCOPE_DNS_PORTS, as libscope reads it; 53 when unset).
 * A connected datagram socket is watched whatever its port (a resolver told another server). */
static unsigned dns_ports[8] = {53};
static int ndns_ports = 1;
#define DNS_WATCH_CALLS 256

static void dns_ports_from_env(void)
{
    const char *p = getenv("SCOPE_DNS_PORTS");
    if (!p)
        return;
    ndns_ports = 0;
    while (*p && ndns_ports < 8) {
        char *end;
        long port = strtol(p, &end, 10);
        if (end == p)
            break;
        if (port > 0 && port < 65536)
            dns_ports[ndns_ports++] = (unsigned)port;
        p = *end == ',' ? end + 1 : end;
    }
}
static struct thread *threads;
static size_t nthreads, cap_threads;

static struct thread *thread_of(pid_t tid, bool make)
{
    for (size_t i = 0; i < nthreads; i++)
        if (threads[i].tid == tid)
            return &threads[i];
    if (!make)
        return NULL;
    for (size_t i = 0; i < nthreads; i++)
        if (threads[i].tid == 0)
            return memset(&threads[i], 0, sizeof threads[i]), threads[i].tid = tid, &threads[i];
    if (nthreads == cap_threads) {
        size_t cap = cap_threads ? cap_threads * 2 : 16;
        struct thread *t = realloc(threads, cap * sizeof *t);
        if (!t)
            return NULL;
        threads = t;
        cap_threads = cap;
    }
    struct thread *t = &threads[nthreads++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    return t;
}

long sup_status(pid_t tid, const char *key)
{
    char name[64], buf[512];
    snprintf(name, sizeof name, "/proc/%d/status", (int)tid);
    FILE *f = fopen(name, "re");
    if (!f)
        return 0;
    long v = 0;
    size_t kl = strlen(key);
    while (fgets(buf, sizeof buf, f))
        if (!strncmp(buf, key, kl) && buf[kl] == ':') {
            v = strtol(buf + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* The thread group of tid (0 when it is gone). */
static pid_t tgid_of(pid_t tid) { return (pid_t)sup_status(tid, "Tgid"); }

/* ---- the name servers' sockets watched for queries ------------------------------------------ */
static bool watching(const struct thread *t, int fd)
{
    for (int i = 0; i < t->nwatch; i++)
        if (t->watch_fd[i] == fd)
            return true;
    return false;
}

/* A connect of thread t reached a name server on fd: every thread of its process watches for
 * the query (the others are interrupted, to be resumed stopping at each call). */
static void watch(struct thread *t, int fd)
{
    for (size_t i = 0; i < nthreads; i++) {
        struct thread *u = &threads[i];
        if (!u->tid || u->tgid != t->tgid)
            continue;
        if (!watching(u, fd)) {
            if (u->nwatch == 4)
                memmove(u->watch_fd, u->watch_fd + 1, 3 * sizeof *u->watch_fd);
            else
                u->nwatch++;
            u->watch_fd[u->nwatch - 1] = fd;
        }
        bool was = u->watch_left > 0;
        u->watch_left = DNS_WATCH_CALLS;
        if (u != t && !was)
            ptrace(PTRACE_INTERRUPT, u->tid, 0, 0);   /* its stop resumes it with PTRACE_SYSCALL */
    }
}

static void unwatch(pid_t tgid, int fd)
{
    for (size_t i = 0; i < nthreads; i++) {
        struct thread *u = &threads[i];
        if (!u->tid || u->tgid != tgid)
            continue;
        for (int k = 0; k < u->nwatch; k++)
            if (u->watch_fd[k] == fd) {
                memmove(u->watch_fd + k, u->watch_fd + k + 1, (size_t)(u->nwatch - k - 1) * sizeof *u->watch_fd);
                u->nwatch--;
                break;
            }
        if (!u->nwatch)
            u->watch_left = 0;
    }
}

/* ---- reading the tracee's memory ----------------------------------------------------------- */
/* n bytes of the tracee's memory at addr into out; how many were read (0 on failure or a NULL). */
static size_t read_mem(pid_t tid, uint64_t addr, void *out, size_t n)
{
    struct iovec l = {out, n}, r = {(void *)(uintptr_t)addr, n};
    ssize_t got = addr ? process_vm_readv(tid, &l, 1, &r, 1, 0) : -1;
    return got > 0 ? (size_t)got : 0;
}

/* A NUL-terminated string at addr, read a page at a time (a read across into an unmapped page
 * would fail as a whole); cut to cap - 1 bytes. */
static void read_str(pid_t tid, uint64_t addr, char *out, size_t cap)
{
    size_t got = 0;
    long page = sysconf(_SC_PAGESIZE);
    out[0] = 0;
    while (addr && got + 1 < cap) {
        size_t room = (size_t)page - (size_t)(addr % (uint64_t)page);
        if (room > cap - 1 - got)
            room = cap - 1 - got;
        size_t n = read_mem(tid, addr, out + got, room);
        if (!n)
            break;
        if (memchr(out + got, 0, n))
            return;
        got += n;
        addr += n;
    }
    out[got] = 0;
}

/* path made absolute against the thread's working directory (dirfd AT_FDCWD) or the directory
 * dirfd names, both read while the thread is stopped in the call; "" when unknown. */
static void absolute(pid_t tid, long dirfd, const char *path, char *out, size_t cap)
{
    out[0] = 0;
    if (!path[0])
        return;
    if (path[0] == '/') {
        snprintf(out, cap, "%s", path);
        return;
    }
    char link[64], base[SUP_PATH_MAX];
    if ((int)dirfd == AT_FDCWD)
        snprintf(link, sizeof link, "/proc/%d/cwd", (int)tid);
    else
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)tid, (int)dirfd);
    ssize_t n = readlink(link, base, sizeof base - 1);
    if (n <= 0 || base[0] != '/')
        return;
    base[n] = 0;
    if ((size_t)snprintf(out, cap, "%s%s%s", base, n > 1 ? "/" : "", path) >= cap)
        out[0] = 0;
}

/* A call's entry: who, which, its arguments, when; what is read of it later cleared. */
static struct sup_call *call_begin(struct thread *t, long nr, const uint64_t args[6])
{
    struct sup_call *c = &t->call;
    c->pid = t->tgid;
    c->tid = t->tid;
    c->nr = nr;
    for (int i = 0; i < 6; i++)
        c->args[i] = args[i];
    c->ret = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->t_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    c->path[0] = c->path2[0] = c->abs[0] = c->abs2[0] = c->local[0] = c->peer[0] = 0;
    c->addrlen = c->local_len = c->peer_len = c->nparts = 0;
    c->socktype = 0;
    return c;
}

static void entry(struct thread *t, const struct __ptrace_syscall_info *si)
{
    struct sup_call *c = call_begin(t, (long)si->seccomp.nr, (const uint64_t *)si->seccomp.args);
    if (c->nr == SYS_close)
        unwatch(t->tgid, (int)c->args[0]);   /* a name server's socket closed: its number may be reused */
    const struct scope_sup_call *w = watched_of(c->nr);
    switch (w ? w->args : SCOPE_SUP_NONE) {
    case SCOPE_SUP_PATH0:
        read_str(t->tid, c->args[0], c->path, sizeof c->path);
        absolute(t->tid, AT_FDCWD, c->path, c->abs, sizeof c->abs);
        break;
    case SCOPE_SUP_PATH1:
        read_str(t->tid, c->args[1], c->path, sizeof c->path);
        absolute(t->tid, (long)c->args[0], c->path, c->abs, sizeof c->abs);
        break;
    case SCOPE_SUP_PATHS02:
        read_str(t->tid, c->args[0], c->path, sizeof c->path);
        read_str(t->tid, c->args[1], c->path2, sizeof c->path2);
        absolute(t->tid, AT_FDCWD, c->path, c->abs, sizeof c->abs);
        absolute(t->tid, AT_FDCWD, c->path2, c->abs2, sizeof c->abs2);
        break;
    case SCOPE_SUP_PATHS13:
        read_str(t->tid, c->args[1], c->path, sizeof c->path);
        read_str(t->tid, c->args[3], c->path2, sizeof c->path2);
        absolute(t->tid, (long)c->args[0], c->path, c->abs, sizeof c->abs);
        absolute(t->tid, (long)c->args[2], c->path2, c->abs2, sizeof c->abs2);
        break;
    case SCOPE_SUP_ADDR1: {
        size_t n = c->args[2] < sizeof c->addr ? (size_t)c->args[2] : sizeof c->addr;
        c->addrlen = (unsigned)read_mem(t->tid, c->args[1], c->addr, n);
        break;
    }
    case SCOPE_SUP_NONE: break;
    }
    t->in_call = true;
    t->told = false;
}

static bool makes_fd(long nr)
{
    return nr == SYS_openat || nr == SYS_socket || nr == SYS_accept || nr == SYS_accept4
#ifdef SYS_open
           || nr == SYS_open || nr == SYS_creat   /* (aarch64 has only openat) */
#endif
#ifdef SYS_openat2
           || nr == SYS_openat2
#endif
        ;
}

/* Thread t's call returned descriptor fd: a close of that number under way in another thread of
 * its process has released it already (close frees the number before anything else), though its
 * exit stop may come after this one. Its record goes first, as done (a failure it may still
 * return is not known yet), or the new descriptor's records would be ended by it. */
static void closes_before(const struct thread *t, int fd, const struct sup_hooks *h)
{
    for (size_t i = 0; i < nthreads; i++) {
        struct thread *o = &threads[i];
        if (o == t || !o->tid || o->tgid != t->tgid || !o->in_call || o->told || o->call.nr != SYS_close ||
            (int)o->call.args[0] != fd)
            continue;
        o->told = true;
        struct sup_call c = o->call;
        c.ret = 0;
        if (h->call)
            h->call(h->ctx, &c);
    }
}

/* ---- a socket's addresses ------------------------------------------------------------------- */
static void addr_text(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t cap)
{
    out[0] = 0;
    char ip[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip))
            snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip))
            snprintf(out, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else if (ss->ss_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
        const struct sockaddr_un *a = (const struct sockaddr_un *)ss;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (a->sun_path[0])
            snprintf(out, cap, "%.*s", (int)strnlen(a->sun_path, n), a->sun_path);
        else if (n > 1)
            snprintf(out, cap, "@%.*s", (int)(n - 1), a->sun_path + 1);
    }
}

/* The addresses of the socket at fd in process pid, through a copy of the descriptor. */
/* A pidfd for each process followed, opened at its first socket and closed at its end: a server
 * that accepts a connection per request pays for one descriptor copy each, not for a pidfd too. */
#define PIDFDS 64
static struct {
    pid_t pid;
    int fd;
} pidfds[PIDFDS];

static int pidfd_of(pid_t pid)
{
    unsigned h = (unsigned)pid % PIDFDS;
    if (pidfds[h].pid == pid && pidfds[h].fd > 0)
        return pidfds[h].fd;
    if (pidfds[h].fd > 0)
        close(pidfds[h].fd);
    pidfds[h].pid = pid;
    pidfds[h].fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfds[h].fd < 0)
        pidfds[h].fd = 0;
    return pidfds[h].fd;
}

static void pidfd_forget(pid_t pid)
{
    unsigned h = (unsigned)pid % PIDFDS;
    if (pidfds[h].pid == pid && pidfds[h].fd > 0) {
        close(pidfds[h].fd);
        pidfds[h].fd = 0;
    }
}

static void sock_addrs(pid_t pid, int fd, struct sup_call *c)
{
    int pidfd = pidfd_of(pid);
    if (pidfd <= 0)
        return;
    int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (copy < 0)
        return;
    struct sockaddr_storage ss;
    socklen_t len = sizeof c->socktype;
    if (getsockopt(copy, SOL_SOCKET, SO_TYPE, &c->socktype, &len) != 0)
        c->socktype = 0;
    len = sizeof ss;
    if (getsockname(copy, (struct sockaddr *)&ss, &len) == 0 && len <= sizeof c->local_raw) {
        addr_text(&ss, len, c->local, sizeof c->local);
        memcpy(c->local_raw, &ss, len);
        c->local_len = len;
    }
    len = sizeof ss;
    if (getpeername(copy, (struct sockaddr *)&ss, &len) == 0 && len <= sizeof c->peer_raw) {
        addr_text(&ss, len, c->peer, sizeof c->peer);
        memcpy(c->peer_raw, &ss, len);
        c->peer_len = len;
    }
    close(copy);
}

/* What is learnt at a watched call's exit, besides its result. */
static void at_exit(struct sup_call *c)
{
    bool acc = c->nr == SYS_accept4;
#ifdef SYS_accept
    acc = acc || c->nr == SYS_accept;
#endif
    if (acc && c->ret >= 0)
        sock_addrs(c->pid, (int)c->ret, c);
    else if ((c->nr == SYS_connect && (c->ret == 0 || c->ret == -EINPROGRESS)) || (c->nr == SYS_bind && c->ret == 0))
        sock_addrs(c->pid, (int)c->args[0], c);
    else if (c->nr == SYS_getsockopt && c->ret == 0) {
        /* the pending error it read (0: connected), and then the ends */
        int v = -1;
        if (read_mem(c->tid, c->args[3], &v, sizeof v) == sizeof v) {
            memcpy(c->addr, &v, sizeof v);
            c->addrlen = sizeof v;
            if (v == 0)
                sock_addrs(c->pid, (int)c->args[0], c);
        }
    }
}

/* ---- DNS queries ---------------------------------------------------------------------------- */
/* A connect that reached a name server: a connected datagram socket of the internet families
 * (whatever its port: a resolver may be told another server), or a port of SCOPE_DNS_PORTS. */
static bool to_name_server(const struct sup_call *c)
{
    const unsigned char *sa = c->peer_len ? c->peer_raw : c->addr;
    unsigned len = c->peer_len ? c->peer_len : c->addrlen;
    sa_family_t fam;
    if (len < sizeof fam)
        return false;
    memcpy(&fam, sa, sizeof fam);
    unsigned port;
    if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in a;
        memcpy(&a, sa, sizeof a);
        port = ntohs(a.sin_port);
    } else if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 a;
        memcpy(&a, sa, sizeof a);
        port = ntohs(a.sin6_port);
    } else {
        return false;
    }
    if (c->socktype == SOCK_DGRAM)
        return true;
    for (int i = 0; i < ndns_ports; i++)
        if (dns_ports[i] == port)
            return true;
    return false;
}

static bool is_send(long nr) { return nr == SYS_write || nr == SYS_sendto || nr == SYS_sendmsg || nr == SYS_sendmmsg; }

/* The first buffer of the msghdr at addr, appended to c's data as one more part. */
static void take_msg(pid_t tid, uint64_t addr, struct sup_call *c)
{
    struct msghdr mh;
    struct iovec iov;
    if (read_mem(tid, addr, &mh, sizeof mh) != sizeof mh || !mh.msg_iovlen ||
        read_mem(tid, (uint64_t)(uintptr_t)mh.msg_iov, &iov, sizeof iov) != sizeof iov)
        return;
    size_t used = c->nparts ? c->datalen[0] : 0, room = sizeof c->data - used;
    size_t n = iov.iov_len < room ? iov.iov_len : room;
    c->datalen[c->nparts++] = (unsigned)read_mem(tid, (uint64_t)(uintptr_t)iov.iov_base, c->data + used, n);
}

/* A send's entry on the name server's socket: what it carries, read now (the buffer is the
 * program's to reuse once the call returns). */
static void send_entry(struct thread *t, const struct __ptrace_syscall_info *si)
{
    struct sup_call *c = call_begin(t, (long)si->entry.nr, (const uint64_t *)si->entry.args);
    if (c->nr == SYS_write || c->nr == SYS_sendto) {
        size_t n = c->args[2] < sizeof c->data ? (size_t)c->args[2] : sizeof c->data;
        c->datalen[0] = (unsigned)read_mem(t->tid, c->args[1], c->data, n);
        c->nparts = 1;
    } else if (c->nr == SYS_sendmsg) {
        take_msg(t->tid, c->args[1], c);
    } else {   /* sendmmsg: its first two messages (a resolver's A and AAAA) */
        for (uint64_t k = 0; k < c->args[2] && k < 2; k++)
            take_msg(t->tid, c->args[1] + k * sizeof(struct mmsghdr), c);
    }
    t->in_send = true;
}

/* Its exit: the parts sent, cut to what the call reports as sent. */
static bool send_exit(struct sup_call *c)
{
    if (c->ret <= 0 || !c->nparts)
        return false;
    if (c->nr == SYS_sendmmsg) {
        if ((uint64_t)c->ret < c->nparts)
            c->nparts = (unsigned)c->ret;
    } else if ((uint64_t)c->ret < c->datalen[0]) {
        c->datalen[0] = (unsigned)c->ret;
    }
    return c->datalen[0] > 0;
}

/* ---- the run -------------------------------------------------------------------------------- */
/* argv[0] as execvp finds it (a name with a slash as it is), or NULL with errno set: looked up
 * before the filter is in place, so the program's records start with its own exec, not with the
 * names tried on the way. */
static char *find_program(const char *name, char *buf, size_t cap)
{
    if (strchr(name, '/'))
        return (char *)name;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/bin:/usr/bin";
    int denied = 0;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((size_t)snprintf(buf, cap, "%.*s%s%s", (int)len, p, len ? "/" : "", name) < cap) {
            if (access(buf, X_OK) == 0) {
                struct stat st;
                if (stat(buf, &st) == 0 && S_ISREG(st.st_mode))
                    return buf;
            } else if (errno == EACCES) {
                denied = 1;
            }
        }
        if (!end)
            break;
        p = end;
    }
    errno = denied ? EACCES : ENOENT;
    return NULL;
}

static void child(const char *name, char *const argv[], const char *preload, int report)
{
    char buf[SUP_PATH_MAX];
    const char *file = find_program(name, buf, sizeof buf);
    int err = file ? 0 : errno;
    /* the supervisor's own environment has no LD_PRELOAD of libscope (it would be scoped itself) */
    if (preload)
        setenv("LD_PRELOAD", preload, 1);
    setenv("SCOPE_SUPERVISED", "1", 1);
    /* stopped until the tracer has seized us: a watched call made before would fail (ENOSYS) */
    raise(SIGSTOP);
    if (!err && scope_sup_filter_install(syscall) != 0)
        err = errno;
    if (!err) {
        execve(file, argv, environ);
        err = errno;
    }
    if (write(report, &err, sizeof err) < 0) { /* the tracer sees the exit status anyway */ }
    _exit(err == ENOENT ? 127 : 126);
}

/* Signals sent to the supervisor alone go on to the program; ^C, which a terminal sends to the
 * whole foreground group, reaches the program itself and is left to it (as `scope run` does). The
 * supervisor must not end before what it follows: a followed process would be killed with it. */
static volatile pid_t forward_to;
static void forward(int sig)
{
    if (forward_to > 0)
        kill(forward_to, sig);
}
static void own_signals(pid_t main_pid)
{
    static const int passed[] = {SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};
    forward_to = main_pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
        sigaction(passed[i], &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
}

static int shell_status(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

/* Whether thread tid, at its exit stop, is ending its whole process (in exit_group). */
static bool group_exit(pid_t tid)
{
#if defined(__x86_64__)
    struct user_regs_struct r;
    return ptrace(PTRACE_GETREGS, tid, 0, &r) == 0 && (long)r.orig_rax == SYS_exit_group;
#else
    (void)tid;
    return false;   /* elsewhere the leader's exit stop only */
#endif
}

static const char *go_image(pid_t pid, pid_t tid);

/* A watched call stops at its entry (seccomp), and forks, clones, execs and exits are followed. */
#define SEIZE_OPTIONS (PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
                       PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)

/* Follows the tree of process pid (already seized) until nothing of it is left; pid's wait status
 * (-1 if not seen). resumed_main: the SIGCONT that ends the stop before its exec is not to come. */
static int follow(pid_t pid, bool resumed_main, const struct sup_hooks *h)
{
    int main_status = -1, st;
    for (;;) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;   /* ECHILD: nothing followed is left */
        }
        if ((WIFEXITED(st) || WIFSIGNALED(st)) && h->reaped && !thread_of(w, false) && h->reaped(h->ctx, w, st))
            continue;   /* one of the supervisor's own helpers */
        struct thread *t = thread_of(w, true);
        if (t && !t->tgid)
            t->tgid = tgid_of(w) ? tgid_of(w) : w;
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (t && t->tid == t->tgid) {
                pidfd_forget(w);
                gotls_forget(w);
                if (h->proc)
                    h->proc(h->ctx, SUP_EXIT, w, st);
            }
            if (w == pid)
                main_status = st;
            if (t)
                t->tid = 0;
            continue;
        }
        if (!WIFSTOPPED(st))
            continue;
        int sig = WSTOPSIG(st), ev = (int)((unsigned)st >> 16);
        int deliver = 0;
        if (sig == SIGTRAP && ev == PTRACE_EVENT_SECCOMP) {
            struct __ptrace_syscall_info si;
            if (t && (!h->wanted || h->wanted(h->ctx, t->tgid)) &&
                ptrace(PTRACE_GET_SYSCALL_INFO, w, sizeof si, &si) > 0 && si.op == PTRACE_SYSCALL_INFO_SECCOMP) {
                entry(t, &si);
                ptrace(PTRACE_SYSCALL, w, 0, 0);   /* on to its exit */
                continue;
            }
        } else if (sig == (SIGTRAP | 0x80)) {   /* a watched call's exit, or any call while watching for DNS */
            struct __ptrace_syscall_info si;
            if (t && ptrace(PTRACE_GET_SYSCALL_INFO, w, sizeof si, &si) > 0) {
                if (si.op == PTRACE_SYSCALL_INFO_ENTRY && t->watch_left > 0) {
                    t->watch_left--;
                    if (is_send((long)si.entry.nr) && watching(t, (int)si.entry.args[0]))
                        send_entry(t, &si);
                } else if (si.op == PTRACE_SYSCALL_INFO_EXIT && t->in_call) {
                    t->call.ret = si.exit.rval;
                    t->in_call = false;
                    at_exit(&t->call);
                    if (t->call.nr == SYS_connect && (t->call.ret == 0 || t->call.ret == -EINPROGRESS) &&
                        to_name_server(&t->call)) {
                        watch(t, (int)t->call.args[0]);
                    }
                    if (makes_fd(t->call.nr) && t->call.ret >= 0)
                        closes_before(t, (int)t->call.ret, h);
                    if (h->call && !t->told)
                        h->call(h->ctx, &t->call);
                } else if (si.op == PTRACE_SYSCALL_INFO_EXIT && t->in_send) {
                    t->call.ret = si.exit.rval;
                    t->in_send = false;
                    if (send_exit(&t->call) && h->call)
                        h->call(h->ctx, &t->call);
                }
            }
        } else if (sig == SIGTRAP && ev == PTRACE_EVENT_EXIT) {
            /* exiting, still whole: what is read of it at its end is read now. The thread that
             * calls exit_group is the one that stops here (the others, killed, do not stop), and
             * with Go it is often not the leader. */
            if (t && h->proc && (t->tid == t->tgid || group_exit(w)))
                h->proc(h->ctx, SUP_ENDING, t->tgid, 0);
        } else if (sig == SIGTRAP && (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE)) {
            unsigned long nt = 0;
            ptrace(PTRACE_GETEVENTMSG, w, 0, &nt);
            struct thread *n = thread_of((pid_t)nt, true);
            bool thread = ev == PTRACE_EVENT_CLONE && tgid_of((pid_t)nt) == (t ? t->tgid : 0);
            if (n)
                n->tgid = thread && t ? t->tgid : (pid_t)nt;
            if (!thread && t)
                gotls_fork(t->tgid, (pid_t)nt);   /* the same memory, our breakpoints in it */
            if (h->proc)
                h->proc(h->ctx, thread ? SUP_THREAD : SUP_FORK, t ? t->tgid : w, (long)nt);
        } else if (sig == SIGTRAP && ev == PTRACE_EVENT_EXEC) {
            unsigned long former = 0;
            ptrace(PTRACE_GETEVENTMSG, w, 0, &former);
            /* the exec is done: its entry's exit stop will not come; a thread other than the leader
             * that exec'd took the leader's id, and the other threads are gone */
            if ((pid_t)former != w) {
                struct thread *old = thread_of((pid_t)former, false);
                if (old)
                    old->tid = 0;
            }
            if (t) {
                t->in_call = t->in_send = false;
                t->watch_left = t->nwatch = 0;
                t->tgid = w;
            }
            for (size_t i = 0; i < nthreads; i++)
                if (threads[i].tid && threads[i].tgid == w && threads[i].tid != w)
                    threads[i].tid = 0;
            if (h->proc)
                h->proc(h->ctx, SUP_EXEC, w, (pid_t)former != w ? (long)former : 0);
            gotls_forget(w);
            if (h->tls && (!h->wanted || h->wanted(h->ctx, w)) && (!h->tls_wanted || h->tls_wanted(h->ctx, w))) {
                const char *why = go_image(w, w);
                if (why && h->notice)
                    h->notice(h->ctx, w, why);
            }
        } else if (sig == SIGTRAP && ev == 0 && t && h->tls && gotls_trap(t->tgid, w, h->tls, h->ctx)) {
            /* one of our breakpoints in a Go program: handled, and no signal for it */
            if (h->wanted && !h->wanted(h->ctx, t->tgid))
                gotls_disarm(t->tgid);   /* detached: none is wanted any more */
            const char *why = gotls_notice(t->tgid);
            if (why && h->notice)
                h->notice(h->ctx, t->tgid, why);
        } else if (ev == PTRACE_EVENT_STOP) {
            if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
                ptrace(PTRACE_LISTEN, w, 0, 0);   /* a group-stop: stays stopped until SIGCONT */
                continue;
            }
            /* a new tracee's first stop, or the SIGCONT of the start */
        } else if (sig == SIGCONT && w == pid && !resumed_main) {
            resumed_main = true;   /* the SIGCONT that ended the child's stop before exec */
            deliver = SIGCONT;
        } else {
            deliver = sig;   /* a signal for the tracee: delivered on */
        }
        ptrace(t && t->watch_left > 0 ? PTRACE_SYSCALL : PTRACE_CONT, w, 0, deliver);
    }
    return main_status;
}

int sup_run(const struct sup_start *start, char *const argv[], const struct sup_hooks *h, char *why, size_t whylen)
{
    const char *file = start->file;
    int pid_fd = start->pid_fd;
    dns_ports_from_env();
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(pipefd[0]);
        if (pid_fd >= 0)
            close(pid_fd);
        child(file, argv, start->preload, pipefd[1]);
    }
    close(pipefd[1]);
    own_signals(pid);
    int st;
    pid_t got;
    while ((got = waitpid(pid, &st, WUNTRACED)) < 0 && errno == EINTR)
        ;
    if (got != pid || !WIFSTOPPED(st)) {
        snprintf(why, whylen, "the child did not stop before exec");
        close(pipefd[0]);
        return -1;
    }
    if (ptrace(PTRACE_SEIZE, pid, 0, SEIZE_OPTIONS) != 0) {
        snprintf(why, whylen, "ptrace: %s", strerror(errno));
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        close(pipefd[0]);
        return -1;
    }
    struct thread *t0 = thread_of(pid, true);
    if (t0)
        t0->tgid = pid;
    if (pid_fd >= 0) {
        char line[24];
        int n = snprintf(line, sizeof line, "%d\n", (int)pid);
        if (write(pid_fd, line, (size_t)n) != n) { /* whoever asked went away: the run goes on */ }
        close(pid_fd);
    }
    kill(pid, SIGCONT);
    int main_status = follow(pid, false, h);
    int err = 0;
    ssize_t n = read(pipefd[0], &err, sizeof err);   /* the exec's failure, if any */
    close(pipefd[0]);
    if (n == (ssize_t)sizeof err && err) {
        snprintf(why, whylen, "%s: %s", file, strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    return main_status < 0 ? 1 : shell_status(main_status);
}

int sup_seize(pid_t tid, int ready_fd, const struct sup_hooks *h, char *why, size_t whylen)
{
    dns_ports_from_env();
    pid_t tgid = tgid_of(tid);
    if (!tgid || ptrace(PTRACE_SEIZE, tid, 0, SEIZE_OPTIONS) != 0) {
        snprintf(why, whylen, "ptrace %d: %s", (int)tid, tgid ? strerror(errno) : "no such thread");
        return -1;
    }
    struct thread *t0 = thread_of(tid, true);
    if (t0)
        t0->tgid = tgid;
    char ok = 1;
    if (write(ready_fd, &ok, 1) != 1) { /* it went away: its exec, or its exit, is seen all the same */ }
    close(ready_fd);
    int st = follow(tgid, true, h);
    return st < 0 ? 0 : shell_status(st);
}

/* ---- attaching to a running process ------------------------------------------------------- */
#if defined(__x86_64__)
#include <sys/user.h>

/* The address of a `syscall` instruction in the process: in its vDSO (its fallbacks make system
 * calls), else in its first executable mapping. 0 when none is found. */
static uint64_t syscall_insn(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    uint64_t found = 0;
    for (int pass = 0; pass < 2 && !found; pass++) {
        rewind(f);
        while (!found && fgets(line, sizeof line, f)) {
            unsigned long lo, hi;
            char perms[8];
            if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[2] != 'x')
                continue;
            if (pass == 0 && !strstr(line, "[vdso]"))
                continue;
            unsigned char buf[4096];
            for (uint64_t at = lo; at < hi && !found; at += sizeof buf - 1) {
                size_t n = read_mem(pid, at, buf, hi - at < sizeof buf ? (size_t)(hi - at) : sizeof buf);
                for (size_t i = 0; i + 1 < n; i++)
                    if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
                        found = at + i;
                        break;
                    }
                if (!n)
                    break;
            }
        }
    }
    fclose(f);
    return found;
}

/* Signals that came to the thread while it made our calls, given back after. */
struct held {
    int sig[32];
    int n;
};

/* The thread (stopped, its registers saved) makes system call nr; its result, or -ESRCH when it
 * is gone. Its registers are ours meanwhile; the caller restores them. */
static long remote_syscall(pid_t tid, const struct user_regs_struct *saved, uint64_t insn, struct held *held, long nr,
                           uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
    struct user_regs_struct r = *saved;
    r.rax = (uint64_t)nr;
    r.orig_rax = (uint64_t)-1;   /* not a call to restart: the kernel leaves rax and rip alone */
    r.rdi = a1, r.rsi = a2, r.rdx = a3, r.r10 = a4, r.r8 = a5, r.r9 = a6;
    r.rip = insn;
    if (ptrace(PTRACE_SETREGS, tid, 0, &r) != 0)
        return -errno;
    for (int tries = 0; tries < 64; tries++) {
        if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) != 0)
            return -errno;
        int st;
        pid_t w;
        while ((w = waitpid(tid, &st, __WALL)) < 0 && errno == EINTR)
            ;
        if (w != tid || WIFEXITED(st) || WIFSIGNALED(st))
            return -ESRCH;
        struct user_regs_struct now;
        if (ptrace(PTRACE_GETREGS, tid, 0, &now) != 0)
            return -errno;
        if (now.rip == insn + 2)
            return (long)now.rax;   /* the call was made */
        int sig = WSTOPSIG(st);
        if (sig != SIGTRAP && ((unsigned)st >> 16) == 0 && held->n < 32)
            held->sig[held->n++] = sig;   /* a signal for it: kept, given back after */
    }
    return -EAGAIN;
}

/* Thread tid, in a ptrace stop inside a system call, runs on to its first user instruction
 * after it and stops there (signals meanwhile held). false when it is gone. */
static bool step_out_of_call(pid_t tid, struct held *held)
{
    for (int tries = 0; tries < 64; tries++) {
        if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) != 0)
            return false;
        int st;
        pid_t w;
        while ((w = waitpid(tid, &st, __WALL)) < 0 && errno == EINTR)
            ;
        if (w != tid || !WIFSTOPPED(st))
            return false;
        int sig = WSTOPSIG(st);
        if (sig == SIGTRAP && ((unsigned)st >> 16) == 0)
            return true;
        if (((unsigned)st >> 16) == 0 && held->n < 32)
            held->sig[held->n++] = sig;
    }
    return false;
}

/* The stopped thread gotls's page is mapped through (its registers taken, and its syscall
 * instruction found, at the first need: most images are not Go). */
static struct {
    pid_t pid, tid;
    bool in_exec;   /* stopped in its execve (the exec event): stepped out of it first */
    bool taken;
    struct user_regs_struct saved;
    uint64_t insn;
    struct held held;
} via;

static uint64_t map_via(pid_t pid, pid_t tid, uint64_t hint, size_t len)
{
    if (pid != via.pid || tid != via.tid)
        return 0;
    if (!via.taken) {
        /* In its exec's stop the thread is still in the execve call, whose result the kernel
         * stores in rax on the way out: a call made from there would be another. One
         * instruction of the new program is run first (its entry's), and it is then stopped in
         * user space. */
        if (via.in_exec && !step_out_of_call(tid, &via.held))
            return 0;
        if (!(via.insn = syscall_insn(pid)) || ptrace(PTRACE_GETREGS, tid, 0, &via.saved) != 0)
            return 0;
        via.taken = true;
    }
    long a = remote_syscall(tid, &via.saved, via.insn, &via.held, SYS_mmap, hint, len, PROT_READ | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
    return a > 0 && (unsigned long)a < -4096UL ? (uint64_t)a : 0;
}

/* A new image of pid, thread tid in a ptrace stop: gotls's breakpoints when it is a Go program
 * with crypto/tls. NULL, or why its TLS plaintext is not seen. The thread is put back as it was
 * (restore: false when the caller does it). */
static const char *go_image_via(pid_t pid, pid_t tid, bool in_exec, bool restore)
{
    via.pid = pid;
    via.tid = tid;
    via.in_exec = in_exec;
    via.taken = false;
    via.held.n = 0;
    const char *why = gotls_image(pid, tid, map_via);
    if (via.taken && restore)
        ptrace(PTRACE_SETREGS, tid, 0, &via.saved);
    for (int i = 0; i < via.held.n; i++)
        syscall(SYS_tgkill, pid, tid, via.held.sig[i]);
    via.pid = via.tid = 0;
    return why;
}

static const char *go_image(pid_t pid, pid_t tid) { return go_image_via(pid, tid, true, true); }

/* attach: why the Go program's TLS plaintext is not seen, told once its helper runs */
static const char *attach_tls_why;

/* Installs the filter in every thread of pid through thread tid (seized, not stopped): it is
 * stopped, made to map a page, copy the filter there, install it with SECCOMP_FILTER_FLAG_TSYNC
 * (no_new_privs first when it may not otherwise), unmap the page, and is put back as it was. */
static int inject_filter(pid_t pid, pid_t tid, bool tls, char *why, size_t whylen)
{
    uint64_t insn = syscall_insn(pid);
    if (!insn) {
        snprintf(why, whylen, "no syscall instruction found in pid %d's memory", (int)pid);
        return -1;
    }
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0) {
        snprintf(why, whylen, "ptrace interrupt %d: %s", (int)tid, strerror(errno));
        return -1;
    }
    struct held held = {{0}, 0};
    int st;
    for (;;) {   /* its stop: the interrupt's, or a signal's on the way to it */
        pid_t w;
        while ((w = waitpid(tid, &st, __WALL)) < 0 && errno == EINTR)
            ;
        if (w != tid || WIFEXITED(st) || WIFSIGNALED(st)) {
            snprintf(why, whylen, "pid %d ended", (int)pid);
            return -1;
        }
        if (((unsigned)st >> 16) == PTRACE_EVENT_STOP)
            break;
        if (((unsigned)st >> 16) == 0 && held.n < 32)
            held.sig[held.n++] = WSTOPSIG(st);
        ptrace(PTRACE_CONT, tid, 0, 0);   /* on to the interrupt's stop */
    }
    struct user_regs_struct saved;
    if (ptrace(PTRACE_GETREGS, tid, 0, &saved) != 0) {
        snprintf(why, whylen, "ptrace getregs: %s", strerror(errno));
        return -1;
    }
    struct sock_filter f[SCOPE_SUP_FILTER_MAX];
    int n = scope_sup_filter_build(f);
    long page = remote_syscall(tid, &saved, insn, &held, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
    long rc = page;
    if (page > 0 && (unsigned long)page < -4096UL) {
        struct sock_fprog prog = {(unsigned short)n, (struct sock_filter *)(uintptr_t)(page + 64)};
        struct iovec l[2] = {{&prog, sizeof prog}, {f, (size_t)n * sizeof *f}};
        struct iovec r[2] = {{(void *)(uintptr_t)page, sizeof prog}, {(void *)(uintptr_t)(page + 64), (size_t)n * sizeof *f}};
        if (process_vm_writev(pid, l, 2, r, 2, 0) != (ssize_t)(sizeof prog + (size_t)n * sizeof *f))
            rc = -errno;
        else {
            rc = remote_syscall(tid, &saved, insn, &held, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                SECCOMP_FILTER_FLAG_TSYNC, (uint64_t)page, 0, 0, 0);
            if (rc == -EACCES &&
                remote_syscall(tid, &saved, insn, &held, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) == 0)
                rc = remote_syscall(tid, &saved, insn, &held, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                    SECCOMP_FILTER_FLAG_TSYNC, (uint64_t)page, 0, 0, 0);
        }
        remote_syscall(tid, &saved, insn, &held, SYS_munmap, (uint64_t)page, 4096, 0, 0, 0, 0);
    }
    if (rc == 0 && tls) {   /* a Go program's breakpoints, through the same stop */
        attach_tls_why = go_image_via(pid, tid, false, false);
    }
    /* back as it was: a call it was blocked in is restarted by the kernel from these registers */
    if (ptrace(PTRACE_SETREGS, tid, 0, &saved) != 0 || ptrace(PTRACE_CONT, tid, 0, 0) != 0)
        rc = rc ? rc : -errno;
    for (int i = 0; i < held.n; i++)
        syscall(SYS_tgkill, pid, tid, held.sig[i]);
    if (rc != 0) {
        snprintf(why, whylen, "seccomp in pid %d: %s", (int)pid,
                 rc > 0 ? "a thread could not take the filter" : strerror((int)-rc));
        return -1;
    }
    return 0;
}

/* Seizes every thread of pid (threads made meanwhile are caught by the next pass, or by
 * PTRACE_O_TRACECLONE once their maker is seized). How many, or -1. */
static int seize_all(pid_t pid, char *why, size_t whylen)
{
    int total = 0;
    for (int pass = 0; pass < 100; pass++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
        DIR *d = opendir(path);
        if (!d) {
            snprintf(why, whylen, "pid %d: %s", (int)pid, strerror(errno));
            return -1;
        }
        int added = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0 || thread_of(tid, false))
                continue;
            if (ptrace(PTRACE_SEIZE, tid, 0, SEIZE_OPTIONS) != 0) {
                if (errno == ESRCH)
                    continue;   /* it ended meanwhile */
                snprintf(why, whylen, "ptrace pid %d thread %d: %s", (int)pid, (int)tid, strerror(errno));
                closedir(d);
                return -1;
            }
            struct thread *t = thread_of(tid, true);
            if (t)
                t->tgid = pid;
            added++;
        }
        closedir(d);
        total += added;
        if (!added)
            return total;
    }
    return total;
}

int sup_attach(pid_t pid, int ready_fd, const struct sup_hooks *h, char *why, size_t whylen)
{
    dns_ports_from_env();
    if (tgid_of(pid) != pid) {
        snprintf(why, whylen, "pid %d: no such process", (int)pid);
        return -1;
    }
    bool ok = seize_all(pid, why, whylen) >= 0;
    if (ok && !thread_of(pid, false)) {
        snprintf(why, whylen, "pid %d: its leader could not be seized", (int)pid);
        ok = false;
    }
    if (!ok || inject_filter(pid, pid, h->tls != NULL, why, whylen) != 0) {
        /* nothing installed: letting go leaves it as it was */
        for (size_t i = 0; i < nthreads; i++)
            if (threads[i].tid && threads[i].tgid == pid) {
                ptrace(PTRACE_DETACH, threads[i].tid, 0, 0);
                threads[i].tid = 0;
            }
        return -1;
    }
    if (h->proc)
        h->proc(h->ctx, SUP_ATTACHED, pid, 0);
    if (h->tls_wanted && !h->tls_wanted(h->ctx, pid))
        gotls_disarm(pid);   /* its settings want no plaintext: no stops for it */
    else if (attach_tls_why && h->notice)
        h->notice(h->ctx, pid, attach_tls_why);
    char byte = 1;
    if (write(ready_fd, &byte, 1) != 1) { /* whoever asked went away: following goes on */ }
    close(ready_fd);
    int st = follow(pid, true, h);
    return st < 0 ? 0 : shell_status(st);
}
#else
static const char *go_image(pid_t pid, pid_t tid)
{
    (void)pid, (void)tid;
    return NULL;
}

int sup_attach(pid_t pid, int ready_fd, const struct sup_hooks *h, char *why, size_t whylen)
{
    (void)pid, (void)ready_fd, (void)h;
    snprintf(why, whylen, "attaching from outside is written for x86-64 only");
    return -1;
}
#endif
