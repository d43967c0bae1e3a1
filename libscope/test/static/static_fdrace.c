/* static_fdrace PORT ROUNDS — two threads, each ROUNDS times: a TCP socket, a connect to
 * 127.0.0.1:PORT, a close. One thread's close frees a number the other's next socket takes at
 * once, often before the close's own return is seen by a tracer: the supervisor must still end
 * the old socket before the new one begins (supervise.test.ts counts the connections recorded).
 * Prints "connected N" (both threads' successful connects). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int port, rounds;

static void *run(void *arg)
{
    long ok = 0;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < rounds; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0)
            continue;
        if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0)
            ok++;
        close(s);
    }
    *(long *)arg = ok;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    port = atoi(argv[1]);
    rounds = atoi(argv[2]);
    long a = 0, b = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, run, &a) != 0)
        return 1;
    run(&b);
    pthread_join(t, NULL);
    printf("connected %ld\n", a + b);
    return 0;
}
