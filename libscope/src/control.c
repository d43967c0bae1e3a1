/* control.c — the control socket. Every scoped process (preloaded or attached) listens on the
 * abstract unix stream socket "@scope/<pid>" (sun_path: a NUL, then "scope/<pid>"; nothing in the
 * file system, gone with the process). The reporting thread serves it between drains: each turn
 * of its loop (at most 100 ms apart) accepts, reads and answers without blocking, so a slow or
 * silent client costs nothing but a slot, and is dropped after 2 s.
 *
 * Two names are bound, both "@scope/<pid>" to a reader: the name itself (as C clients, socat and
 * /proc/net/unix spell it) and the same name padded with NULs to the whole sun_path, which is what
 * node's net (libuv) connects to for '\0scope/<pid>'; abstract names differ by their length.
 *
 * A connection carries one request line and one response line (ctlreq.c), then is closed. Only a
 * peer with our uid or root may ask (SO_PEERCRED); another one is told why and closed. As for
 * ptrace, a process that changed its credentials (a daemon that dropped root: not dumpable, or
 * real and effective uids that differ) answers root only: its new uid's other processes could not
 * have traced it, so they may not reconfigure it either.
 *
 * The sockets live in the reporting thread's own descriptor table (report.c): the app never sees
 * them, and a forked child, whose reporting thread starts with the app's table, listens under its
 * own pid on a socket of its own. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "dest.h"
#include "json.h"
#include "log.h"
#include "scope.h"

#define CONNS 8
#define LINE_MAX_BYTES 65536
#define CONN_MS 2000
#define RETRY_MS 5000

struct conn {
    int fd;                 /* -1: free */
    uint64_t deadline;
    struct sbuf in, out;
    size_t sent;
    bool answering;         /* out holds the answer: send it, then close */
    bool refused;           /* out holds a refusal, sent once the request is read: closing at
                             * once made the peer's write fail (EPIPE) before it read why */
};

static int lfd[2] = {-1, -1};   /* the exact name, the padded name */
static pid_t bound_for;
static uint64_t retry_at;
static bool told;
static struct conn conns[CONNS];
static bool conns_init;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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
    lfd[0] = lfd[1] = -1;
    bound_for = 0;
    retry_at = 0;
    told = false;
    memset(conns, 0, sizeof conns);   /* buffers leaked: the parent may have been mid-update */
    conns_init = false;
}

static void drop(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->in.len = c->out.len = 0;
    c->sent = 0;
    c->answering = false;
}

void scope_control_close(void)
{
    init_conns();
    for (int i = 0; i < CONNS; i++)
        if (conns[i].fd >= 0)
            drop(&conns[i]);
    for (int i = 0; i < 2; i++) {
        if (lfd[i] >= 0)
            close(lfd[i]);
        lfd[i] = -1;
    }
}

static int bound(pid_t pid, bool padded)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "scope/%d", (int)pid);
    socklen_t len = padded ? (socklen_t)sizeof a
                           : (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    /* high and close-on-exec, in case the thread shares the app's table (unshare refused) */
    return scope_fd_high(fd);
}

static void listen_now(void)
{
    pid_t pid = getpid();
    int e = 0;
    for (int i = 0; i < 2; i++) {
        if (lfd[i] >= 0 && bound_for != pid) {
            close(lfd[i]);
            lfd[i] = -1;
        }
        if (lfd[i] < 0 && (lfd[i] = bound(pid, i == 1)) < 0)
            e = errno;
    }
    bound_for = pid;
    if (lfd[0] >= 0 && lfd[1] >= 0) {
        told = false;
        return;
    }
    retry_at = now_ms() + RETRY_MS;
    if (!told)
        scope_log(SCOPE_LOG_WARNING, "control socket @scope/%d: %s; trying again every %d s",
                  (int)pid, strerror(e), RETRY_MS / 1000);
    told = true;
}

static void answer(struct conn *c)
{
    c->answering = true;
    c->sent = 0;
    c->deadline = now_ms() + CONN_MS;
}

static void admit(int fd)
{
    struct conn *c = NULL;
    for (int i = 0; i < CONNS && !c; i++)
        if (conns[i].fd < 0)
            c = &conns[i];
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->in.len = c->out.len = 0;
    c->sent = 0;
    c->answering = false;
    c->refused = false;
    c->deadline = now_ms() + CONN_MS;
    struct ucred cred = {.uid = (uid_t)-1};
    socklen_t clen = sizeof cred;
    uid_t me = geteuid();
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
        cred.uid = (uid_t)-1;
    bool changed = getuid() != me || prctl(PR_GET_DUMPABLE) != 1;
    if (cred.uid != 0 && (cred.uid != me || changed)) {
        scope_ctl_denied(&c->out, (unsigned)cred.uid, (unsigned)me, cred.uid == me);
        scope_log(SCOPE_LOG_WARNING, "control socket: refused a peer with uid %u (pid %d)",
                  (unsigned)cred.uid, (int)cred.pid);
        c->refused = true;
    }
}

/* Reads what has come; answers once a line is whole (or the peer ended one without a newline). */
static void reading(struct conn *c, uint64_t now)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
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
    if (c->refused) {
        answer(c);    /* the refusal, whatever was asked */
        return;
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
        ssize_t n = send(c->fd, c->out.p + c->sent, c->out.len - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
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
    if ((lfd[0] < 0 || lfd[1] < 0 || bound_for != getpid()) && now >= retry_at)
        listen_now();
    for (int l = 0; l < 2; l++)
        for (int i = 0; lfd[l] >= 0 && i < CONNS; i++) {
            int fd = accept4(lfd[l], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
                break;
            admit(fd);
        }
    for (int i = 0; i < CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->fd >= 0 && !c->answering)
            reading(c, now_ms());
        if (c->fd >= 0 && c->answering)
            sending(c, now_ms());
    }
}
