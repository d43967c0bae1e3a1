/* net_calls: every socket call the network tests expect libscope to see, on loopback, so a test can
 * compare what libscope counts per socket and per function with what the application did.
 * A client (main thread) and a server (a second thread) run 8 lock-step rounds: the client sends
 * REQ(i) = 50+10*i bytes with send function i, the server receives them with receive function i and
 * replies REP(i) = 1000+100*i bytes with send function i, which the client receives with receive
 * function i (totals: client sent 680, received 10800). Every byte is checked.
 *   stream rounds (tcp4, tcp6, unix): send/recv, sendto/recvfrom, sendmsg/recvmsg,
 *     sendmmsg/recvmmsg, write/__recv_chk, writev/__recvfrom_chk, sendfile/read, splice/readv
 *     (sendfile from an unlinked temp file, splice from a pipe). tcp4 uses accept() and a plain
 *     close(); tcp6 and unix use accept4(SOCK_CLOEXEC) and shutdown(SHUT_WR) before close(). The
 *     client always closes first; the server then sees read() == 0 and closes.
 *   datagram rounds (udp4, udp6, unixdgram): sendto/recvfrom, sendmsg/recvmsg, sendmmsg/recvmmsg
 *     (2 datagrams of half the size), sendto/__recvfrom_chk, then send/recv, write/read,
 *     writev/readv, send/__recv_chk. udp: both sockets unconnected (addresses given) for rounds
 *     0-3, then both connect(). unixdgram: a socketpair(AF_UNIX, SOCK_DGRAM). Client closes first.
 *   peek: tcp4; the client send()s 64 bytes, the server recv(MSG_PEEK)s them, then recv()s the same
 *     64 bytes and replies 32 with send(); "peeked" is the number of bytes the peek returned.
 * usage: net_calls tcp4|tcp6|udp4|udp6|unix|unixdgram|peek|all
 * Prints one JSON line per mode ("all" runs the 7 modes in that order, one line each):
 *   {"mode":M,"client":SIDE,"server":SIDE}, SIDE = {"sent":N,"recv":N,"local_port":P,
 *   "peer_port":P,"fd":N,"inode":N,"ops":{"send":N,…}} (ports null for unix modes; the server of
 *   peek also has "peeked"; unix also has "path"). ops: bytes moved per function. Exit 0 when all
 *   went as expected; 1 (with a message on stderr) otherwise. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);

enum op {
    OP_SEND, OP_SENDTO, OP_SENDMSG, OP_SENDMMSG, OP_WRITE, OP_WRITEV, OP_SENDFILE, OP_SPLICE,
    OP_RECV, OP_RECVFROM, OP_RECVMSG, OP_RECVMMSG, OP_RECV_CHK, OP_RECVFROM_CHK, OP_READ, OP_READV,
    NOPS
};
static const char *const opname[NOPS] = {
    "send", "sendto", "sendmsg", "sendmmsg", "write", "writev", "sendfile", "splice",
    "recv", "recvfrom", "recvmsg", "recvmmsg", "__recv_chk", "__recvfrom_chk", "read", "readv",
};

struct round { enum op snd, rcv; };
static const struct round stream_rounds[8] = {
    {OP_SEND, OP_RECV}, {OP_SENDTO, OP_RECVFROM}, {OP_SENDMSG, OP_RECVMSG},
    {OP_SENDMMSG, OP_RECVMMSG}, {OP_WRITE, OP_RECV_CHK}, {OP_WRITEV, OP_RECVFROM_CHK},
    {OP_SENDFILE, OP_READ}, {OP_SPLICE, OP_READV},
};
static const struct round dgram_rounds[8] = {
    {OP_SENDTO, OP_RECVFROM}, {OP_SENDMSG, OP_RECVMSG}, {OP_SENDMMSG, OP_RECVMMSG},
    {OP_SENDTO, OP_RECVFROM_CHK}, {OP_SEND, OP_RECV}, {OP_WRITE, OP_READ},
    {OP_WRITEV, OP_READV}, {OP_SEND, OP_RECV_CHK},
};
#define ROUNDS 8
#define CONNECT_AT 4            /* udp: both sides connect() before this round */
#define REQ(i) ((size_t)(50 + 10 * (i)))
#define REP(i) ((size_t)(1000 + 100 * (i)))
#define BUFSZ 65536

struct side {
    int fd;
    int dgram;
    struct sockaddr_storage to;     /* destination for sendto/sendmsg/sendmmsg; tolen 0: none */
    socklen_t tolen;
    struct sockaddr_storage from;   /* source of the last recvfrom-family datagram */
    socklen_t fromlen;
    long sent, recvd, peeked;
    long ops[NOPS];
    int local_port, peer_port;
    unsigned long inode;
    int fdnum;
    char *buf;
};

struct mode {
    const char *name;
    int family, type;           /* type SOCK_STREAM / SOCK_DGRAM */
    int pair;                   /* socketpair */
    int use_accept4, use_shutdown, peek;
};
static const struct mode modes[] = {
    {"tcp4", AF_INET, SOCK_STREAM, 0, 0, 0, 0},
    {"tcp6", AF_INET6, SOCK_STREAM, 0, 1, 1, 0},
    {"udp4", AF_INET, SOCK_DGRAM, 0, 0, 0, 0},
    {"udp6", AF_INET6, SOCK_DGRAM, 0, 0, 0, 0},
    {"unix", AF_UNIX, SOCK_STREAM, 0, 1, 1, 0},
    {"unixdgram", AF_UNIX, SOCK_DGRAM, 1, 0, 0, 0},
    {"peek", AF_INET, SOCK_STREAM, 0, 0, 0, 1},
};

static void die(const char *what)
{
    fprintf(stderr, "net_calls: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fill(char *buf, size_t n, unsigned seed)
{
    for (size_t j = 0; j < n; j++)
        buf[j] = (char)('a' + (seed + j) % 26);
}

static void check(const char *buf, size_t n, unsigned seed, const char *what)
{
    for (size_t j = 0; j < n; j++)
        if (buf[j] != (char)('a' + (seed + j) % 26)) {
            fprintf(stderr, "net_calls: %s: byte %zu of %zu differs\n", what, j, n);
            exit(1);
        }
}

static const char *tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static struct sockaddr *to_addr(struct side *s) { return s->tolen ? (struct sockaddr *)&s->to : NULL; }

/* Sends n bytes of buf with op; a stream loops until all are sent, a datagram is one call (two
 * datagrams of half the size for sendmmsg). */
static void xsend(struct side *s, enum op op, const char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        const char *p = buf + done;
        size_t left = n - done;
        ssize_t r;
        switch (op) {
        case OP_SEND:
            r = send(s->fd, p, left, MSG_NOSIGNAL);
            break;
        case OP_SENDTO:
            r = sendto(s->fd, p, left, MSG_NOSIGNAL, to_addr(s), s->tolen);
            break;
        case OP_SENDMSG: {
            struct iovec iov[2] = {{(void *)p, left / 2}, {(void *)(p + left / 2), left - left / 2}};
            struct msghdr m = {.msg_name = to_addr(s), .msg_namelen = s->tolen, .msg_iov = iov, .msg_iovlen = 2};
            r = sendmsg(s->fd, &m, MSG_NOSIGNAL);
            break;
        }
        case OP_SENDMMSG: {
            struct iovec iov[2] = {{(void *)p, left / 2}, {(void *)(p + left / 2), left - left / 2}};
            struct mmsghdr mm[2];
            memset(mm, 0, sizeof mm);
            for (int k = 0; k < 2; k++) {
                mm[k].msg_hdr.msg_name = to_addr(s);
                mm[k].msg_hdr.msg_namelen = s->tolen;
                mm[k].msg_hdr.msg_iov = &iov[k];
                mm[k].msg_hdr.msg_iovlen = 1;
            }
            int c = sendmmsg(s->fd, mm, 2, MSG_NOSIGNAL);
            if (c < 0)
                die("sendmmsg");
            if (s->dgram && c != 2) {
                fprintf(stderr, "net_calls: sendmmsg sent %d of 2 datagrams\n", c);
                exit(1);
            }
            r = 0;
            for (int k = 0; k < c; k++)   /* a stream may stop short: the loop sends the rest */
                r += mm[k].msg_len;
            break;
        }
        case OP_WRITE:
            r = write(s->fd, p, left);
            break;
        case OP_WRITEV: {
            struct iovec iov[2] = {{(void *)p, left / 2}, {(void *)(p + left / 2), left - left / 2}};
            r = writev(s->fd, iov, 2);
            break;
        }
        case OP_SENDFILE: {
            char path[4096];
            snprintf(path, sizeof path, "%s/net_calls.XXXXXX", tmpdir());
            int f = mkstemp(path);
            if (f < 0)
                die("mkstemp");
            unlink(path);
            if (write(f, p, left) != (ssize_t)left)
                die("write temp file");
            off_t off = 0;
            r = 0;
            while ((size_t)r < left) {
                ssize_t k = sendfile(s->fd, f, &off, left - (size_t)r);
                if (k <= 0)
                    die("sendfile");
                r += k;
            }
            close(f);
            s->ops[op] += r;
            s->sent += r;
            return;
        }
        case OP_SPLICE: {
            int pp[2];
            if (pipe(pp) != 0)
                die("pipe");
            if (write(pp[1], p, left) != (ssize_t)left)
                die("write pipe");
            r = 0;
            while ((size_t)r < left) {
                ssize_t k = splice(pp[0], NULL, s->fd, NULL, left - (size_t)r, 0);
                if (k <= 0)
                    die("splice");
                r += k;
            }
            close(pp[0]);
            close(pp[1]);
            s->ops[op] += r;
            s->sent += r;
            return;
        }
        default:
            fprintf(stderr, "net_calls: %s is not a send function\n", opname[op]);
            exit(1);
        }
        if (r < 0)
            die(opname[op]);
        if (s->dgram && (size_t)r != left) {
            fprintf(stderr, "net_calls: %s sent %zd of %zu\n", opname[op], r, left);
            exit(1);
        }
        s->ops[op] += r;
        s->sent += r;
        done += (size_t)r;
    }
}

/* Receives exactly n bytes into s->buf with op: a stream loops, a datagram is one call (sendmmsg's
 * two halves for recvmmsg). The buffer is larger than n so a datagram too long is noticed. */
static void xrecv(struct side *s, enum op op, size_t n)
{
    size_t done = 0;
    while (done < n) {
        char *p = s->buf + done;
        size_t room = BUFSZ - done, want = s->dgram ? room : n - done;
        ssize_t r;
        s->fromlen = sizeof s->from;
        switch (op) {
        case OP_RECV:
            r = recv(s->fd, p, want, 0);
            break;
        case OP_RECVFROM:
            r = recvfrom(s->fd, p, want, 0, (struct sockaddr *)&s->from, &s->fromlen);
            break;
        case OP_RECVMSG: {
            size_t half = (n - done) / 2;
            struct iovec iov[2] = {{p, half}, {p + half, want - half}};
            struct msghdr m = {.msg_name = &s->from, .msg_namelen = s->fromlen, .msg_iov = iov, .msg_iovlen = 2};
            r = recvmsg(s->fd, &m, 0);
            s->fromlen = m.msg_namelen;
            break;
        }
        case OP_RECVMMSG: {
            if (s->dgram) {     /* two datagrams, each into its own place */
                size_t half = n / 2;
                struct iovec iov[2] = {{p, half + 1}, {p + half, BUFSZ - half}};
                struct mmsghdr mm[2];
                memset(mm, 0, sizeof mm);
                for (int k = 0; k < 2; k++) {
                    mm[k].msg_hdr.msg_name = &s->from;
                    mm[k].msg_hdr.msg_namelen = sizeof s->from;
                    mm[k].msg_hdr.msg_iov = &iov[k];
                    mm[k].msg_hdr.msg_iovlen = 1;
                }
                int c = recvmmsg(s->fd, mm, 2, 0, NULL);
                if (c < 0)
                    die("recvmmsg");
                if (c != 2 || mm[0].msg_len != half || mm[1].msg_len != n - half) {
                    fprintf(stderr, "net_calls: recvmmsg got %d datagrams\n", c);
                    exit(1);
                }
                s->fromlen = mm[1].msg_hdr.msg_namelen;
                r = (ssize_t)n;
            } else {
                struct iovec iov = {p, want};
                struct mmsghdr mm;
                memset(&mm, 0, sizeof mm);
                mm.msg_hdr.msg_iov = &iov;
                mm.msg_hdr.msg_iovlen = 1;
                int c = recvmmsg(s->fd, &mm, 1, 0, NULL);
                if (c < 0)
                    die("recvmmsg");
                r = c == 1 ? (ssize_t)mm.msg_len : 0;
            }
            break;
        }
        case OP_RECV_CHK:
            r = __recv_chk(s->fd, p, want, room, 0);
            break;
        case OP_RECVFROM_CHK:
            r = __recvfrom_chk(s->fd, p, want, room, 0, (struct sockaddr *)&s->from, &s->fromlen);
            break;
        case OP_READ:
            r = read(s->fd, p, want);
            break;
        case OP_READV: {
            size_t half = (n - done) / 2;
            struct iovec iov[2] = {{p, half}, {p + half, want - half}};
            r = readv(s->fd, iov, 2);
            break;
        }
        default:
            fprintf(stderr, "net_calls: %s is not a receive function\n", opname[op]);
            exit(1);
        }
        if (r < 0)
            die(opname[op]);
        if (r == 0) {
            fprintf(stderr, "net_calls: %s: unexpected end of stream after %zu of %zu\n", opname[op], done, n);
            exit(1);
        }
        if (s->dgram && (size_t)r != n) {
            fprintf(stderr, "net_calls: %s received %zd, expected %zu\n", opname[op], r, n);
            exit(1);
        }
        s->ops[op] += r;
        s->recvd += r;
        done += (size_t)r;
    }
}

static int port_of(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)a)->sin_port);
    if (a->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    return -1;
}

static void note_ports(struct side *s)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    struct stat st;
    if (getsockname(s->fd, (struct sockaddr *)&a, &len) == 0)
        s->local_port = port_of(&a);
    len = sizeof a;
    if (getpeername(s->fd, (struct sockaddr *)&a, &len) == 0)
        s->peer_port = port_of(&a);
    if (fstat(s->fd, &st) == 0)
        s->inode = (unsigned long)st.st_ino;
    s->fdnum = s->fd;
}

/* shared by the two threads of one mode run */
struct run {
    const struct mode *m;
    int lfd;                    /* listening (stream) or bound (dgram) server socket */
    struct side cli, srv;
    struct sockaddr_storage srv_addr;
    socklen_t srv_addrlen;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int client_closed;
};

static void *server(void *arg)
{
    struct run *R = arg;
    struct side *s = &R->srv;
    const struct mode *m = R->m;
    if (m->pair || m->type == SOCK_DGRAM) {
        if (!m->pair)
            s->fd = R->lfd;
    } else {
        s->fd = m->use_accept4 ? accept4(R->lfd, NULL, NULL, SOCK_CLOEXEC) : accept(R->lfd, NULL, NULL);
        if (s->fd < 0)
            die(m->use_accept4 ? "accept4" : "accept");
        close(R->lfd);
    }
    char out[BUFSZ];
    if (m->peek) {
        char peekbuf[64];
        ssize_t r;
        do {                    /* a peek returns what has arrived; wait for all 64 bytes */
            r = recv(s->fd, peekbuf, sizeof peekbuf, MSG_PEEK);
            if (r <= 0)
                die("recv MSG_PEEK");
        } while (r < (ssize_t)sizeof peekbuf);
        s->peeked += r;
        check(peekbuf, 64, 7, "peeked bytes");
        xrecv(s, OP_RECV, 64);
        if (memcmp(peekbuf, s->buf, 64) != 0) {
            fprintf(stderr, "net_calls: recv did not return the peeked bytes\n");
            exit(1);
        }
        fill(out, 32, 11);
        xsend(s, OP_SEND, out, 32);
    } else {
        const struct round *rounds = m->type == SOCK_DGRAM ? dgram_rounds : stream_rounds;
        for (int i = 0; i < ROUNDS; i++) {
            if (m->type == SOCK_DGRAM && !m->pair && i == CONNECT_AT) {
                if (connect(s->fd, (struct sockaddr *)&s->to, s->tolen) != 0)
                    die("server connect");
                s->tolen = 0;
            }
            xrecv(s, rounds[i].rcv, REQ(i));
            check(s->buf, REQ(i), (unsigned)i, "request");
            if (m->type == SOCK_DGRAM && !m->pair && i < CONNECT_AT) {
                if (s->fromlen == 0)
                    die("no source address");
                memcpy(&s->to, &s->from, sizeof s->to);
                s->tolen = s->fromlen;
            }
            fill(out, REP(i), (unsigned)(100 + i));
            xsend(s, rounds[i].snd, out, REP(i));
        }
    }
    note_ports(s);
    if (m->type == SOCK_STREAM) {
        char c;
        ssize_t r = read(s->fd, &c, 1);   /* the client closes first */
        if (r != 0) {
            fprintf(stderr, "net_calls: server read %zd after the last round, expected 0\n", r);
            exit(1);
        }
    } else {
        pthread_mutex_lock(&R->mu);
        while (!R->client_closed)
            pthread_cond_wait(&R->cv, &R->mu);
        pthread_mutex_unlock(&R->mu);
    }
    close(s->fd);
    return NULL;
}

static void print_side(const char *key, const struct side *s, const struct mode *m, const char *path)
{
    printf("\"%s\":{\"sent\":%ld,\"recv\":%ld,", key, s->sent, s->recvd);
    if (m->family == AF_UNIX)
        printf("\"local_port\":null,\"peer_port\":null,");
    else
        printf("\"local_port\":%d,\"peer_port\":%d,", s->local_port, s->peer_port);
    printf("\"fd\":%d,\"inode\":%lu,", s->fdnum, s->inode);
    if (m->peek && s->peeked)
        printf("\"peeked\":%ld,", s->peeked);
    if (path)
        printf("\"path\":\"%s\",", path);
    printf("\"ops\":{");
    const char *sep = "";
    for (int k = 0; k < NOPS; k++)
        if (s->ops[k]) {
            printf("%s\"%s\":%ld", sep, opname[k], s->ops[k]);
            sep = ",";
        }
    printf("}}");
}

static void run_mode(const struct mode *m)
{
    struct run R;
    memset(&R, 0, sizeof R);
    R.m = m;
    R.cli.fd = R.srv.fd = R.lfd = -1;
    R.cli.dgram = R.srv.dgram = m->type == SOCK_DGRAM;
    R.cli.buf = malloc(BUFSZ);
    R.srv.buf = malloc(BUFSZ);
    if (!R.cli.buf || !R.srv.buf)
        die("malloc");
    pthread_mutex_init(&R.mu, NULL);
    pthread_cond_init(&R.cv, NULL);
    char dir[4096] = "", path[4200] = "";

    /* the server's socket, bound before the thread starts so the client knows where it is */
    if (m->pair) {
        int sv[2];
        if (socketpair(AF_UNIX, m->type, 0, sv) != 0)
            die("socketpair");
        R.cli.fd = sv[0];
        R.srv.fd = sv[1];
    } else {
        R.lfd = socket(m->family, m->type, 0);
        if (R.lfd < 0)
            die("socket");
        struct sockaddr_storage a;
        memset(&a, 0, sizeof a);
        socklen_t len;
        if (m->family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&a;
            in->sin_family = AF_INET;
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof *in;
        } else if (m->family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
            in6->sin6_family = AF_INET6;
            in6->sin6_addr = in6addr_loopback;
            len = sizeof *in6;
        } else {
            struct sockaddr_un *un = (struct sockaddr_un *)&a;
            snprintf(dir, sizeof dir, "%s/net_calls.XXXXXX", tmpdir());
            if (!mkdtemp(dir))
                die("mkdtemp");
            snprintf(path, sizeof path, "%s/sock", dir);
            if (strlen(path) >= sizeof un->sun_path) {
                fprintf(stderr, "net_calls: socket path too long: %s\n", path);
                exit(1);
            }
            un->sun_family = AF_UNIX;
            strcpy(un->sun_path, path);
            len = sizeof *un;
        }
        if (bind(R.lfd, (struct sockaddr *)&a, len) != 0)
            die("bind");
        if (m->type == SOCK_STREAM && listen(R.lfd, 4) != 0)
            die("listen");
        R.srv_addrlen = sizeof R.srv_addr;
        if (getsockname(R.lfd, (struct sockaddr *)&R.srv_addr, &R.srv_addrlen) != 0)
            die("getsockname");
        R.cli.fd = socket(m->family, m->type, 0);
        if (R.cli.fd < 0)
            die("socket");
    }

    pthread_t t;
    if (pthread_create(&t, NULL, server, &R) != 0)
        die("pthread_create");

    struct side *c = &R.cli;
    char out[BUFSZ];
    if (m->type == SOCK_STREAM && !m->pair) {
        if (connect(c->fd, (struct sockaddr *)&R.srv_addr, R.srv_addrlen) != 0)
            die("connect");
    }
    if (m->peek) {
        fill(out, 64, 7);
        xsend(c, OP_SEND, out, 64);
        xrecv(c, OP_RECV, 32);
        check(c->buf, 32, 11, "peek reply");
    } else {
        const struct round *rounds = m->type == SOCK_DGRAM ? dgram_rounds : stream_rounds;
        if (m->type == SOCK_DGRAM && !m->pair) {
            memcpy(&c->to, &R.srv_addr, sizeof c->to);
            c->tolen = R.srv_addrlen;
        }
        for (int i = 0; i < ROUNDS; i++) {
            if (m->type == SOCK_DGRAM && !m->pair && i == CONNECT_AT) {
                if (connect(c->fd, (struct sockaddr *)&R.srv_addr, R.srv_addrlen) != 0)
                    die("connect");
                c->tolen = 0;
            }
            fill(out, REQ(i), (unsigned)i);
            xsend(c, rounds[i].snd, out, REQ(i));
            xrecv(c, rounds[i].rcv, REP(i));
            check(c->buf, REP(i), (unsigned)(100 + i), "reply");
        }
    }
    note_ports(c);
    if (m->use_shutdown && shutdown(c->fd, SHUT_WR) != 0)
        die("shutdown");
    if (close(c->fd) != 0)
        die("close");
    pthread_mutex_lock(&R.mu);
    R.client_closed = 1;
    pthread_cond_signal(&R.cv);
    pthread_mutex_unlock(&R.mu);
    if (pthread_join(t, NULL) != 0)
        die("pthread_join");
    if (path[0]) {
        unlink(path);
        rmdir(dir);
    }

    printf("{\"mode\":\"%s\",", m->name);
    print_side("client", &R.cli, m, path[0] ? path : NULL);
    printf(",");
    print_side("server", &R.srv, m, path[0] ? path : NULL);
    printf("}\n");
    fflush(stdout);
    free(R.cli.buf);
    free(R.srv.buf);
    pthread_mutex_destroy(&R.mu);
    pthread_cond_destroy(&R.cv);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: net_calls tcp4|tcp6|udp4|udp6|unix|unixdgram|peek|all\n");
        return 2;
    }
    alarm(20);                  /* a hang is a failure, not a stuck test */
    int all = strcmp(argv[1], "all") == 0, found = 0;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++)
        if (all || strcmp(argv[1], modes[k].name) == 0) {
            run_mode(&modes[k]);
            found = 1;
        }
    if (!found) {
        fprintf(stderr, "net_calls: unknown mode %s\n", argv[1]);
        return 2;
    }
    return 0;
}
