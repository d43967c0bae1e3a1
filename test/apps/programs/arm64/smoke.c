/* smoke — what apps/arm64.test.ts runs, built for aarch64 and for this machine, under libscope: reads
 * FILE (open, read, close), writes "read N" to stdout, and connects to 127.0.0.1:PORT, where nothing
 * listens (a refused connect).
 * usage: smoke FILE PORT */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: smoke FILE PORT\n");
        return 2;
    }
    char buf[256];
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    printf("read %zd\n", n);
    fflush(stdout);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
        return 1;   /* something listens there: the test picked a port that should be closed */
    close(s);
    return 0;
}
