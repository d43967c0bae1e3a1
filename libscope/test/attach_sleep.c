/* attach_sleep: prints "tick <n>" every 100 ms, sleeping in nanosleep(2), for the injection tests
 * (inject.test.ts). A nanosleep that fails with EINTR prints "nanosleep: EINTR" and sleeps the rest:
 * with no handler installed the kernel restarts it, and an injection must not change that. Also
 * built static by the tests. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <time.h>

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (unsigned long n = 1;; n++) {
        printf("tick %lu\n", n);
        struct timespec req = {0, 100 * 1000 * 1000}, rem;
        while (nanosleep(&req, &rem) != 0) {
            if (errno != EINTR)
                return 1;
            printf("nanosleep: EINTR\n");
            req = rem;
        }
    }
}
