/* reportfds.c — the reporting thread's own descriptor table (unshare: why below), with only its
 * own descriptors kept in it, and the descriptors `scope attach` hands over to it. */
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "config/config.h"
#include "control/control.h"
#include "control/ctl.h"
#include "dest/dest.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/fsmetrics.h"
#include "control/attachfds.h"
#include "control/handover.h"
#include "report/ident.h"
#include "dest/log.h"
#include "report/netevents.h"
#include "report/report.h"
#include "record/ring.h"
#include "report/reporting.h"
#include "scope.h"

static void close_range_of(unsigned lo, unsigned hi)
{
    if (lo > hi || scope_real_syscall(SYS_close_range, lo, hi, 0) == 0)
        return;
    struct rlimit rl;   /* kernels before 5.9: one by one, up to the limit */
    unsigned top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 20 ? (unsigned)rl.rlim_cur : 1u << 16;
    for (unsigned fd = lo; fd <= hi && fd < top; fd++)
        scope_real_close((int)fd);
}

/* Why a descriptor table of our own: a live second thread sharing the app's table makes the kernel
 * take a reference on the file in every read and write the app makes (measured here: +25 % on a
 * loop of tiny reads and writes, with an idle thread and no wrapper at all). With its own table
 * the reporting thread costs the app's syscalls nothing, and its descriptors are out of the app's
 * reach (dest.c). The copy unshare makes still refers to every file the app has open; those are
 * closed at once so the app's own closes (a pipe's write end, a socket) take effect as if we were
 * not there. POSIX record locks belong to a descriptor table, so closing our copies cannot
 * release the app's locks. */
void scope_rep_own_fd_table(void)
{
    scope_dest_keeps_fds = true;
    if (unshare(CLONE_FILES) != 0) {
        int e = errno;
        sem_post(&scope_rep_table_ready);
        scope_log(SCOPE_LOG_INFO, "the reporting thread shares the app's descriptor table (unshare: %s)",
                  scope_strerror(e));
        return;
    }
    /* ours: the lent copies, and the descriptors pinned across a change of user (handover.c) */
    enum { NKEEP = 3 + SCOPE_PIN_COUNT };
    int keep[NKEEP] = {scope_dest_adopt(&scope_rep_ev_dest), scope_dest_adopt(&scope_rep_met_dest),
                       scope_log_adopt()};
    for (int i = 0; i < SCOPE_PIN_COUNT; i++)
        keep[3 + i] = scope_pin_fd(i);
    for (int i = 0; i < NKEEP; i++)   /* sorted */
        for (int j = i + 1; j < NKEEP; j++)
            if (keep[j] < keep[i]) {
                int t = keep[i];
                keep[i] = keep[j];
                keep[j] = t;
            }
    unsigned lo = 0;
    for (int i = 0; i < NKEEP; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < lo)
            continue;
        if ((unsigned)keep[i] > lo)
            close_range_of(lo, (unsigned)keep[i] - 1);
        lo = (unsigned)keep[i] + 1;
    }
    close_range_of(lo, ~0u);
    char fds[64];
    scope_rep_procfd = scope_real_open(scope_proc(fds, sizeof fds, "fd"), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    atomic_store(&scope_rep_own_table, 1);
    sem_post(&scope_rep_table_ready);
}

/* The app's descriptors seen from this thread: /proc/self/fd, opened once in the thread's own table
 * (never in the app's: with a shared table it stays -1). A file's mode and owner at its fs.open are
 * looked up through it, one path component instead of four (measured here, in a thread with its own
 * table: 3.0 µs a lookup instead of 4.1). The directory names the process it was opened in, so a
 * forked child's thread and a restarted one open it again (scope_report_start). */
int scope_rep_procfd = -1;

int scope_rep_fd_stat(int fd, struct stat *st)
{
    if (scope_rep_procfd < 0) {
        char link[32];
        scope_fd_link(link, fd);
        return scope_sys_stat(link, st);
    }
    char name[24];   /* scope_u_str's room */
    scope_u_str(name, (unsigned)fd);
    return scope_sys_fstatat(scope_rep_procfd, name, st, 0);
}

/* The descriptors `scope attach` opened for us (attachfds.h), into this thread's own table, before
 * anything is written: the process-start record goes through them. */
void scope_rep_handover(void)
{
    if (!scope_handover_pending())
        return;
    struct scope_given g;
    char why[512];
    int rc = scope_handover_fetch(&g, why, sizeof why);
    scope_dest_give(&scope_rep_ev_dest, g.event, why);
    scope_dest_give(&scope_rep_met_dest, g.metric, why);
    scope_log_give(g.log, why);
    if (rc)
        scope_log(SCOPE_LOG_ERROR, "no descriptors from scope attach: %s", why);
}
