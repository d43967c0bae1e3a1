/* scope-supervise — a program libscope cannot be loaded into (a static executable; Go's runtime),
 * followed from outside (tracer.h), its calls reported by libscope all the same.
 *
 *   scope-supervise [--lib LIBSCOPE] [--preload LIST] [--calls FILE] [--pid-fd N] [--argv0 NAME] -- PROG [ARG…]
 *
 * --lib: for each process of the program's tree (each image: an exec starts a new one), a helper
 * process loads LIBSCOPE with dlopen and reports the calls handed to it as that process's, with
 * the settings in that process's environment (libscope/src/interpose/proxy.c): events, metrics and
 * the process-start record go where its SCOPE_* variables say, as if libscope were in it.
 * --preload: the program's LD_PRELOAD (this process's own environment must not preload libscope).
 * A dynamic program of the tree that preloads LIBSCOPE this way reports its own calls, in full; it
 * gets no helper and its calls are not reported again from here.
 * --calls: what was seen, a JSON line a call or process event (for the tests).
 * --pid-fd: the program's pid is written there (a decimal line) once it is followed (scope run).
 * --argv0: the program's argv[0], when it is not PROG (PROG is then the file run).
 * --or-run: when tracing cannot begin, PROG is exec'd all the same, unfollowed (not 125).
 *
 *   scope-supervise --lib LIBSCOPE --attach PID --ready-fd M [--config-fd C] [--hand VAR=FD]… [--session DIR]
 *
 * Follows running process PID from now on (scope attach to a static or Go program): once the filter
 * is in all its threads, a byte on M. Each helper's environment is the subject's with the settings
 * read from C (KEY=VALUE lines, to its end) over it, and VAR=FD for each --hand (descriptors this
 * process was given: the session's files, which the subject's user may not open). SIGUSR1 (scope
 * detach): reporting ends, and the process is followed in silence until it exits (a seccomp
 * filter cannot be taken out, and without its tracer its watched calls would fail).
 *
 *   scope-supervise --lib LIBSCOPE --seize TID --go-fd N --ready-fd M
 *
 * Follows thread TID of a scoped process about to exec a program libscope cannot see into, and
 * what it execs and starts (libscope's interpose/supexec.c starts it so): once a byte comes on
 * N (the process has let it trace it), seizes it and writes a byte on M; the process then
 * installs the filter and execs. Until that exec the process reports for itself. Exits 0, or
 * 125 when it could not seize it.
 * Exits with PROG's status (a shell's: 128 + N when killed by signal N), 126/127 when PROG could not
 * be run, 125 when tracing could not begin. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tracer.h"
#include "util/exekind.h"   /* libscope's (src/util/exekind.c): which images load libscope themselves */
#include "util/json.h"   /* libscope's JSON text (src/util/json.c): names as valid UTF-8 JSON */

/* ---- --calls ------------------------------------------------------------------------------- */
static void print_call(FILE *f, const struct sup_call *c)
{
    static struct sbuf b;
    b.len = 0;
    sb_fmt(&b, "{\"pid\":%d,\"tid\":%d,\"call\":\"%s\",\"ret\":%lld", (int)c->pid, (int)c->tid,
           sup_call_name(c->nr), (long long)c->ret);
    const char *const extra[][2] = {{"path", c->path}, {"path2", c->path2}, {"abs", c->abs},
                                    {"abs2", c->abs2}, {"local", c->local}, {"peer", c->peer}};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (extra[i][1][0])
            sb_kv_s(&b, extra[i][0], extra[i][1]);
    if (c->nparts)
        sb_fmt(&b, ",\"sent\":[%u%s%.0u]", c->datalen[0], c->nparts > 1 ? "," : "", c->nparts > 1 ? c->datalen[1] : 0);
    sb_fmt(&b, ",\"arg0\":%lld}\n", (long long)c->args[0]);
    fwrite(b.p, 1, b.len, f);
    fflush(f);
}

/* ---- the helpers: one per process image, libscope reporting for it -------------------------- */
struct helper {
    pid_t subject, pid;   /* the process reported for; the helper (0: a free slot) */
    int fd;               /* the write end of its pipe; -1 once closed */
    int ack;              /* the read end of its answers: started, and done with an exiting subject */
    bool tls;             /* the subject's settings want its TLS plaintext */
};
static struct helper helpers[1024];
static const char *lib;
static unsigned long dropped;
/* --attach: the settings over each helper's environment, and the descriptors named to it */
static char *attach_env[256];
static int nattach_env;
static volatile sig_atomic_t quiet;   /* SIGUSR1 after --attach: reporting has ended */

/* A message: this header, then the call's name, its two names, its address, the socket's ends
 * and what a send carried. A header alone is the end of the image: ret 0 replaced by an exec,
 * 1 exiting (the helper answers once it has read the subject's last state). */
struct msg {
    uint32_t len, name_len, path_len, path2_len, addr_len, local_len, peer_len, data_len;
    uint64_t t_ns;
    long long args[6], ret;
};

typedef int (*start_fn)(pid_t);
typedef void (*call_fn)(const char *, uint64_t, const long long *, long long, const char *, const char *,
                        const void *, unsigned, const void *, unsigned, const void *, unsigned, const void *,
                        unsigned);
typedef void (*end_fn)(int);

/* The subject's environment, as its libscope would have read it at its start. */
static void take_environment(pid_t subject)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)subject);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)n;
        if (len == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                break;
            buf = b;
        }
    }
    close(fd);
    if (!buf)
        return;
    clearenv();
    for (size_t i = 0; i < len;) {
        size_t l = strnlen(buf + i, len - i);
        if (l && l < len - i && strncmp(buf + i, "LD_PRELOAD=", 11) != 0)
            putenv(buf + i);   /* kept for good: the environment points into it */
        i += l + 1;
    }
}

/* The helper takes the subject's credentials before libscope opens anything: what its settings
 * name (a destination file, say) is opened as that process would have opened it, not as the
 * supervisor (root, it may be, following a program that gave root up). false when it cannot. */
static bool take_credentials(pid_t subject)
{
    if (geteuid() != 0)
        return true;   /* not root: the subject is ours, with our rights or fewer (no_new_privs) */
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)subject);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    unsigned long u[4], g[4];
    const char *ul = strstr(buf, "\nUid:"), *gl = strstr(buf, "\nGid:"), *gr = strstr(buf, "\nGroups:");
    if (!ul || !gl || sscanf(ul, "\nUid: %lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4 ||
        sscanf(gl, "\nGid: %lu %lu %lu %lu", &g[0], &g[1], &g[2], &g[3]) != 4)
        return false;
    gid_t groups[256];
    size_t ng = 0;
    if (gr) {
        char *p = (char *)gr + 8, *end;
        while (ng < 256) {
            unsigned long v = strtoul(p, &end, 10);
            if (end == p || (*end != ' ' && *end != '\n' && *end != '\t' && *end))
                break;
            groups[ng++] = (gid_t)v;
            p = end;
            if (*p == '\n' || !*p)
                break;
        }
    }
    return setgroups(ng, groups) == 0 && setresgid((gid_t)g[0], (gid_t)g[1], (gid_t)g[2]) == 0 &&
           setresuid((uid_t)u[0], (uid_t)u[1], (uid_t)u[2]) == 0;
}

/* Up to cap bytes of a file, to its end. */
static ssize_t read_whole(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len < cap && (n = read(fd, buf + len, cap - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

static bool read_all(int fd, void *p, size_t n)
{
    char *b = p;
    while (n) {
        ssize_t got = read(fd, b, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        b += got;
        n -= (size_t)got;
    }
    return true;
}

static void helper_main(pid_t subject, int in, int ack)
{
    /* its own process group: a terminal's ^C or ^Z for the program is not for it */
    setpgid(0, 0);
    static const int quiet[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
        signal((int)quiet[i], SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    start_fn start = h ? (start_fn)dlsym(h, "scope_proxy_start") : NULL;
    call_fn call = h ? (call_fn)dlsym(h, "scope_proxy_call") : NULL;
    end_fn end = h ? (end_fn)dlsym(h, "scope_proxy_end") : NULL;
    if (!start || !call || !end) {
        fprintf(stderr, "scope-supervise: %s: %s\n", lib, h ? "not a libscope with proxy reporting" : dlerror());
        _exit(1);
    }
    take_environment(subject);
    void (*handed)(pid_t) = (void (*)(pid_t))dlsym(h, "scope_proxy_handed");
    if (handed)
        handed(subject);   /* as root still: a session the subject was handed may be root's */
    for (int i = 0; i < nattach_env; i++)
        putenv(attach_env[i]);   /* --attach: the session's settings and descriptors */
    int started = take_credentials(subject) ? start(subject) : -1;
    int (*wants_tls)(void) = (int (*)(void))dlsym(h, "scope_proxy_wants_tls");
    /* 1: started; 2: its TLS plaintext is wanted */
    char ok = (char)((started == 0) | (started == 0 && wants_tls && wants_tls() ? 2 : 0));
    if (write(ack, &ok, 1) != 1 || started != 0)   /* the supervisor holds the subject until this */
        _exit(1);
    struct msg m;
    static char body[5 * 4096 + 512];
    int replaced = 0, exiting = 0;
    while (read_all(in, &m, sizeof m)) {
        if (m.len == sizeof m && !m.name_len) {   /* the image's end */
            replaced = m.ret == 0;
            exiting = m.ret == 1;
            break;
        }
        size_t rest = m.len - sizeof m;
        if (m.len < sizeof m || rest > sizeof body || !read_all(in, body, rest) ||
            (size_t)m.name_len + m.path_len + m.path2_len + m.addr_len + m.local_len + m.peer_len + m.data_len + 3 > rest)
            break;
        const char *name = body, *path = name + m.name_len + 1, *path2 = path + m.path_len + 1;
        const char *addr = path2 + m.path2_len + 1, *local = addr + m.addr_len, *peer = local + m.local_len;
        const char *data = peer + m.peer_len;
        /* the addresses as sockaddrs, aligned as libscope reads them */
        static struct sockaddr_storage sa[3];
        const unsigned lens[3] = {m.addr_len, m.local_len, m.peer_len};
        const char *from[3] = {addr, local, peer};
        for (int k = 0; k < 3; k++)
            memcpy(&sa[k], from[k], lens[k] < sizeof sa[k] ? lens[k] : sizeof sa[k]);
        call(name, m.t_ns, m.args, m.ret, path, path2, &sa[0], m.addr_len, &sa[1], m.local_len, &sa[2], m.peer_len,
             data, m.data_len);
    }
    end(replaced);
    if (exiting && write(ack, &ok, 1) != 1) { /* the supervisor stops waiting at its time limit */ }
    _exit(0);
}

static struct helper *helper_of(pid_t subject)
{
    for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
        if (helpers[i].pid && helpers[i].subject == subject && helpers[i].fd >= 0)
            return &helpers[i];
    return NULL;
}

/* How long an exiting subject is held for its helper to read its last state (proc.* metrics). */
#define ENDING_WAIT_MS 2000

/* The subject's image is gone (replaced by an exec), or exiting: its helper reports what is left,
 * an exiting subject held (stopped in its exit) until the helper has read it. */
static void helper_end(pid_t subject, bool replaced, bool exiting)
{
    struct helper *h = helper_of(subject);
    if (!h)
        return;
    struct msg m = {0};
    m.len = sizeof m;
    m.ret = exiting;
    if ((replaced || exiting) && write(h->fd, &m, sizeof m) != (ssize_t)sizeof m)
        dropped++;
    else if (exiting) {
        /* its pipe is non-blocking: the end message is behind the calls still queued */
        struct pollfd pf = {h->ack, POLLIN, 0};
        char ok;
        while (poll(&pf, 1, ENDING_WAIT_MS) < 0 && errno == EINTR)
            ;
        if ((pf.revents & POLLIN) && read(h->ack, &ok, 1) < 0) { /* the helper ended: same thing */ }
    }
    close(h->fd);
    close(h->ack);
    h->fd = h->ack = -1;   /* the slot is free once the helper is reaped */
}

/* Every helper's image ends (scope detach): what was queued is reported. */
static void end_all_helpers(void)
{
    for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
        if (helpers[i].pid && helpers[i].fd >= 0)
            helper_end(helpers[i].subject, false, false);
}

static void helper_start(pid_t subject)
{
    if (quiet)
        return;
    struct helper *slot = NULL;
    for (size_t i = 0; i < sizeof helpers / sizeof helpers[0] && !slot; i++)
        if (!helpers[i].pid)
            slot = &helpers[i];
    int p[2], a[2];
    if (!slot || pipe2(p, O_CLOEXEC) != 0 || (pipe2(a, O_CLOEXEC) != 0 && (close(p[0]), close(p[1]), 1))) {
        fprintf(stderr, "scope-supervise: no reporting for process %d: %s\n", (int)subject,
                slot ? strerror(errno) : "too many processes at once");
        return;
    }
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        close(a[0]);
        for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
            if (helpers[i].pid && helpers[i].fd >= 0) {
                close(helpers[i].fd);   /* the others' write ends: their EOF is theirs */
                close(helpers[i].ack);
            }
        helper_main(subject, p[0], a[1]);
    }
    close(p[0]);
    close(a[1]);
    if (pid < 0) {
        close(p[1]);
        close(a[0]);
        return;
    }
    /* The subject is stopped (at its exec, or a new child not yet resumed) until its helper has
     * read who it is: records must not be named after what it becomes next. */
    struct pollfd pf = {a[0], POLLIN, 0};
    char ok = 0;
    while (poll(&pf, 1, 5000) < 0 && errno == EINTR)
        ;
    if (!(pf.revents & POLLIN) || read(a[0], &ok, 1) != 1 || !(ok & 1))
        fprintf(stderr, "scope-supervise: no reporting for process %d: its helper did not start\n", (int)subject);
    fcntl(p[1], F_SETFL, O_NONBLOCK);   /* a helper that falls behind costs records, never the program's time */
    *slot = (struct helper){subject, pid, p[1], a[0], (ok & 2) != 0};
}

/* One message for a call (named name, or after its number); data: one part of what a send
 * carried (NULL: none). */
static void helper_message(struct helper *h, const struct sup_call *c, const unsigned char *data, unsigned dlen,
                           const char *name)
{
    if (!name)
        name = sup_call_name(c->nr);
    const char *path = c->abs[0] ? c->abs : c->path, *path2 = c->abs2[0] ? c->abs2 : c->path2;
    struct msg m = {0};
    m.name_len = (uint32_t)strlen(name);
    m.path_len = (uint32_t)strlen(path);
    m.path2_len = (uint32_t)strlen(path2);
    m.addr_len = c->addrlen;
    m.local_len = c->local_len;
    m.peer_len = c->peer_len;
    m.data_len = data ? dlen : 0;
    m.t_ns = c->t_ns;
    for (int i = 0; i < 6; i++)
        m.args[i] = (long long)c->args[i];
    m.ret = data ? (long long)dlen : c->ret;
    static char buf[sizeof m + 5 * 4096 + 512];
    size_t n = sizeof m;
    const struct {
        const void *p;
        size_t len;
    } parts[] = {{name, m.name_len + 1}, {path, m.path_len + 1}, {path2, m.path2_len + 1}, {c->addr, c->addrlen},
                 {c->local_raw, c->local_len}, {c->peer_raw, c->peer_len}, {data, m.data_len}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (parts[i].len)
            memcpy(buf + n, parts[i].p, parts[i].len);
        n += parts[i].len;
    }
    m.len = (uint32_t)n;
    memcpy(buf, &m, sizeof m);
    /* at most the pipe's size is written at once, and a message is far smaller: all or nothing */
    ssize_t w = write(h->fd, buf, n);
    if (w != (ssize_t)n)
        dropped++;
}

static void helper_send(const struct sup_call *c)
{
    struct helper *h = helper_of(c->pid);
    if (!h)
        return;
    if (!c->nparts) {
        helper_message(h, c, NULL, 0, NULL);
        return;
    }
    /* a send: each message it carried (sendmmsg's two queries) as one call */
    for (unsigned i = 0, at = 0; i < c->nparts; at += c->datalen[i++])
        helper_message(h, c, c->data + at, c->datalen[i], NULL);
}

/* The supervisor's word on a subject, as a notice record of it: path, then the rest. */
static void helper_notice(pid_t subject, const char *path, const char *says)
{
    struct helper *h = helper_of(subject);
    if (!h)
        return;
    struct sup_call c;
    memset(&c, 0, sizeof c);
    c.pid = c.tid = subject;
    snprintf(c.path, sizeof c.path, "%s", path);
    snprintf(c.path2, sizeof c.path2, "%s", says);
    helper_message(h, &c, NULL, 0, "notice");
}

/* A setuid or setgid image, or one with file capabilities, exec'd under the filter: without
 * CAP_SYS_ADMIN the filter came with no_new_privs, and a traced exec gains no privileges unless
 * its tracer may (root): it ran without them, and a failure of it may be that. Said once an image. */
static void privileges_lost(pid_t pid)
{
    char path[64], exe[SUP_PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    struct stat st;
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n <= 0 || stat(path, &st) != 0)
        return;
    exe[n] = 0;
    bool privileged = (st.st_mode & (S_ISUID | S_ISGID)) || getxattr(path, "security.capability", NULL, 0) > 0;
    if (!privileged)
        return;
    if (sup_status(pid, "NoNewPrivs") || geteuid() != 0)
        helper_notice(pid, exe, " is setuid, setgid or has file capabilities, and ran without its privileges: it was followed from outside (scope-supervise, no_new_privs)");
}

/* The plaintext of a Go program's TLS connection (gotls.h): "tls" messages of at most TLS_PART
 * bytes, args[0] the descriptor, args[1] 1 for a write, args[2] 1 for bytes counted but not copied
 * (ret their number, no data). */
#define TLS_PART 16384
static void helper_tls(const struct gotls_io *io)
{
    struct helper *h = helper_of(io->pid);
    if (!h)
        return;
    static struct sup_call c;
    memset(&c, 0, offsetof(struct sup_call, path));
    c.pid = io->pid;
    c.tid = io->tid;
    c.path[0] = c.path2[0] = c.abs[0] = c.abs2[0] = 0;
    c.addrlen = c.local_len = c.peer_len = 0;
    c.t_ns = io->t_ns;
    c.args[0] = (uint64_t)(int64_t)io->fd;
    c.args[1] = io->tx;
    for (size_t at = 0; at < io->len; at += TLS_PART) {
        size_t n = io->len - at < TLS_PART ? io->len - at : TLS_PART;
        helper_message(h, &c, io->data + at, (unsigned)n, "tls");
    }
    if (io->total > io->len) {
        c.args[2] = 1;
        c.ret = (int64_t)(io->total - io->len);
        helper_message(h, &c, NULL, 0, "tls");
    }
}

/* ---- processes that preload libscope: they report for themselves --------------------------- */
static const char *preload;   /* --preload */
static pid_t *inproc;
static size_t ninproc, cap_inproc;

static bool is_inproc(pid_t pid)
{
    for (size_t i = 0; i < ninproc; i++)
        if (inproc[i] == pid)
            return true;
    return false;
}

static void set_inproc(pid_t pid, bool on)
{
    for (size_t i = 0; i < ninproc; i++)
        if (inproc[i] == pid) {
            if (!on)
                inproc[i] = inproc[--ninproc];
            return;
        }
    if (!on)
        return;
    if (ninproc == cap_inproc) {
        size_t cap = cap_inproc ? cap_inproc * 2 : 16;
        pid_t *p = realloc(inproc, cap * sizeof *p);
        if (!p)
            return;   /* then it is reported from here as well: twice rather than not at all */
        inproc = p;
        cap_inproc = cap;
    }
    inproc[ninproc++] = pid;
}

static long pread_fn(int fd, void *buf, size_t n, off_t off) { return (long)pread(fd, buf, n, off); }

/* A new image of pid loads libscope itself: a dynamic executable (not Go) whose LD_PRELOAD names
 * our library (read at its exec, before its loader has run). */
static bool loads_libscope(pid_t pid)
{
    if (!lib)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    enum scope_exe_kind k = scope_exe_kind_fd(fd, pread_fn);
    close(fd);
    if (k != SCOPE_EXE_DYNAMIC)
        return false;
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    static char env[65536];
    ssize_t n = read_whole(fd, env, sizeof env - 1);
    close(fd);
    if (n <= 0)
        return false;
    env[n] = 0;
    size_t ll = strlen(lib);
    for (char *e = env; e < env + n; e += strlen(e) + 1) {
        if (strncmp(e, "LD_PRELOAD=", 11))
            continue;
        /* the loader's separators: colons and white space */
        for (char *p = e + 11; *p;) {
            size_t len = strcspn(p, ": \t\n");
            if (len == ll && !memcmp(p, lib, ll))
                return true;
            p += len;
            p += strspn(p, ": \t\n");
        }
    }
    return false;
}

/* ---- the hooks ------------------------------------------------------------------------------ */
struct ctx {
    FILE *calls;
};

static bool wanted(void *vctx, pid_t pid)
{
    (void)vctx;
    return !is_inproc(pid) && !quiet;
}

static void on_call(void *vctx, const struct sup_call *c)
{
    struct ctx *x = vctx;
    if (quiet) {
        end_all_helpers();   /* detached: what was queued is reported, then nothing more */
        return;
    }
    if (is_inproc(c->pid))
        return;   /* a send watched for DNS in a process that reports for itself */
    if (x->calls)
        print_call(x->calls, c);
    if (lib)
        helper_send(c);
}

static void on_proc(void *vctx, enum sup_event e, pid_t pid, long other)
{
    struct ctx *x = vctx;
    static const char *const names[] = {"fork", "thread", "exec", "ending", "exit"};
    if (x->calls) {
        fprintf(x->calls, "{\"pid\":%d,\"event\":\"%s\",\"other\":%ld}\n", (int)pid, names[e], other);
        fflush(x->calls);
    }
    if (!lib)
        return;
    if (e == SUP_EXEC) {   /* a new image: the old one's records end, the new one's begin */
        helper_end(pid, true, false);
        bool own = loads_libscope(pid);
        set_inproc(pid, own);
        if (!own) {
            helper_start(pid);
            privileges_lost(pid);
        }
    } else if (e == SUP_FORK) {
        if (is_inproc(pid))
            set_inproc((pid_t)other, true);   /* a fork of it: its libscope goes on in the child */
        else
            helper_start((pid_t)other);
    } else if (e == SUP_ATTACHED) {
        /* whoever started us stops listening once told: our word goes nowhere from here on */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 2);
            close(null);
        }
        helper_start(pid);
    } else if (e == SUP_ENDING) {
        helper_end(pid, false, true);
    } else if (e == SUP_EXIT) {
        helper_end(pid, false, false);
        set_inproc(pid, false);
    }
}

/* Whether process pid's TLS plaintext is wanted: by its helper's settings; with no helper (--calls
 * alone), yes. */
static bool tls_wanted(void *vctx, pid_t pid)
{
    (void)vctx;
    if (quiet || is_inproc(pid))
        return false;
    if (!lib)
        return true;
    struct helper *h = helper_of(pid);
    return h && h->tls;
}

static void on_tls(void *vctx, const struct gotls_io *io)
{
    struct ctx *x = vctx;
    if (quiet || is_inproc(io->pid))
        return;
    if (x->calls) {
        fprintf(x->calls, "{\"pid\":%d,\"tid\":%d,\"tls\":\"%s\",\"fd\":%d,\"len\":%zu,\"total\":%zu}\n",
                (int)io->pid, (int)io->tid, io->tx ? "write" : "read", io->fd, io->len, io->total);
        fflush(x->calls);
    }
    if (lib)
        helper_tls(io);
}

static void on_notice(void *vctx, pid_t pid, const char *says)
{
    struct ctx *x = vctx;
    if (x->calls) {
        static struct sbuf b;
        b.len = 0;
        sb_fmt(&b, "{\"pid\":%d", (int)pid);
        sb_kv_s(&b, "notice", says);
        sb_fmt(&b, "}\n");
        fwrite(b.p, 1, b.len, x->calls);
        fflush(x->calls);
    }
    char path[64], exe[SUP_PATH_MAX], text[1024];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    snprintf(text, sizeof text, ": its TLS plaintext is not seen: %s", says);
    if (!quiet && lib)
        helper_notice(pid, exe, text);
}

static bool on_reaped(void *vctx, pid_t pid, int status)
{
    (void)vctx;
    (void)status;
    for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
        if (helpers[i].pid == pid) {
            if (helpers[i].fd >= 0) {
                close(helpers[i].fd);
                close(helpers[i].ack);
            }
            helpers[i] = (struct helper){0, 0, -1, -1, false};
            return true;
        }
    return false;
}

/* SIGUSR1 after --attach: scope detach. Reporting ends at the next event (on_call). */
static void on_detach(int sig)
{
    (void)sig;
    quiet = 1;
}

/* --attach: the settings (KEY=VALUE lines) read from fd to its end. */
static bool read_settings(int fd)
{
    static char text[65536];
    ssize_t n = read_whole(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0)
        return false;
    text[n] = 0;
    for (char *line = strtok(text, "\n"); line && nattach_env < 200; line = strtok(NULL, "\n"))
        if (!strncmp(line, "SCOPE_", 6) && strchr(line, '='))
            attach_env[nattach_env++] = line;
    return true;
}

static int follow_running(pid_t pid, int ready_fd, const struct sup_hooks *h)
{
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_detach;
    sigaction(SIGUSR1, &sa, NULL);
    static const int quiet_sigs[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP};
    for (size_t i = 0; i < sizeof quiet_sigs / sizeof quiet_sigs[0]; i++)
        signal(quiet_sigs[i], SIG_IGN);   /* its end would be the process's (PTRACE_O_EXITKILL) */
    char why[512] = "";
    int rc = sup_attach(pid, ready_fd, h, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "scope-supervise: %s\n", why);
        return 125;
    }
    return 0;
}

/* --seize: the process lets us trace it (go), we seize the thread, it execs. */
static int follow_exec(pid_t tid, int go_fd, int ready_fd, const struct sup_hooks *h)
{
    struct pollfd pf = {go_fd, POLLIN, 0};
    char go = 0;
    while (poll(&pf, 1, 3000) < 0 && errno == EINTR)
        ;
    if (!(pf.revents & POLLIN) || read(go_fd, &go, 1) != 1 || go != 1)
        return 125;   /* it gave up waiting: it execs unfollowed, with the notice */
    close(go_fd);
    set_inproc((pid_t)sup_status(tid, "Tgid"), true);   /* its libscope reports for it until its exec */
    char why[512] = "";
    int rc = sup_seize(tid, ready_fd, h, why, sizeof why);
    return rc < 0 ? 125 : 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: scope-supervise [--lib LIBSCOPE] [--preload LIST] [--calls FILE] [--pid-fd N] [--argv0 NAME] [--or-run] -- PROG [ARG...]\n"
                    "       scope-supervise --lib LIBSCOPE --attach PID --ready-fd M [--config-fd C] [--hand VAR=FD]...\n"
                    "       scope-supervise --lib LIBSCOPE --seize TID --go-fd N --ready-fd M\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct ctx x = {NULL};
    int i = 1, pid_fd = -1, go_fd = -1, ready_fd = -1, config_fd = -1;
    long seize = 0, attach = 0;
    const char *argv0 = NULL;
    bool or_run = false;
    for (; i < argc && strcmp(argv[i], "--"); i += 2) {
        if (!strcmp(argv[i], "--or-run")) {
            or_run = true;
            i--;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--lib")) {
            lib = argv[i + 1];
        } else if (!strcmp(argv[i], "--pid-fd")) {
            char *end;
            long n = strtol(argv[i + 1], &end, 10);
            if (*end || n < 0 || n > 1 << 20 || fcntl((int)n, F_GETFD) < 0) {
                fprintf(stderr, "scope-supervise: --pid-fd %s: not an open descriptor\n", argv[i + 1]);
                return 2;
            }
            pid_fd = (int)n;
            fcntl(pid_fd, F_SETFD, FD_CLOEXEC);
        } else if (!strcmp(argv[i], "--seize") || !strcmp(argv[i], "--go-fd") || !strcmp(argv[i], "--ready-fd") ||
                   !strcmp(argv[i], "--attach") || !strcmp(argv[i], "--config-fd")) {
            char *end;
            long n = strtol(argv[i + 1], &end, 10);
            if (*end || n < 0 || n > 1 << 22) {
                fprintf(stderr, "scope-supervise: %s %s: not a number\n", argv[i], argv[i + 1]);
                return 2;
            }
            if (!strcmp(argv[i], "--seize"))
                seize = n;
            else if (!strcmp(argv[i], "--attach"))
                attach = n;
            else if (!strcmp(argv[i], "--config-fd"))
                config_fd = (int)n;
            else
                *(argv[i][2] == 'g' ? &go_fd : &ready_fd) = (int)n;
        } else if (!strcmp(argv[i], "--session")) {
            /* the session it reports to, for scope detach to find (not read here) */
        } else if (!strcmp(argv[i], "--hand")) {
            const char *eq = strchr(argv[i + 1], '=');
            char *end;
            long fd = eq ? strtol(eq + 1, &end, 10) : -1;
            if (!eq || strncmp(argv[i + 1], "SCOPE_", 6) || *end || fd < 0 || fcntl((int)fd, F_GETFD) < 0 || nattach_env >= 250) {
                fprintf(stderr, "scope-supervise: --hand %s: not VAR=FD with FD open\n", argv[i + 1]);
                return 2;
            }
            attach_env[nattach_env++] = argv[i + 1];
        } else if (!strcmp(argv[i], "--preload")) {
            preload = argv[i + 1];
        } else if (!strcmp(argv[i], "--argv0")) {
            argv0 = argv[i + 1];
        } else if (!strcmp(argv[i], "--calls")) {
            int fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0 || !(x.calls = fdopen(fd, "w"))) {
                fprintf(stderr, "scope-supervise: %s: %s\n", argv[i + 1], strerror(errno));
                return 125;
            }
        } else {
            return usage();
        }
    }
    for (size_t k = 0; k < sizeof helpers / sizeof helpers[0]; k++)
        helpers[k].fd = helpers[k].ack = -1;
    struct sup_hooks h = {&x, on_call, on_proc, on_reaped, wanted, on_tls, on_notice, tls_wanted};
    if (attach) {
        if (ready_fd < 0 || !lib || (config_fd >= 0 && !read_settings(config_fd)))
            return usage();
        return follow_running((pid_t)attach, ready_fd, &h);
    }
    if (seize) {
        if (go_fd < 0 || ready_fd < 0 || !lib)
            return usage();
        return follow_exec((pid_t)seize, go_fd, ready_fd, &h);
    }
    if (i >= argc - 1)
        return usage();
    char why[512] = "";
    char *const *prog = argv + i + 1;
    const char *file = prog[0];
    if (argv0)
        argv[i + 1] = (char *)argv0;   /* the program sees the name it was given */
    struct sup_start start = {file, pid_fd, preload};
    int rc = sup_run(&start, prog, &h, why, sizeof why);
    if (x.calls)
        fclose(x.calls);
    if (rc < 0 && or_run) {
        /* it could not be followed (no ptrace here, say): it runs all the same, unseen, as it
         * would have without us (libscope's posix_spawn put us in its place) */
        if (preload)
            setenv("LD_PRELOAD", preload, 1);
        execvp(file, prog);
        fprintf(stderr, "scope-supervise: %s: %s\n", file, strerror(errno));
        return errno == ENOENT ? 127 : 126;
    }
    if (rc < 0) {
        fprintf(stderr, "scope-supervise: %s\n", why);
        return 125;
    }
    if (why[0])
        fprintf(stderr, "scope-supervise: %s\n", why);
    if (dropped)
        fprintf(stderr, "scope-supervise: %lu calls not reported: their process's reporting fell behind\n", dropped);
    return rc;
}
