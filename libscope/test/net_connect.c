/* net_connect: connects that fail, or succeed late, in each way an app learns of it, so the network
 * tests can check that libscope says net.error (and no connection) for a failure and net.open /
 * net.close for a success, whatever the app does to find out.
 * usage: net_connect MODE [PORT]
 *   refused     blocking connect to a closed port of 127.0.0.1
 *   nb-sockopt  non-blocking connect to a closed port, poll, getsockopt(SO_ERROR) (as curl, libuv)
 *   nb-io       non-blocking connect to a closed port, poll, then write(): its error is the connect's
 *   nb-close    non-blocking connect to a closed port, poll, then close without asking
 *   unreach     blocking connect to 224.0.0.1:80 (TCP to multicast: ENETUNREACH on any host)
 *   abandon     non-blocking connect to PORT (a listener that never answers: fullbacklog.py), poll
 *               100 ms, give up and close
 *   nb-ok       non-blocking connect to a listener of its own, poll, getsockopt(SO_ERROR) = 0, one
 *               byte each way, close
 * A closed port is one bound by a socket that does not listen: the kernel refuses connections to
 * it, and no other program can take it meanwhile.
 * Prints {"mode":M,"fd":N,"errno":E,"errno_name":"…","port":P}: the socket, and the error the app
 * saw (0: connected). Exit 0 when it went as the mode expects, 1 otherwise. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int closed_port(int *holder)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    *holder = socket(AF_INET, SOCK_STREAM, 0);
    if (*holder < 0 || bind(*holder, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(*holder, (struct sockaddr *)&a, &l) != 0)
        return -1;
    return ntohs(a.sin_port);
}

static int tcp(bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    return fd;
}

static int start(int fd, const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
}

static int wait_out(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    return poll(&p, 1, ms);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    int holder = -1, port = 0, fd = -1, err = -1, want = ECONNREFUSED;
    if (!strcmp(mode, "refused") || (!strncmp(mode, "nb-", 3) && strcmp(mode, "nb-ok")))
        port = closed_port(&holder);
    if (!strcmp(mode, "refused")) {
        fd = tcp(false);
        err = start(fd, "127.0.0.1", port);
        close(fd);
    } else if (!strcmp(mode, "unreach")) {
        port = 80;
        fd = tcp(false);
        err = start(fd, "224.0.0.1", port);
        want = ENETUNREACH;
        close(fd);
    } else if (!strcmp(mode, "nb-sockopt") || !strcmp(mode, "nb-io") || !strcmp(mode, "nb-close")) {
        fd = tcp(true);
        err = start(fd, "127.0.0.1", port);
        if (err == EINPROGRESS) {
            wait_out(fd, 5000);
            if (!strcmp(mode, "nb-sockopt")) {
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
            } else if (!strcmp(mode, "nb-io")) {
                err = write(fd, "x", 1) < 0 ? errno : 0;
            } else {
                err = ECONNREFUSED;   /* not asked: what the kernel knows (the test checks it) */
            }
        }
        close(fd);
    } else if (!strcmp(mode, "abandon") && argc > 2) {
        port = atoi(argv[2]);
        fd = tcp(true);
        err = start(fd, "127.0.0.1", port);
        if (err == EINPROGRESS && wait_out(fd, 100) == 0)
            err = EINPROGRESS;   /* still under way: given up */
        want = EINPROGRESS;
        close(fd);
    } else if (!strcmp(mode, "nb-ok")) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0 ||
            getsockname(l, (struct sockaddr *)&a, &al) != 0)
            return 1;
        port = ntohs(a.sin_port);
        fd = tcp(true);
        err = start(fd, "127.0.0.1", port);
        if (err == EINPROGRESS) {
            wait_out(fd, 5000);
            socklen_t el = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        }
        int s = accept(l, NULL, NULL);
        char b;
        if (s < 0 || write(fd, "q", 1) != 1 || read(s, &b, 1) != 1 || write(s, "r", 1) != 1 ||
            read(fd, &b, 1) != 1)
            return 1;
        close(fd);
        close(s);
        close(l);
        want = 0;
    } else {
        fprintf(stderr, "net_connect: unknown mode %s\n", mode);
        return 2;
    }
    if (holder >= 0)
        close(holder);
    printf("{\"mode\":\"%s\",\"fd\":%d,\"errno\":%d,\"errno_name\":\"%s\",\"port\":%d}\n", mode, fd, err,
           err ? strerrorname_np(err) : "", port);
    if (err != want) {
        fprintf(stderr, "net_connect %s: got %s, expected %s\n", mode, err ? strerror(err) : "success",
                want ? strerror(want) : "success");
        return 1;
    }
    return 0;
}
