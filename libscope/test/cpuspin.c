/* cpuspin MS [PROGRAM ARGS…]: spins on one thread until the process has used MS milliseconds of
 * CPU, then exits, or execs PROGRAM (the new image keeps the pid and the CPU time counted). Prints
 * "spun_us=N": the process's CPU time from main's start to the end of the spin (what came before
 * main, the loader's and the preloaded libraries' start, is not in it). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long ms = argc > 1 ? atol(argv[1]) : 200;
    struct timespec t;
    volatile unsigned long x = 0;
    struct timespec t0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    do {
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while (t.tv_sec * 1000L + t.tv_nsec / 1000000L < ms);
    printf("spun_us=%lld\n", ((long long)(t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec)) / 1000);
    fflush(stdout);
    if (argc > 2) {
        execvp(argv[2], argv + 2);
        return 127;
    }
    return 0;
}
