/* control.c — the control socket. Every scoped process (preloaded or attached) listens on the
 * abstract unix stream socket "@scope/<pid>" (sun_path: a NUL, then "scope/<pid>"; nothing in the
 * file system, gone with the process). The reporting thread serves it between drains: each turn
 * of its loop (at most 100 ms apart) accepts, reads and answers without blocking, so a slow or
 * silent client costs nothing but a slot, and is dropped after 2 s.
 *
 * Any user may bind any abstract name, "@scope/<pid>" included, before we do. So the name proves
 * nothing: the tools ask the listener's credentials (SO_PEERCRED: the pid and uid of whoever called
 * listen()) and talk only to a listener whose pid is the target's. And a taken name does not keep
 * us silent: we listen on "@scope/<pid>.<16 random hex digits>" instead (a name nobody can guess
 * before we bind it), found by the tools in /proc/net/unix among the names starting "@scope/<pid>".
 *
 * Two names are bound, both "@scope/<pid>" to a reader: the name itself (as C clients, socat and
 * /proc/net/unix spell it) and the same name padded with NULs to the whole sun_path, which is what
 * node's net (libuv) connects to for '\0scope/<pid>'; abstract names differ by their length. The
 * padded one is a convenience for scripts: the tools connect to the exact name.
 *
 * A connection carries one request line and one response line (ctlreq.c), then is closed. Only a
 * peer with our uid or root may ask (SO_PEERCRED); another one is sent why (if its socket takes it
 * at once) and closed at once, before it gets a slot: other users cannot hold the slots root needs,
 * and their refusals are logged at most once a minute, with a count. A root peer finding every slot
 * taken takes the oldest non-root one. As for ptrace, a process that changed its credentials (a
 * daemon that dropped root: not dumpable, or real and effective uids that differ) answers root
 * only: its new uid's other processes could not have traced it, so they may not reconfigure it.
 *
 * A third listener is a socket file, 0600 in a directory closed to others (bound_file): no other
 * user can connect to it, so none can keep root's requests out by filling the abstract names'
 * backlog; the tools try it first.
 *
 * The sockets live in the reporting thread's own descriptor table (report.c): the app never sees
 * them, and a forked child, whose reporting thread starts with the app's table, listens under its
 * own pid on a socket of its own. */
#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/control.h"
#include "dest/dest.h"
#include "util/json.h"
#include "dest/log.h"
#include "dest/safefile.h"
#include "scope.h"

#define CONNS 8
#define LINE_MAX_BYTES 65536
#define CONN_MS 2000
#define RETRY_MS 5000
#define REFUSED_LOG_MS 60000
#define ACCEPTS_PER_TURN 256    /* refused peers cost a syscall each, nothing more */

struct conn {
    int fd;                 /* -1: free */
    uint64_t deadline;
    struct sbuf in, out;
    size_t sent;
    bool answering;         /* out holds the answer: send it, then close */
    bool root;              /* the peer is root: never made room for another */
};

#define NLISTEN 3
static int lfd[NLISTEN] = {-1, -1, -1};   /* the exact name, the padded name, the file */
static char path[160];          /* the file's path while we listen there ("" when not) */
static char path_dir[96];       /* its directory when it is our scope-<euid> one ("" for /tmp itself) */
static bool path_told;
static pid_t bound_for;
static char name[48];           /* "scope/<pid>" or "scope/<pid>.<hex>": the one listened on */
static uint64_t retry_at;
static bool told;
static unsigned long refused_n;  /* refusals not logged yet */
static uid_t refused_uid;
static pid_t refused_pid;
static uint64_t refused_log_at;  /* the next refusal log may be written from then on */
static struct conn conns[CONNS];
static bool conns_init;

static uint64_t now_ms(void)
{
    struct timespec ts;
    scope_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void init_conns(void)
{
    if (conns_init)
        return;
    conns_init = true;
    for (int i = 0; i < CONNS; i++)
        conns[i].fd = -1;
}

void scope_control_child(void)
{
    /* not closed: those numbers are the parent's reporting thread's, not in our table */
    lfd[0] = lfd[1] = lfd[2] = -1;
    path[0] = path_dir[0] = 0;   /* the parent's: not ours to remove */
    path_told = false;
    bound_for = 0;
    name[0] = 0;
    retry_at = 0;
    told = false;
    refused_n = 0;
    refused_log_at = 0;
    memset(conns, 0, sizeof conns);   /* buffers leaked: the parent may have been mid-update */
    conns_init = false;
}

static void drop(struct conn *c)
{
    scope_real_close(c->fd);
    c->fd = -1;
    c->in.len = c->out.len = 0;
    c->sent = 0;
    c->answering = false;
}

/* Our socket file goes (the directory with the last of its sockets, never /tmp itself). */
static void remove_file(void)
{
    if (path[0] && bound_for == getpid()) {
        scope_real_unlink(path);
        if (path_dir[0])
            scope_real_rmdir(path_dir);
    }
    path[0] = path_dir[0] = 0;
}

void scope_control_close(void)
{
    init_conns();
    for (int i = 0; i < CONNS; i++)
        if (conns[i].fd >= 0)
            drop(&conns[i]);
    for (int i = 0; i < NLISTEN; i++) {
        if (lfd[i] >= 0)
            scope_real_close(lfd[i]);
        lfd[i] = -1;
    }
    remove_file();
}

/* Set from a uid change's start to its end: no socket file is bound meanwhile. */
static _Atomic bool file_held;

void scope_control_release_file(void) { atomic_store(&file_held, false); }

/* The socket file is to be bound: none yet, binding it has not failed for good, no uid change on. */
static bool file_wanted(void) { return lfd[2] < 0 && !path_told && !atomic_load(&file_held); }

void scope_control_unbind_file(void)
{
    atomic_store(&file_held, true);
    if (lfd[2] >= 0)
        scope_real_close(lfd[2]);
    lfd[2] = -1;
    remove_file();
    path_told = false;
}

/* The control socket's file: "<tmp>/scope-<euid>/ctl.<pid>", in a directory of our euid's closed
 * to everyone else (safefile.c), the socket itself 0600. Only our uid and root can connect to it
 * (connect needs write permission on the file): the abstract names, which anyone can reach, can
 * be kept busy by another user's connects, this one cannot, so root's requests always get
 * through. The tools find it in /proc/<pid>/net/unix and check its listener like any other. A
 * file left by a process that had our pid (killed, or an image before an exec) is replaced, and
 * those of killed processes swept; the directory is removed by the last process leaving it. */
/* Files left by processes that were killed: a ctl.<pid> whose pid is gone here and on which
 * nobody listens (a process of another pid namespace sharing the directory still answers). */
static void sweep(const char *dir)
{
    DIR *d = scope_real_opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = scope_real_readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "ctl.", 4) != 0)
            continue;
        long pid = strtol(e->d_name + 4, &end, 10);
        if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, e->d_name) >= sizeof a.sun_path)
            continue;
        int fd = scope_real_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        if (scope_real_connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno == ECONNREFUSED)
            scope_real_unlink(a.sun_path);
        scope_real_close(fd);
    }
    scope_real_closedir(d);
}

static int bound_file(pid_t pid)
{
    char why[160];
    const char *tmp = "/tmp";
    char sub[32];
    snprintf(sub, sizeof sub, "scope-%u", (unsigned)geteuid());
    int d = scope_private_dir(tmp, sub, why, sizeof why);
    if (d < 0) {
        if (!path_told)
            scope_log(SCOPE_LOG_INFO, "control socket file in %s/%s: %s; the abstract name serves", tmp, sub, why);
        path_told = true;
        return -1;
    }
    /* the directory's name as we reach it: /tmp itself when it is closed to others */
    struct stat st, dst;
    char dir[96];
    snprintf(dir, sizeof dir, "%s/%s", tmp, sub);
    bool own = scope_sys_stat(dir, &st) == 0 && scope_sys_fstat(d, &dst) == 0 && st.st_dev == dst.st_dev && st.st_ino == dst.st_ino;
    if (!own)
        snprintf(dir, sizeof dir, "%s", tmp);
    scope_real_close(d);
    sweep(dir);
    char p[sizeof path];
    snprintf(p, sizeof p, "%s/ctl.%d", dir, (int)pid);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(p) >= sizeof a.sun_path)
        return -1;
    memcpy(a.sun_path, p, strlen(p) + 1);
    int fd = scope_real_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct stat old;
    if (scope_sys_lstat(p, &old) == 0 && S_ISSOCK(old.st_mode) && old.st_uid == geteuid())
        scope_real_unlink(p);
    /* made 0600 before anyone could connect: listen() comes after the chmod */
    if (scope_real_bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(p, 0600) != 0 || scope_real_listen(fd, 128) != 0) {
        int e = errno;
        scope_real_close(fd);
        if (!path_told)
            scope_log(SCOPE_LOG_INFO, "control socket file %s: %s; the abstract name serves", p, scope_strerror(e));
        path_told = true;
        return -1;
    }
    memcpy(path, p, sizeof path);
    snprintf(path_dir, sizeof path_dir, "%s", own ? dir : "");
    return scope_fd_high(fd);
}

static int bound(const char *nm, bool padded)
{
    int fd = scope_real_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(nm);
    memcpy(a.sun_path + 1, nm, n);
    socklen_t len = padded ? (socklen_t)sizeof a
                           : (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    if (fd < 0 || scope_real_bind(fd, (struct sockaddr *)&a, len) != 0 || scope_real_listen(fd, 128) != 0) {
        int e = errno;
        if (fd >= 0)
            scope_real_close(fd);
        errno = e;
        return -1;
    }
    /* high and close-on-exec, in case the thread shares the app's table (unshare refused) */
    return scope_fd_high(fd);
}

/* "scope/<pid>.<16 hex digits>", from the kernel's random pool: unguessable, so nobody can have
 * bound it before us. */
static bool random_name(pid_t pid, char *out, size_t size)
{
    unsigned char b[8];
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b)
        return false;
    int n = snprintf(out, size, "scope/%d.", (int)pid);
    for (size_t i = 0; i < sizeof b && n > 0 && (size_t)n + 2 < size; i++)
        n += snprintf(out + n, size - (size_t)n, "%02x", b[i]);
    return true;
}

/* This process's pid as libscope keeps it (set at start and in a forked child): no system call
 * in each turn of the reporting thread. */
static pid_t self_pid(void)
{
    pid_t p = scope_pid();
    return p ? p : getpid();
}

static void listen_now(void)
{
    pid_t pid = self_pid();
    if (bound_for != pid) {
        for (int i = 0; i < NLISTEN; i++)
            if (lfd[i] >= 0) {
                scope_real_close(lfd[i]);
                lfd[i] = -1;
            }
        path[0] = path_dir[0] = 0;
        snprintf(name, sizeof name, "scope/%d", (int)pid);
        bound_for = pid;
    }
    int e = 0;
    /* The exact name first: the one the tools use. Taken (by anyone: another user squatting it,
     * or a listener left by the process that had our pid before), a random one instead. */
    for (int tries = 0; lfd[0] < 0 && tries < 4; tries++) {
        if ((lfd[0] = bound(name, false)) >= 0)
            break;
        e = errno;
        char taken[sizeof name];
        memcpy(taken, name, sizeof name);
        if (e != EADDRINUSE || !random_name(pid, name, sizeof name))
            break;
        scope_log(SCOPE_LOG_WARNING, "control socket @%s: %s (bound by another process); listening "
                  "on @%s instead", taken, scope_strerror(e), name);
    }
    if (file_wanted())
        lfd[2] = bound_file(pid);
    if (lfd[0] >= 0) {
        /* the padded twin is for scripts only: its loss is logged, never retried */
        if (lfd[1] < 0 && (lfd[1] = bound(name, true)) < 0 && !told)
            scope_log(SCOPE_LOG_INFO, "control socket @%s (padded to the whole sun_path): %s; the "
                      "exact name serves", name, scope_strerror(errno));
        told = false;
        return;
    }
    retry_at = now_ms() + RETRY_MS;
    if (!told)
        scope_log(SCOPE_LOG_WARNING, "control socket @%s: %s; trying again every %d s",
                  name, scope_strerror(e), RETRY_MS / 1000);
    told = true;
}

static void answer(struct conn *c)
{
    c->answering = true;
    c->sent = 0;
    c->deadline = now_ms() + CONN_MS;
}

static void refused_log(uint64_t now)
{
    if (refused_n == 0 || now < refused_log_at)
        return;
    scope_log(SCOPE_LOG_WARNING, "control socket: refused %lu connection(s) (the last: "
              "uid %u, pid %d); logged at most once a minute", refused_n, (unsigned)refused_uid,
              (int)refused_pid);
    refused_n = 0;
    refused_log_at = now + REFUSED_LOG_MS;
}

/* The peer's credentials are checked before it gets a slot: a refused one is told why in one
 * send that cannot block (dropped if its buffer is full) and closed at once. */
static void admit(int fd, uint64_t now)
{
    struct ucred cred = {.uid = (uid_t)-1};
    socklen_t clen = sizeof cred;
    uid_t me = geteuid();
    if (scope_real_getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
        cred.uid = (uid_t)-1;
    bool changed = getuid() != me || scope_sys_prctl(PR_GET_DUMPABLE, 0) != 1;
    if (cred.uid != 0 && (cred.uid != me || changed)) {
        static struct sbuf why;   /* reused: the reporting thread is the only caller */
        why.len = 0;
        scope_ctl_denied(&why, (unsigned)cred.uid, (unsigned)me, cred.uid == me);
        if (why.p)
            (void)scope_real_send(fd, why.p, why.len, MSG_DONTWAIT | MSG_NOSIGNAL);
        scope_real_close(fd);
        refused_n++;
        refused_uid = cred.uid;
        refused_pid = cred.pid;
        refused_log(now);
        return;
    }
    struct conn *c = NULL;
    for (int i = 0; i < CONNS && !c; i++)
        if (conns[i].fd < 0)
            c = &conns[i];
    if (!c && cred.uid == 0) {
        /* root is never kept out by another's slow clients: the oldest non-root one makes room */
        for (int i = 0; i < CONNS; i++)
            if (!conns[i].root && (!c || conns[i].deadline < c->deadline))
                c = &conns[i];
        if (c)
            drop(c);
    }
    if (!c) {
        scope_real_close(fd);
        return;
    }
    c->fd = fd;
    c->in.len = c->out.len = 0;
    c->sent = 0;
    c->answering = false;
    c->root = cred.uid == 0;
    c->deadline = now + CONN_MS;
}

/* Reads what has come; answers once a line is whole (or the peer ended one without a newline). */
static void reading(struct conn *c, uint64_t now)
{
    char buf[4096];
    for (;;) {
        ssize_t n = scope_real_recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            sb_raw(&c->in, buf, (size_t)n);
            if (memchr(buf, '\n', (size_t)n) || c->in.len > LINE_MAX_BYTES)
                break;
            continue;
        }
        if (n == 0 && c->in.len == 0) {
            drop(c);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            drop(c);
            return;
        }
        if (n < 0 && now < c->deadline)
            return;   /* more to come */
        break;        /* the peer's end, or out of time */
    }
    char *nl = c->in.p ? memchr(c->in.p, '\n', c->in.len) : NULL;
    size_t len = nl ? (size_t)(nl - c->in.p) : c->in.len;
    if (len > LINE_MAX_BYTES)
        sb_s(&c->out, "{\"ok\":false,\"error\":\"request line longer than 65536 bytes\"}\n");
    else if (!nl && now >= c->deadline)
        sb_s(&c->out, "{\"ok\":false,\"error\":\"no request line within 2 s\"}\n");
    else
        scope_ctl_request(c->in.p ? c->in.p : "", len, &c->out);
    answer(c);
}

static void sending(struct conn *c, uint64_t now)
{
    while (c->sent < c->out.len) {
        ssize_t n = scope_real_send(c->fd, c->out.p + c->sent, c->out.len - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now < c->deadline)
            return;
        break;
    }
    drop(c);
}

void scope_control_serve(void)
{
    init_conns();
    uint64_t now = now_ms();
    if ((lfd[0] < 0 || file_wanted() || bound_for != self_pid()) && now >= retry_at)
        listen_now();
    for (int l = 0; l < NLISTEN; l++)
        for (int i = 0; lfd[l] >= 0 && i < ACCEPTS_PER_TURN; i++) {
            int fd = scope_real_accept4(lfd[l], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
                break;
            admit(fd, now);
        }
    refused_log(now);
    for (int i = 0; i < CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->fd >= 0 && !c->answering)
            reading(c, now_ms());
        if (c->fd >= 0 && c->answering)
            sending(c, now_ms());
    }
}
