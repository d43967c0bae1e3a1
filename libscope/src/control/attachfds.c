/* attachfds.c — receiving the destination descriptors `scope attach` opened for us (attachfds.h says
 * why). The protocol: we connect to the socket the setting names; the listener (the tool) checks
 * our pid (SO_PEERCRED) is the process it attached to, and sends one message: one letter per
 * descriptor ('e' events, 'm' metrics, 'l' log) and the descriptors themselves (SCM_RIGHTS), in
 * that order. We check in turn that the listener is root or our own user: descriptors from anyone
 * else would send our records where that user chose.
 *
 * Run by the reporting thread only, after it has its own descriptor table: what arrives is
 * never in the app's table (report.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "libc/libc.h"
#include "control/attachfds.h"

#define KEY "SCOPE_ATTACH_SOCKET"
#define MAX_FDS 3
#define WAIT_S 5

static char path[sizeof ((struct sockaddr_un *)0)->sun_path];
static _Atomic bool pending;

void scope_handover_take(struct scope_kv *kv, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(kv[i].key, KEY) != 0)
            continue;
        if (strlen(kv[i].val) < sizeof path) {
            snprintf(path, sizeof path, "%s", kv[i].val);
            atomic_store(&pending, true);
        }
        free(kv[i].key);
        free(kv[i].val);
        memmove(&kv[i], &kv[i + 1], (*n - i - 1) * sizeof *kv);
        (*n)--;
        i--;
    }
}

bool scope_handover_pending(void) { return atomic_load(&pending); }

static int fail(char *why, size_t whylen, int err, const char *what)
{
    snprintf(why, whylen, "%s %s: %s", what, path, scope_strerror(err));
    return -err;
}

static int receive(int s, struct scope_given *g, char *why, size_t whylen)
{
    struct ucred cred;
    socklen_t clen = sizeof cred;
    if (scope_real_getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
        return fail(why, whylen, errno, "SO_PEERCRED on");
    if (cred.uid != 0 && cred.uid != geteuid()) {
        snprintf(why, whylen, "the handover socket %s is held by uid %u (not root, not ours): refused",
                 path, (unsigned)cred.uid);
        return -EPERM;
    }
    char tags[MAX_FDS + 1] = {0};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {.iov_base = tags, .iov_len = MAX_FDS};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t got;
    do
        got = scope_real_recvmsg(s, &m, MSG_CMSG_CLOEXEC);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return fail(why, whylen, errno == EAGAIN ? ETIMEDOUT : errno, "receiving the descriptors from");
    int fds[MAX_FDS], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof fd, sizeof fd);
            if (nfds < MAX_FDS)
                fds[nfds++] = fd;
            else
                scope_real_close(fd);
        }
    }
    int taken = 0;
    for (int i = 0; i < nfds; i++) {
        int *slot = i >= got ? NULL : tags[i] == 'e' ? &g->event : tags[i] == 'm' ? &g->metric
                  : tags[i] == 'l' ? &g->log : NULL;
        if (slot && *slot < 0) {
            *slot = fds[i];
            taken++;
        } else {
            scope_real_close(fds[i]);
        }
    }
    if (taken == 0) {
        snprintf(why, whylen, "the handover socket %s sent no descriptor%s", path,
                 m.msg_flags & MSG_CTRUNC ? " we could take (truncated)" : "");
        return -EPROTO;
    }
    return 0;
}

int scope_handover_fetch(struct scope_given *g, char *why, size_t whylen)
{
    g->event = g->metric = g->log = -1;
    why[0] = 0;
    int rc;
    int s = scope_real_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        rc = fail(why, whylen, errno, "socket for");
    } else {
        struct timeval tv = {.tv_sec = WAIT_S};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        memcpy(a.sun_path, path, sizeof a.sun_path);
        if (scope_real_connect(s, (struct sockaddr *)&a, sizeof a) != 0)
            rc = fail(why, whylen, errno, "connecting to the handover socket");
        else
            rc = receive(s, g, why, whylen);
        scope_real_close(s);
    }
    atomic_store(&pending, false);
    return rc;
}
