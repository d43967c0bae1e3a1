/* attach_leaderless: a process whose main thread has exited (pthread_exit) while another thread
 * goes on printing "work <n>" every 100 ms, for the injection tests (inject.test.ts): the main
 * thread is a zombie, so an injection has to use the live one. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static void *work(void *arg)
{
    (void)arg;
    for (unsigned long n = 1;; n++) {
        printf("work %lu\n", n);
        struct timespec t = {0, 100 * 1000 * 1000};
        while (nanosleep(&t, &t) != 0)
            ;
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, work, NULL) != 0)
        return 1;
    pthread_exit(NULL);
}
