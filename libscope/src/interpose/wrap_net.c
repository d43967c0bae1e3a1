/* wrap_net.c — sockets: socket and socketpair make a socket lifetime; connect, accept and the
 * first datagram make its two ends known (net.open); listen marks a listening socket; the send and
 * recv families move bytes (net.tx, net.rx, and the copies the protocol parsers read). read, write
 * and friends on a socket come here through wrap_io.c's scope_fd_iob; close through record.c. */
#include <sys/socket.h>

#include "interpose/wrap.h"

/* A failure of a socket call: counted under its class, and an error record. */
static void net_fail(enum scope_fn fn, int fd, int err, int cls)
{
    if (!scope_failed(true, err))
        return;
    scope_net_err(cls);
    scope_fail(fn, fd, -1, NULL, err);
}

SCOPE_API int socket(int domain, int type, int protocol)
{
    WRAP_BEGIN(socket, -1, (domain, type, protocol));
    int fd = scope_real_socket(domain, type, protocol);
    int err = errno;
    scope_call_end(&sc_, -1, fd < 0);
    if (fd >= 0)
        scope_net_socket(SCOPE_FN_socket, fd, domain, type);
    else
        net_fail(SCOPE_FN_socket, -1, err, SCOPE_NETERR_CONN);
    errno = err;
    scope_leave();
    return fd;
}

SCOPE_API int socketpair(int domain, int type, int protocol, int sv[2])
{
    WRAP_BEGIN(socketpair, -1, (domain, type, protocol, sv));
    int r = scope_real_socketpair(domain, type, protocol, sv);
    int err = errno;
    scope_call_end(&sc_, -1, r < 0);
    if (r == 0) {
        scope_net_socket(SCOPE_FN_socketpair, sv[0], domain, type);
        scope_net_socket(SCOPE_FN_socketpair, sv[1], domain, type);
    } else {
        net_fail(SCOPE_FN_socketpair, -1, err, SCOPE_NETERR_CONN);
    }
    errno = err;
    scope_leave();
    return r;
}

/* bind, listen, shutdown: the call, and its failure. listen also marks a listening socket. */
#define NET_CALL(name, call, fd, after)                                                        \
    WRAP_BEGIN(name, -1, call);                                                               \
    int r = scope_real_##name call;                                                           \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, r < 0);                                                          \
    if (r == 0)                                                                               \
        after;                                                                                \
    else                                                                                      \
        net_fail(SCOPE_FN_##name, fd, err, SCOPE_NETERR_CONN);                                \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return r;

SCOPE_API int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    NET_CALL(bind, (fd, addr, len), fd, (void)0)
}
SCOPE_API int listen(int fd, int backlog)
{
    NET_CALL(listen, (fd, backlog), fd, scope_net_listen(SCOPE_FN_listen, fd))
}
SCOPE_API int shutdown(int fd, int how) { NET_CALL(shutdown, (fd, how), fd, (void)0) }

SCOPE_API int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    WRAP_BEGIN(connect, -1, (fd, addr, len));
    int r = scope_real_connect(fd, addr, len);
    int err = errno;
    /* under way (EINPROGRESS, EINTR: the kernel goes on) or asked again (EALREADY, EISCONN) */
    scope_call_end(&sc_, -1, r < 0 && err != EINPROGRESS && err != EINTR && err != EALREADY && err != EISCONN);
    scope_net_connect(fd, addr.__sockaddr__, len, r, r < 0 ? err : 0);
    errno = err;
    scope_leave();
    return r;
}

SCOPE_API int getsockopt(int fd, int level, int opt, void *restrict val, socklen_t *restrict len)
{
    SCOPE_NEED_REAL(getsockopt, -1);
    if (level != SOL_SOCKET || opt != SO_ERROR || !scope_enter())   /* not counted: not I/O */
        return scope_real_getsockopt(fd, level, opt, val, len);
    int r = scope_real_getsockopt(fd, level, opt, val, len);
    int err = errno;
    scope_net_sockopt(fd, level, opt, r, val, len);
    errno = err;
    scope_leave();
    return r;
}

#define ACCEPTED(name, call, lfd, addr, len)                                                  \
    WRAP_BEGIN(name, -1, call);                                                               \
    int nfd = scope_real_##name call;                                                          \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, nfd < 0 && scope_failed(true, err));                              \
    if (nfd >= 0)                                                                              \
        scope_net_accepted(SCOPE_FN_##name, lfd, nfd, (addr).__sockaddr__, len ? *len : 0);    \
    else                                                                                      \
        net_fail(SCOPE_FN_##name, lfd, err, SCOPE_NETERR_CONN);                               \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return nfd;

SCOPE_API SCOPE_HOT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    ACCEPTED(accept, (fd, addr, len), fd, addr, len)
}
SCOPE_API SCOPE_HOT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len, int flags)
{
    ACCEPTED(accept4, (fd, addr, len, flags), fd, addr, len)
}

/* One call on a socket: buf or iov holds the bytes, sa the datagram's peer. */
#define MOVED(name, call, fd, tx, buf, iov, iovcnt, sa, salen, flags)                          \
    WRAP_BEGIN(name, -1, call);                                                               \
    ssize_t r = scope_real_##name call;                                                       \
    int err = errno;                                                                          \
    scope_net_io(SCOPE_FN_##name, fd, tx, r, err, buf, iov, iovcnt, sa, salen, flags);        \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return r;

/* The peer a call filled in (never more than the room the app gave). */
#define PEER_ROOM(len) socklen_t room_ = (len) ? *(len) : 0
#define PEER_LEN(len) ((len) && *(len) < room_ ? *(len) : room_)

SCOPE_API SCOPE_HOT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    MOVED(send, (fd, buf, n, flags), fd, true, buf, NULL, 0, NULL, 0, flags)
}
SCOPE_API SCOPE_HOT ssize_t sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr,
                         socklen_t len)
{
    MOVED(sendto, (fd, buf, n, flags, addr, len), fd, true, buf, NULL, 0, addr.__sockaddr__, len, flags)
}
SCOPE_API SCOPE_HOT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    MOVED(sendmsg, (fd, msg, flags), fd, true, NULL, msg->msg_iov, (int)msg->msg_iovlen,
          (const struct sockaddr *)msg->msg_name, msg->msg_namelen, flags)
}
SCOPE_API SCOPE_HOT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    MOVED(recv, (fd, buf, n, flags), fd, false, buf, NULL, 0, NULL, 0, flags)
}
SCOPE_API ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    MOVED(__recv_chk, (fd, buf, n, buflen, flags), fd, false, buf, NULL, 0, NULL, 0, flags)
}
SCOPE_API SCOPE_HOT ssize_t recvfrom(int fd, void *restrict buf, size_t n, int flags, __SOCKADDR_ARG addr,
                           socklen_t *restrict len)
{
    PEER_ROOM(len);
    MOVED(recvfrom, (fd, buf, n, flags, addr, len), fd, false, buf, NULL, 0, addr.__sockaddr__,
          PEER_LEN(len), flags)
}
SCOPE_API ssize_t __recvfrom_chk(int fd, void *restrict buf, size_t n, size_t buflen, int flags,
                                 __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    PEER_ROOM(len);
    MOVED(__recvfrom_chk, (fd, buf, n, buflen, flags, addr, len), fd, false, buf, NULL, 0,
          addr.__sockaddr__, PEER_LEN(len), flags)
}
SCOPE_API SCOPE_HOT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    PEER_ROOM(&msg->msg_namelen);
    MOVED(recvmsg, (fd, msg, flags), fd, false, NULL, msg->msg_iov, (int)msg->msg_iovlen,
          (const struct sockaddr *)msg->msg_name, PEER_LEN(&msg->msg_namelen), flags)
}

/* Many datagrams in one call: each is a call of its own for the accounting. */
static void each_msg(enum scope_fn fn, int fd, bool tx, int r, int err, struct mmsghdr *vec,
                     const socklen_t *room, int flags)
{
    if (r < 0) {
        scope_net_io(fn, fd, tx, -1, err, NULL, NULL, 0, NULL, 0, flags);
        return;
    }
    for (int i = 0; i < r; i++) {
        struct msghdr *m = &vec[i].msg_hdr;
        socklen_t sl = room && m->msg_namelen > room[i] ? room[i] : m->msg_namelen;
        scope_net_io(fn, fd, tx, (ssize_t)vec[i].msg_len, 0, NULL, m->msg_iov, (int)m->msg_iovlen,
                     (const struct sockaddr *)m->msg_name, m->msg_name ? sl : 0, flags);
    }
}

SCOPE_API int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    WRAP_BEGIN(sendmmsg, -1, (fd, vec, vlen, flags));
    int r = scope_real_sendmmsg(fd, vec, vlen, flags);
    int err = errno;
    each_msg(SCOPE_FN_sendmmsg, fd, true, r, err, vec, NULL, flags);
    errno = err;
    scope_leave();
    return r;
}

SCOPE_API int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *tmo)
{
    WRAP_BEGIN(recvmmsg, -1, (fd, vec, vlen, flags, tmo));
    socklen_t room[64];
    unsigned int n = vlen < 64 ? vlen : 64;
    for (unsigned int i = 0; i < n; i++)
        room[i] = vec[i].msg_hdr.msg_namelen;
    int r = scope_real_recvmmsg(fd, vec, vlen, flags, tmo);
    int err = errno;
    each_msg(SCOPE_FN_recvmmsg, fd, false, r > (int)n ? (int)n : r, err, vec, room, flags);
    errno = err;
    scope_leave();
    return r;
}
