/* metrics.c — the proc.* metrics: read from getrusage and /proc/self when the reporting thread
 * reports (start, every summary period, exit), never counted on the hot path. */
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config/config.h"
#include "report/emit.h"
#include "report/ident.h"
#include "report/report.h"
#include "report/reporting.h"
#include "scope.h"

static long long last_cpu_us;
static uint64_t last_wall_ns;

static bool read_small(const char *path, char *buf, size_t cap);

/* CPU time of all the process's threads, in microseconds: getrusage, or for a subject reported
 * from outside its stat's utime and stime (clock ticks). */
static long long cpu_us(void)
{
    if (scope_subject()) {
        char path[64], buf[1024];
        if (!read_small(scope_proc(path, sizeof path, "stat"), buf, sizeof buf))
            return 0;
        char *p = strrchr(buf, ')');   /* the name may hold spaces and parentheses */
        if (!p)
            return 0;
        p += 2;
        for (int field = 3; field < 14 && *p; field++) {   /* fields 14 and 15: utime, stime */
            p = strchr(p, ' ');
            if (!p)
                return 0;
            p++;
        }
        long long ut = strtoll(p, &p, 10), st = strtoll(p, NULL, 10);
        long hz = sysconf(_SC_CLK_TCK);
        return hz > 0 ? (ut + st) * 1000000LL / hz : 0;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
           (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

/* The start of the first interval: libscope's start in this image (getrusage counts the CPU the
 * images before an exec used, and the loader's work before us), a fork (the child's own
 * counts start at 0 there), a reattach. */
void scope_metrics_reset(void)
{
    last_cpu_us = cpu_us();
    last_wall_ns = scope_mono_ns();
}

/* Processors this process may run on: the ceiling of its CPU share. */
static long cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(scope_subject(), sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* The start of a small /proc file, as a string; false when it cannot be read. */
static bool read_small(const char *path, char *buf, size_t cap)
{
    int fd = scope_real_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = scope_real_read(fd, buf, cap - 1);
    scope_real_close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    return true;
}

static long long read_num_after(const char *path, const char *label, int field)
{
    char buf[4096];
    if (!read_small(path, buf, sizeof buf))
        return 0;
    char *p = buf;
    if (label) {
        p = strstr(buf, label);
        if (!p)
            return 0;
        p += strlen(label);
    }
    for (int i = 0; i < field; i++) {   /* skip to the field'th number */
        strtoll(p, &p, 10);
    }
    return strtoll(p, NULL, 10);
}

/* Children: the pids whose parent we are. Each thread's children list when the kernel keeps one
 * (CONFIG_PROC_CHILDREN), else the parent field of every process's stat line. */
static long long count_listed(DIR *tasks)
{
    long long n = 0;
    struct dirent *e;
    while ((e = scope_real_readdir(tasks))) {
        if (e->d_name[0] == '.')
            continue;
        char p[300], buf[4096], rest[280];
        snprintf(rest, sizeof rest, "task/%s/children", e->d_name);
        scope_proc(p, sizeof p, rest);
        int fd = scope_real_open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t got;
        while ((got = scope_real_read(fd, buf, sizeof buf)) > 0)
            for (ssize_t i = 0; i < got; i++)
                n += buf[i] == ' ';
        scope_real_close(fd);
    }
    return n;
}

static long long count_by_parent(void)
{
    DIR *d = scope_real_opendir("/proc");
    if (!d)
        return 0;
    long long n = 0;
    struct dirent *e;
    while ((e = scope_real_readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char p[300], buf[512];
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        if (!read_small(p, buf, sizeof buf))
            continue;
        char *end = strrchr(buf, ')');   /* the name may hold spaces and parentheses */
        if (end && strtol(end + 4, NULL, 10) == scope_id.pid)   /* ") S <ppid>" */
            n++;
    }
    scope_real_closedir(d);
    return n;
}

static long long count_children(void)
{
    char path[64], rest[48];
    snprintf(rest, sizeof rest, "task/%d/children", (int)scope_id.pid);
    if (scope_real_access(scope_proc(path, sizeof path, rest), R_OK) != 0)
        return count_by_parent();
    DIR *d = scope_real_opendir(scope_proc(path, sizeof path, "task"));
    if (!d)
        return 0;
    long long n = count_listed(d);
    scope_real_closedir(d);
    return n;
}

static long long count_fds(void)
{
    char path[64];
    DIR *d = scope_real_opendir(scope_proc(path, sizeof path, "fd"));
    if (!d)
        return 0;
    long long n = 0;
    struct dirent *e;
    while ((e = scope_real_readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    scope_real_closedir(d);
    /* The directory's own descriptor is in the list only when it was opened in the app's table:
     * the reporting thread has a table of its own (reportfds.c), unless unshare failed. */
    bool own = scope_subject() ||
               (atomic_load(&scope_rep_own_table) && scope_report_tid() == (pid_t)scope_real_syscall(SYS_gettid));
    return n > 0 && !own ? n - 1 : n;
}

void scope_emit_proc_metrics(struct sbuf *o, bool start)
{
    uint64_t now = scope_now_ns();
    if (!scope_cfg.met_proc)
        return;
    if (start) {
        const struct scope_ident *p = &scope_id;
        struct scope_dim dims[] = {
            {"uid", NULL, p->uid, 4}, {"gid", NULL, p->gid, 4}, {"username", p->user, 0, 4},
            {"groupname", p->group, 0, 4}, {"args", p->cmd, 0, 4},
        };
        scope_emit_metric(o, "proc.start", "counter", 1, "process", dims, 5, now);
        return;
    }
    char gone[64];
    if (scope_subject() && (!scope_subject_readable() || scope_real_access(scope_proc(gone, sizeof gone, "stat"), R_OK) != 0))
        return;   /* a subject followed from outside that has ended: nothing left to read, no zeros */
    long long cpu = cpu_us(), delta = cpu - last_cpu_us;
    if (delta < 0)
        delta = 0;
    uint64_t wall = scope_mono_ns();
    /* The share of one CPU used since the previous report (since libscope's start, the first
     * time), in percent: 100 is one CPU busy. getrusage's split into user and system time is
     * estimated from ticks and may jump, so the share is held to what the CPUs could give. */
    double perc = 0;
    if (wall > last_wall_ns)
        perc = (double)delta * 1000.0 / (double)(wall - last_wall_ns) * 100.0;
    double max = 100.0 * (double)cpus();
    if (perc > max)
        perc = max;
    last_cpu_us = cpu;
    last_wall_ns = wall;
    char path[64];
    long long rss_kib = read_num_after(scope_proc(path, sizeof path, "statm"), NULL, 1) * (sysconf(_SC_PAGESIZE) / 1024);
    long long threads = read_num_after(scope_proc(path, sizeof path, "status"), "Threads:", 0);
    scope_emit_metric(o, "proc.cpu", "counter", delta, "microsecond", NULL, 0, now);
    scope_emit_metric(o, "proc.cpu_perc", "gauge", (long long)(perc + 0.5), "percent", NULL, 0, now);
    scope_emit_metric(o, "proc.mem", "gauge", rss_kib, "kibibyte", NULL, 0, now);
    scope_emit_metric(o, "proc.thread", "gauge", threads, "thread", NULL, 0, now);
    scope_emit_metric(o, "proc.fd", "gauge", count_fds(), "file", NULL, 0, now);
    scope_emit_metric(o, "proc.child", "gauge", count_children(), "process", NULL, 0, now);
}
