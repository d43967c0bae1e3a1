/* The watched and unwatched system calls of the `supervise` part, built static (no libc to
 * interpose: what a supervisor has to see from outside).
 *
 *   sysloop N FILE
 *
 * N opens and closes of FILE (each a watched call), then N getppid (never watched). Prints one line
 * of JSON: {"n":…,"pair_us":…,"getppid_us":…}, microseconds a pair and a call. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[1]) < 1) {
        fprintf(stderr, "usage: sysloop N FILE\n");
        return 2;
    }
    long n = atol(argv[1]);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0 || close(fd) != 0) {
            perror("sysloop: open/close");
            return 1;
        }
    }
    double t1 = now();
    for (long i = 0; i < n; i++)
        getppid();
    double t2 = now();
    printf("{\"n\":%ld,\"pair_us\":%.3f,\"getppid_us\":%.4f}\n", n, (t1 - t0) / (double)n * 1e6,
           (t2 - t1) / (double)n * 1e6);
    return 0;
}
