/* self.c — what libc and the kernel say about this process that every part of libscope asks:
 * its pid as of our start or its last fork (init.c keeps it), whether we run in a vfork child,
 * and the wall clock. */
#include <stdio.h>
#include <time.h>

#include "libc/libc.h"

static pid_t cached_pid;

pid_t scope_pid(void) { return cached_pid; }
void scope_pid_set(pid_t pid) { cached_pid = pid; }

/* The process reported on: this one, or (proxy reporting, interpose/proxy.c) the program a
 * supervisor follows from outside, which libscope could not be loaded into. */
static pid_t subject;

static bool subject_replaced;

pid_t scope_subject(void) { return subject; }
void scope_subject_set(pid_t pid) { subject = pid; }
void scope_subject_gone(void) { subject_replaced = true; }
bool scope_subject_readable(void) { return !subject_replaced; }

const char *scope_proc(char *buf, size_t cap, const char *rest)
{
    if (!subject)
        snprintf(buf, cap, "/proc/self/%s", rest);
    else
        snprintf(buf, cap, "/proc/%d/%s", (int)subject, rest);
    return buf;
}

/* A vfork child has its own pid and our memory: the kernel's answer, not a cached one. */
bool scope_vforked(void)
{
    return cached_pid != 0 && (pid_t)scope_real_syscall(SYS_getpid) != cached_pid;
}

SCOPE_HOT uint64_t scope_now_ns(void)
{
    struct timespec ts;
    scope_clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
