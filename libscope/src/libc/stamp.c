/* stamp.c — the time a record is made, cheaply, and its wall-clock time for the reporting thread.
 *
 * Every record carries the time it was made. Reading CLOCK_REALTIME there (clock_gettime in the
 * vDSO: its code, the kernel's time data and, in a VM, the paravirtual clock page) cost an
 * event-making call ~23 ns of its ~59 on this project's 2-CPU VM, and ~50 ns right after a system
 * call, when those lines are cold (bench/, percall: 221 -> 170 ns with the read taken away). On
 * x86-64, when the kernel's own clock is built on the CPU's time-stamp counter (its clocksource is
 * tsc or kvm-clock, the counter runs at a constant rate in every power state: CPUID's invariant
 * TSC) and this thread may read it (PR_GET_TSC), a record is stamped with the counter instead (one
 * rdtsc), tagged with the top bit; the reporting thread turns it into wall-clock time when it
 * drains the record (scope_stamp_ns), from two anchors, pairs of (counter, CLOCK_MONOTONIC_RAW,
 * CLOCK_REALTIME) read together: the rate from the raw clock between an old anchor and the newest
 * (no NTP slewing, no steps in it), the wall-clock time from the newest, taken at each drain
 * (scope_stamp_anchor), so a record is placed by a rate measured over seconds, from a point
 * milliseconds away. A step of the wall clock counts from the next drain on.
 *
 * The reporting thread decides as it starts (the clocksource is a file it reads; records made
 * before are on the wall clock). PR_SET_TSC is a thread's own: the thread that asks the kernel to
 * fault rdtsc turns the counter off for good before its real call (prctl and syscall(SYS_prctl)
 * are interposed: scope_stamp_off), and the decision and the turning off are one atomic each on
 * the same word, so whichever comes second wins and the asking thread never reads the counter
 * after. Anywhere else, and from then on, a record gets CLOCK_REALTIME as before; the two kinds
 * can be in the queue together, the tag tells them apart (wall-clock ns stay below 2^63 until
 * 2262). */
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "libc/libc.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

SCOPE_HOT_DATA _Atomic int scope_stamp_cycles;
SCOPE_HOT_DATA _Atomic int scope_tsc_faults;

struct anchor {
    uint64_t tsc, raw_ns, real_ns;
};
static __attribute__((unused)) struct anchor oldest, newest;   /* oldest: the start of the rate's span */
static double ns_per_tick;

#if defined(__x86_64__)
static uint64_t raw_ns(void)
{
    struct timespec ts;
    scope_clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The counter is read on both sides of the clocks; the middle stands for the moment they read. */
static struct anchor take(void)
{
    struct anchor a;
    uint64_t t0 = __builtin_ia32_rdtsc();
    a.raw_ns = raw_ns();
    a.real_ns = scope_now_ns();
    uint64_t t1 = __builtin_ia32_rdtsc();
    a.tsc = t0 + (t1 - t0) / 2;
    return a;
}

/* The kernel's clocksource, which says whether its clock stands on the counter. */
static bool clock_on_tsc(void)
{
    char buf[32];
    long fd = scope_real_syscall(SYS_openat, AT_FDCWD, "/sys/devices/system/clocksource/clocksource0/current_clocksource",
                                 O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    long n = scope_real_syscall(SYS_read, fd, buf, sizeof buf - 1);
    scope_real_syscall(SYS_close, fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return strcmp(buf, "tsc") == 0 || strcmp(buf, "kvm-clock") == 0;
}
#endif

bool scope_stamp_init(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    int tsc_mode = 0;
    if (atomic_load(&scope_stamp_cycles) != STAMP_UNDECIDED || !__get_cpuid(0x80000000u, &a, &b, &c, &d) ||
        a < 0x80000007u)
        return false;   /* (decided already: a forked child's reporting thread, or never) */
    __cpuid(0x80000007u, a, b, c, d);
    if (!(d & (1u << 8)))   /* no invariant TSC */
        return false;
    /* the app's threads' PR_SET_TSC is what matters; this thread was made by one of them and has
     * its setting, and prctl() turns the counter off in any thread later (wrap_proc.c) */
    if (scope_sys_prctl(PR_GET_TSC, (unsigned long)&tsc_mode) != 0 || tsc_mode != PR_TSC_ENABLE)
        return false;
    if (!clock_on_tsc())
        return false;
    oldest = newest = take();
    /* on unless an app's thread said never meanwhile (scope_stamp_off): one or the other wins,
     * and a thread that said never sees it said from then on */
    int undecided = STAMP_UNDECIDED;
    return atomic_compare_exchange_strong(&scope_stamp_cycles, &undecided, STAMP_CYCLES);
#else
    return false;
#endif
}

static _Atomic bool off_untold;

void scope_stamp_off(void)
{
    atomic_store(&scope_tsc_faults, 1);   /* before the app's call: no clock_gettime of ours reads rdtsc after it */
    if (atomic_exchange(&scope_stamp_cycles, STAMP_NEVER) == STAMP_CYCLES)
        atomic_store(&off_untold, true);
}

bool scope_stamp_off_news(void) { return atomic_exchange(&off_untold, false); }

void scope_stamp_anchor(void)
{
#if defined(__x86_64__)
    if (!oldest.tsc)
        return;   /* never stamped with the counter */
    struct anchor a = take();
    if (a.tsc <= newest.tsc || a.raw_ns <= newest.raw_ns)
        return;   /* (another CPU's counter a hair behind: the last anchor stays) */
    newest = a;
    /* the rate over at least 10 ms, else what the span so far gives (drains close together at
     * the start); a span past 20 s moves on to the previous newest anchor, so that a change of
     * rate (a VM moved to another host) is followed within seconds */
    uint64_t span = newest.raw_ns - oldest.raw_ns;
    if (span > 0 && (span >= 10000000ULL || ns_per_tick == 0))
        ns_per_tick = (double)span / (double)(newest.tsc - oldest.tsc);
    if (span > 20000000000ULL)
        oldest = newest;
#endif
}

uint64_t scope_stamp_ns(uint64_t stamp)
{
    if (!(stamp & SCOPE_STAMP_CYCLES))
        return stamp;
    uint64_t tsc = stamp & ~SCOPE_STAMP_CYCLES;
    if (ns_per_tick == 0)
        scope_stamp_anchor();   /* the first drain: a span from the library's start */
    if (ns_per_tick == 0)
        return scope_now_ns();   /* no span yet at all (cannot be: the best we have) */
    double d = ((double)(int64_t)(tsc - newest.tsc)) * ns_per_tick;
    return (uint64_t)((int64_t)newest.real_ns + (int64_t)d);
}
