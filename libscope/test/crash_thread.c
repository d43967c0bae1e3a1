/* crash_thread: 8 threads; the fifth dereferences null in crash_thread_worker_here while the
 * others wait. */
#include <pthread.h>
#include <unistd.h>

static volatile int *volatile nowhere;

__attribute__((noinline)) int crash_thread_worker_here(void)
{
    return *nowhere;
}

static void *worker(void *arg)
{
    if ((long)arg == 4) {
        usleep(100 * 1000);
        return (void *)(long)crash_thread_worker_here();
    }
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    return 0;
}
