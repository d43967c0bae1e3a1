/* net_rawdns: one DNS query built by hand and sent over UDP to 127.0.0.1:PORT (the dns tests' stub
 * server, test/servers.ts startDnsStub), so a test can check what libscope makes of DNS traffic
 * that does not go through the resolver functions. Default: an unconnected socket, sendto() and
 * recvfrom(); --connected: connect(), send() and recv(). Waits up to 2 s for the answer with poll().
 * TYPE: A (default) or AAAA. The query id is derived from the pid and the time.
 * usage: net_rawdns [--connected] PORT NAME [TYPE]
 * Prints one JSON line: {"id":N,"name":NAME,"type":"A","mode":"sendto"|"connected",
 *   "local_port":P,"sent":N,"recv":N,"rcode":N,"addrs":["10.1.2.3",…]}
 *   (sent/recv: bytes of the query and of the answer; addrs: the answer records of TYPE, in order;
 *   on timeout or a bad answer "recv" is 0 or the size, "rcode" -1 and there is an "error" key).
 * Exit 0 when an answer with the query's id came back (NXDOMAIN included), 1 otherwise, 2 on usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "jsonout.h"

static unsigned id;
static const char *name, *type, *mode;
static int local_port = -1;
static long sent, recvd;


static void head(void)
{
    printf("{\"id\":%u,\"name\":", id);
    json_str(name);
    printf(",\"type\":\"%s\",\"mode\":\"%s\",\"local_port\":%d,\"sent\":%ld,\"recv\":%ld,",
           type, mode, local_port, sent, recvd);
}

static int fail(const char *error)
{
    head();
    printf("\"rcode\":-1,\"addrs\":[],\"error\":");
    json_str(error);
    printf("}\n");
    return 1;
}

/* the offset just past the (possibly compressed) name at off, or -1 */
static long skip_name(const unsigned char *m, long len, long off)
{
    while (off < len) {
        unsigned l = m[off];
        if ((l & 0xc0) == 0xc0)
            return off + 2 <= len ? off + 2 : -1;
        if (l == 0)
            return off + 1;
        off += 1 + l;
    }
    return -1;
}

int main(int argc, char **argv)
{
    int connected = 0;
    const char *args[3];
    int nargs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--connected") == 0)
            connected = 1;
        else if (nargs < 3)
            args[nargs++] = argv[i];
        else
            nargs = 4;
    }
    if (nargs < 2 || nargs > 3) {
        fprintf(stderr, "usage: net_rawdns [--connected] PORT NAME [A|AAAA]\n");
        return 2;
    }
    int port = atoi(args[0]);
    name = args[1];
    type = nargs == 3 ? args[2] : "A";
    mode = connected ? "connected" : "sendto";
    unsigned qtype;
    if (strcmp(type, "A") == 0)
        qtype = 1;
    else if (strcmp(type, "AAAA") == 0)
        qtype = 28;
    else {
        fprintf(stderr, "net_rawdns: TYPE must be A or AAAA\n");
        return 2;
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "net_rawdns: bad port %s\n", args[0]);
        return 2;
    }
    id = ((unsigned)getpid() ^ (unsigned)time(NULL) * 2654435761u) & 0xffff;

    /* header: id, RD, one question */
    unsigned char q[512];
    long n = 0;
    q[n++] = (unsigned char)(id >> 8);
    q[n++] = (unsigned char)id;
    q[n++] = 0x01;
    q[n++] = 0x00;
    q[n++] = 0; q[n++] = 1;     /* QDCOUNT */
    q[n++] = 0; q[n++] = 0;     /* ANCOUNT */
    q[n++] = 0; q[n++] = 0;     /* NSCOUNT */
    q[n++] = 0; q[n++] = 0;     /* ARCOUNT */
    for (const char *p = name; *p;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 && dot) {    /* "a..b" or a leading dot */
            fprintf(stderr, "net_rawdns: empty label in %s\n", name);
            return 2;
        }
        if (l > 63 || n + 1 + (long)l + 5 > 255 + 12) {
            fprintf(stderr, "net_rawdns: name too long: %s\n", name);
            return 2;
        }
        q[n++] = (unsigned char)l;
        memcpy(q + n, p, l);
        n += (long)l;
        p += l;
        if (*p == '.')
            p++;
    }
    q[n++] = 0;
    q[n++] = (unsigned char)(qtype >> 8);
    q[n++] = (unsigned char)qtype;
    q[n++] = 0; q[n++] = 1;     /* IN */

    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((unsigned short)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return fail(strerror(errno));
    ssize_t r;
    if (connected) {
        if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0)
            return fail(strerror(errno));
        r = send(fd, q, (size_t)n, 0);
    } else {
        r = sendto(fd, q, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
    }
    if (r != n)
        return fail(r < 0 ? strerror(errno) : "short send");
    sent = r;
    struct sockaddr_in me;
    socklen_t melen = sizeof me;
    if (getsockname(fd, (struct sockaddr *)&me, &melen) == 0)
        local_port = ntohs(me.sin_port);

    unsigned char m[4096];
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 2000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return fail(strerror(errno));
        if (pr == 0)
            return fail("timeout");
        if (connected) {
            r = recv(fd, m, sizeof m, 0);
        } else {
            struct sockaddr_in from;
            socklen_t fromlen = sizeof from;
            r = recvfrom(fd, m, sizeof m, 0, (struct sockaddr *)&from, &fromlen);
            if (r >= 0 && (from.sin_port != to.sin_port || from.sin_addr.s_addr != to.sin_addr.s_addr))
                continue;       /* not from the server: keep waiting */
        }
        if (r < 0)
            return fail(strerror(errno));
        break;
    }
    recvd = r;
    close(fd);
    long len = r;
    if (len < 12)
        return fail("answer shorter than a header");
    if (((unsigned)m[0] << 8 | m[1]) != id)
        return fail("answer id differs from the query's");
    if (!(m[2] & 0x80))
        return fail("not a response");
    int rcode = m[3] & 0x0f;
    unsigned qd = (unsigned)m[4] << 8 | m[5], an = (unsigned)m[6] << 8 | m[7];
    long off = 12;
    for (unsigned i = 0; i < qd; i++) {
        off = skip_name(m, len, off);
        if (off < 0 || off + 4 > len)
            return fail("truncated question");
        off += 4;
    }
    head();
    printf("\"rcode\":%d,\"addrs\":[", rcode);
    const char *sep = "";
    for (unsigned i = 0; i < an; i++) {
        off = skip_name(m, len, off);
        if (off < 0 || off + 10 > len)
            break;
        unsigned rtype = (unsigned)m[off] << 8 | m[off + 1];
        unsigned rdlen = (unsigned)m[off + 8] << 8 | m[off + 9];
        off += 10;
        if (off + rdlen > len)
            break;
        char text[INET6_ADDRSTRLEN];
        if (rtype == qtype && ((rtype == 1 && rdlen == 4) || (rtype == 28 && rdlen == 16)) &&
            inet_ntop(rtype == 1 ? AF_INET : AF_INET6, m + off, text, sizeof text)) {
            printf("%s\"%s\"", sep, text);
            sep = ",";
        }
        off += rdlen;
    }
    printf("]}\n");
    return 0;
}
