/* Per-call cost of interposed functions, timed inside the process (start-up and exit excluded).
 *
 *   percall rw N         N x (read 1 byte from /dev/zero + write 1 byte to /dev/null): 2N calls
 *   percall openclose N [BATCH PAUSE_US]
 *                        N x (open /dev/null + close it): 2N calls, each one an fs.open / fs.close
 *                        event when events are on. With BATCH, the loop runs BATCH iterations at a
 *                        time and sleeps PAUSE_US between batches, outside the timing: the library's
 *                        reporting thread drains its queue meanwhile, so every call measured really
 *                        emits its event (a full queue would drop records, a much cheaper path).
 *
 * In rw mode the two descriptors are moved to 500 (/dev/zero) and 501 (/dev/null), fixed numbers
 * whatever a preloaded library opened first, so a stand-in for read and write (c/nosyscall.c, told
 * NOSYSCALL_FDS=500,501) can answer for them.
 *
 * One untimed warm-up pass of N/10 iterations first (page faults, lazy binding, the library's first
 * touch of its tables), batched the same way, then the timed loop. Prints one line of JSON:
 *   {"mode":…,"iterations":N,"batch":…,"pause_us":…,"calls":2N,"wall_ns":…,"cpu_ns":…,
 *    "wall_ns_per_call":…,"cpu_ns_per_call":…}
 * wall_ns is CLOCK_MONOTONIC around the loop (summed over its batches); cpu_ns is
 * CLOCK_THREAD_CPUTIME_ID of this (the app's) thread around the same, which leaves out time the CPU
 * gave other threads, the library's reporting thread included. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t clk)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int rw(int in, int out, long n)
{
    char c = 0;
    for (long i = 0; i < n; i++)
        if (read(in, &c, 1) != 1 || write(out, &c, 1) != 1)
            return -1;
    return 0;
}

static int openclose(long n)
{
    for (long i = 0; i < n; i++) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd < 0 || close(fd) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "rw") && strcmp(argv[1], "openclose"))) {
        fprintf(stderr, "usage: percall rw N | percall openclose N [BATCH PAUSE_US]\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    if (n <= 0)
        n = 1;
    int is_rw = !strcmp(mode, "rw");
    int in = -1, out = -1;
    if (is_rw) {
        in = open("/dev/zero", O_RDONLY);
        out = open("/dev/null", O_WRONLY);
        if (in < 0 || out < 0 || dup2(in, 500) != 500 || dup2(out, 501) != 501) {
            perror("percall: open");
            return 1;
        }
        close(in);
        close(out);
        in = 500;
        out = 501;
    }
    long batch = argc > 3 ? atol(argv[3]) : n;
    long pause_us = argc > 4 ? atol(argv[4]) : 0;
    if (batch <= 0 || is_rw)
        batch = n;
    long long wall = 0, cpu = 0;
    /* pass 0: warm-up, n/10 iterations, untimed; pass 1: the measured n */
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        long total = pass == 0 ? (n / 10 > 0 ? n / 10 : 1) : n;
        for (long done = 0; done < total && rc == 0; done += batch) {
            long k = total - done < batch ? total - done : batch;
            if (pause_us > 0)
                usleep((useconds_t)pause_us);
            long long w0 = ns(CLOCK_MONOTONIC), c0 = ns(CLOCK_THREAD_CPUTIME_ID);
            rc = is_rw ? rw(in, out, k) : openclose(k);
            long long c1 = ns(CLOCK_THREAD_CPUTIME_ID), w1 = ns(CLOCK_MONOTONIC);
            if (pass == 1) {
                wall += w1 - w0;
                cpu += c1 - c0;
            }
        }
    }
    if (rc != 0) {
        perror("percall");
        return 1;
    }
    if (is_rw) {
        close(in);
        close(out);
    }
    long long calls = 2LL * n;
    printf("{\"mode\":\"%s\",\"iterations\":%ld,\"batch\":%ld,\"pause_us\":%ld,\"calls\":%lld,"
           "\"wall_ns\":%lld,\"cpu_ns\":%lld,\"wall_ns_per_call\":%.3f,\"cpu_ns_per_call\":%.3f}\n",
           mode, n, batch, pause_us, calls, wall, cpu, (double)wall / calls, (double)cpu / calls);
    return 0;
}
