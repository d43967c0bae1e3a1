/* stamps — the times records carry, against the wall clock, and a program that makes rdtsc fault.
 *
 *   stamps times FILE N GAP_MS   N rounds: the wall clock, open and close FILE, the wall clock,
 *                                then GAP_MS of sleep; one line {"before":ns,"after":ns} a round
 *   stamps tscoff HOW FILE       open and close FILE, make rdtsc fault (PR_SET_TSC, PR_TSC_SIGSEGV)
 *                                HOW: prctl (this thread, by prctl()), syscall (this thread, by
 *                                syscall(SYS_prctl)) or thread (a second thread, by prctl(), which
 *                                then opens FILE itself); then open and close FILE again and print
 *                                {"before":ns,"after":ns} around that; a fault kills the program
 *                                (SIGSEGV), so exit 0 means libscope stopped reading the counter
 *   stamps tscoff thread FILE reenable   the same, the thread letting rdtsc run again before it
 *                                ends: the ASan runtime's allocator reads the vDSO clock as a thread
 *                                ends, which would fault (the sanitized test run; not libscope's)
 *
 * The time is CLOCK_REALTIME, in ns, read by the system call itself: the vDSO's clock_gettime reads
 * the counter in user space, so once rdtsc faults it would kill this program on a machine that
 * honours PR_SET_TSC (libc's own clock_gettime is what any such program has to give up). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void round_trip(const char *file)
{
    long long before = now_ns();
    int fd = open(file, O_RDONLY);
    if (fd >= 0)
        close(fd);
    long long after = now_ns();
    printf("{\"before\":%lld,\"after\":%lld}\n", before, after);
    fflush(stdout);
}

static const char *thread_file;
static int thread_reenable;
static void *in_thread(void *arg)
{
    (void)arg;
    if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0)
        return (void *)1;
    round_trip(thread_file);
    if (thread_reenable && prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0) != 0)
        return (void *)1;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "times")) {
        int n = atoi(argv[3]), gap = atoi(argv[4]);
        for (int i = 0; i < n; i++) {
            round_trip(argv[2]);
            if (gap > 0)
                usleep((useconds_t)gap * 1000);
        }
        return 0;
    }
    if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "reenable"))) && !strcmp(argv[1], "tscoff")) {
        const char *how = argv[2], *file = argv[3];
        thread_reenable = argc == 5;
        round_trip(file);
        if (!strcmp(how, "thread")) {
            pthread_t t;
            void *rc = NULL;
            thread_file = file;
            if (pthread_create(&t, NULL, in_thread, NULL) != 0 || pthread_join(t, &rc) != 0 || rc)
                return 1;
            return 0;
        }
        long r = !strcmp(how, "prctl") ? prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0)
                 : !strcmp(how, "syscall") ? syscall(SYS_prctl, PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0)
                                           : -2;
        if (r != 0)
            return 1;
        round_trip(file);
        return 0;
    }
    fprintf(stderr, "usage: stamps times FILE N GAP_MS | stamps tscoff prctl|syscall|thread FILE [reenable]\n");
    return 2;
}
