/* attach_threads: 8 threads each incrementing their own counter as fast as they can, and the main
 * thread printing "total <sum>" every 100 ms while it waits in pthread_cond_timedwait (a futex
 * wait), for the injection tests (inject.test.ts): 9 threads in all. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define NTHREADS 8

static struct {
    _Atomic unsigned long n;
    char pad[56];
} counters[NTHREADS];

static void *spin(void *arg)
{
    _Atomic unsigned long *c = arg;
    for (;;)
        atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, spin, &counters[i].n) != 0)
            return 1;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t cv;
    pthread_cond_init(&cv, &ca);
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    pthread_mutex_lock(&mu);
    for (;;) {
        at.tv_nsec += 100 * 1000 * 1000;
        if (at.tv_nsec >= 1000000000L) {
            at.tv_nsec -= 1000000000L;
            at.tv_sec++;
        }
        while (pthread_cond_timedwait(&cv, &mu, &at) == 0)
            ;   /* nobody signals it: only the timeout ends the wait */
        unsigned long sum = 0;
        for (int i = 0; i < NTHREADS; i++)
            sum += atomic_load_explicit(&counters[i].n, memory_order_relaxed);
        printf("total %lu\n", sum);
    }
}
