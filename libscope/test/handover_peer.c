/* handover_peer: connects to the unix socket argv[1] as libscope's handover does (handover.c),
 * prints "connected", then receives what comes: "fds <n> <tags>" on stdout, and writes
 * "peer <pid>\n" into each descriptor received. For the handover tests (handover.test.ts): a
 * process that is not the target must get nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: handover_peer SOCKET\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        printf("connect: %s\n", strerror(errno));
        return 1;
    }
    printf("connected\n");
    char tags[8] = {0};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(8 * sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {.iov_base = tags, .iov_len = sizeof tags - 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t got = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
    int n = 0;
    for (struct cmsghdr *c = got >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
            dprintf(fd, "peer %d\n", (int)getpid());
            close(fd);
            n++;
        }
    }
    printf("fds %d %s\n", n, got > 0 ? tags : "-");
    return 0;
}
