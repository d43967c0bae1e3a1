/* static_loop FILE — a static executable that runs until SIGTERM (then exits 0): three threads each
 * open and close FILE every 20 ms, and the main thread says "tick N" every 100 ms. For scope
 * attach to a running static program (followed from outside: libscope/supervise/). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *file;
static volatile sig_atomic_t done;

static void on_term(int sig)
{
    (void)sig;
    done = 1;
}

static void nap(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && !done)
        ;
}

static void *opener(void *arg)
{
    (void)arg;
    while (!done) {
        int fd = open(file, O_RDONLY);
        if (fd >= 0)
            close(fd);
        nap(20);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    file = argv[1];
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, opener, NULL);
    for (int n = 0; !done; n++) {
        printf("tick %d\n", n);
        fflush(stdout);
        nap(100);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    return 0;
}
