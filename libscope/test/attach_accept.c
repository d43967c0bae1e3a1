/* attach_accept: a server blocked in accept(2), for the injection tests (inject.test.ts). Listens
 * on 127.0.0.1:PORT, prints "ready", then answers the n-th connection with "hello <n>" and closes
 * it. An accept that fails with EINTR prints "accept: EINTR" (an injection must restart it).
 * usage: attach_accept PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: attach_accept PORT\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 16) != 0) {
        perror("attach_accept: listen");
        return 1;
    }
    printf("ready\n");
    for (int n = 1;; n++) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                printf("accept: EINTR\n");
            else
                perror("accept");
            n--;
            continue;
        }
        dprintf(c, "hello %d\n", n);
        close(c);
    }
}
