/* statsd_app.c — an app that sends its own StatsD metrics to 127.0.0.1:8125 every way libc
 * offers (sendto, connect+send, write, sendmsg, sendmmsg), a datagram of several lines, one too
 * long for one ring record, tagged, sampled, a set and a gauge change, a malformed line, and a
 * datagram to port 8126 that is not StatsD for us. statsd.test.ts checks what libscope relays.
 * Exits 1 when a call fails, so the test never mistakes a lost send for a lost relay. */
#define _GNU_SOURCE   /* sendmmsg */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in to(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void must(long r, const char *what)
{
    if (r < 0) {
        perror(what);
        exit(1);
    }
}

static void send_to(int fd, int port, const char *text)
{
    struct sockaddr_in a = to(port);
    must(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&a, sizeof a), "sendto");
}

int main(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    must(u, "socket");
    send_to(u, 8125, "app.sendto:1|c");
    send_to(u, 8125, "app.multi.a:1|c\napp.multi.b:2.5|h\r\napp.multi.c:3|d\n");
    send_to(u, 8125, "app.tagged:7|c|#env:prod,region:eu,bare");
    send_to(u, 8125, "app.sampled:3|c|@0.5");
    send_to(u, 8125, "app.users:alice|s");
    send_to(u, 8125, "app.level:-3|g");
    send_to(u, 8125, "app.collide:1|c|#host:fake,team:y,kept:1");
    send_to(u, 8125, "this line is not statsd\napp.afterbad:9|c");

    /* one datagram longer than a ring record: its pieces are put back together */
    char big[2048];
    size_t at = 0;
    for (int i = 0; i < 60; i++)
        at += (size_t)snprintf(big + at, sizeof big - at, "app.long.%02d:%d|c\n", i, i);
    send_to(u, 8125, big);

    /* the same metrics to another port: not StatsD for libscope */
    int other = socket(AF_INET, SOCK_DGRAM, 0);
    must(other, "socket");
    send_to(other, 8126, "app.other:1|c");
    close(other);

    /* sendmsg with the address in the message and the bytes in two pieces */
    struct sockaddr_in a = to(8125);
    struct iovec iov[2] = {{(void *)"app.sendmsg:", 12}, {(void *)"12.5|ms", 7}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_name = &a;
    m.msg_namelen = sizeof a;
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    must(sendmsg(u, &m, 0), "sendmsg");

    /* two datagrams in one sendmmsg */
    struct iovec v1 = {(void *)"app.mmsg.a:1|c", 14}, v2 = {(void *)"app.mmsg.b:2|c", 14};
    struct mmsghdr mm[2];
    memset(mm, 0, sizeof mm);
    mm[0].msg_hdr.msg_name = &a;
    mm[0].msg_hdr.msg_namelen = sizeof a;
    mm[0].msg_hdr.msg_iov = &v1;
    mm[0].msg_hdr.msg_iovlen = 1;
    mm[1].msg_hdr = mm[0].msg_hdr;
    mm[1].msg_hdr.msg_iov = &v2;
    if (sendmmsg(u, mm, 2, 0) != 2) {
        perror("sendmmsg");
        return 1;
    }
    close(u);

    /* a connected socket: send and write carry no address */
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    must(c, "socket");
    must(connect(c, (struct sockaddr *)&a, sizeof a), "connect");
    must(send(c, "app.send:42|g", 13, 0), "send");
    must(write(c, "app.write:5|c", 13), "write");
    close(c);
    return 0;
}
