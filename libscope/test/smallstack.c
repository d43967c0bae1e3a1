/* smallstack — creates a thread with the smallest stack POSIX allows (PTHREAD_STACK_MIN, 16 KiB
 * here), as node and others do for helper threads. glibc carves a library's static TLS out of
 * each thread's stack, so a preloaded library with large thread-local data makes this fail with
 * EINVAL; the test checks that libscope's stays small. Prints "ok" on success. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *run(void *arg)
{
    return arg;
}

int main(void)
{
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
    int rc = pthread_create(&t, &attr, run, NULL);
    if (rc != 0) {
        fprintf(stderr, "pthread_create: %s\n", strerror(rc));
        return 1;
    }
    pthread_join(t, NULL);
    puts("ok");
    return 0;
}
