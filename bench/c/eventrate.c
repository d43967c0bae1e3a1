/* Event-emitting calls at a target rate, for the events-per-second budget.
 *
 *   eventrate TARGET SECONDS FILE
 *
 * For SECONDS, opens FILE (which must exist) read-only and closes it again: two calls a time, each an
 * fs.open or an fs.close event when libscope's fs events are on. Paced to TARGET calls per second by
 * CLOCK_MONOTONIC, in batches of about a millisecond's worth: after each batch the loop sleeps until
 * the time at which the calls made so far were due (clock_nanosleep, absolute). A loop that falls
 * behind never sleeps and so runs flat out; `late_batches` counts the batches that ended more than a
 * batch behind the schedule, i.e. whether the program itself kept up with TARGET.
 *
 * Prints one line of JSON:
 *   {"target":…,"seconds":…,"batch":…,"iterations":…,"calls":…,"elapsed_s":…,"calls_per_s":…,"late_batches":…}
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: eventrate TARGET_CALLS_PER_S SECONDS FILE\n");
        return 2;
    }
    double target = atof(argv[1]);
    double seconds = atof(argv[2]);
    const char *path = argv[3];
    if (target < 2 || seconds <= 0) {
        fprintf(stderr, "eventrate: TARGET must be at least 2 and SECONDS positive\n");
        return 2;
    }
    /* a millisecond's worth of iterations (two calls each), at least one */
    long batch = (long)(target / 2 / 1000);
    if (batch < 1)
        batch = 1;
    double ns_per_iter = 2e9 / target;
    long long t0 = now_ns(), end = t0 + (long long)(seconds * 1e9);
    long iterations = 0, late = 0;
    long long t;
    while ((t = now_ns()) < end) {
        for (long i = 0; i < batch; i++) {
            int fd = open(path, O_RDONLY);
            if (fd < 0 || close(fd) != 0) {
                perror("eventrate: open/close");
                return 1;
            }
        }
        iterations += batch;
        long long due = t0 + (long long)(iterations * ns_per_iter);
        long long after = now_ns();
        if (due > after) {
            struct timespec ts = {(time_t)(due / 1000000000LL), (long)(due % 1000000000LL)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        } else if (after - due > (long long)(batch * ns_per_iter)) {
            late++;
        }
    }
    double elapsed = (double)(now_ns() - t0) / 1e9;
    long long calls = 2LL * iterations;
    printf("{\"target\":%.0f,\"seconds\":%.3f,\"batch\":%ld,\"iterations\":%ld,\"calls\":%lld,"
           "\"elapsed_s\":%.6f,\"calls_per_s\":%.1f,\"late_batches\":%ld}\n",
           target, seconds, batch, iterations, calls, elapsed, (double)calls / elapsed, late);
    return 0;
}
