/* handover.c — file destinations across a change of user. A process that drops privileges
 * (setpriv, su, runuser, a daemon's worker) keeps writing through the descriptors its reporting
 * thread already holds, but what it starts afterwards (a forked child's reporting thread, the
 * image it execs) would open the session's files by name as the new user, and a session
 * directory only its owner may enter refuses them: those records were lost. So, around each
 * change of credentials (wrap_creds.c), every file destination the new credentials could not
 * open is "pinned": opened beforehand, while the old ones still can, and kept in the app's table
 * (high, close-on-exec). A forked child's reporting thread copies it with the table; an exec
 * hands a copy to the new image (not close-on-exec, named in SCOPE_EVENT_FD, SCOPE_METRIC_FD or
 * SCOPE_LOG_FD), whose constructor pins it again and clears the variable. The settings file
 * (SCOPE_CONF_PATH, in the same session directory) goes the same way, read-only, as SCOPE_CONF_FD. Nothing is pinned while
 * the path stays writable, so a process that never loses access keeps none of this. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config/config.h"
#include "dest/dest.h"
#include "control/handover.h"
#include "dest/log.h"
#include "report/report.h"
#include "scope.h"
#include "util/json.h"

static const char *const names[SCOPE_PIN_COUNT] = {"event", "metric", "log", "conf"};
static const char *const vars[SCOPE_PIN_COUNT] = {"SCOPE_EVENT_FD", "SCOPE_METRIC_FD", "SCOPE_LOG_FD",
                                                   "SCOPE_CONF_FD"};
enum { CONF = 3 };

struct pin {
    _Atomic int fd1;   /* the descriptor + 1; 0: none */
    dev_t dev;
    ino_t ino;
};
static struct pin pins[SCOPE_PIN_COUNT];

static int slot_of(const char *what)
{
    for (int i = 0; i < SCOPE_PIN_COUNT; i++)
        if (what && !strcmp(what, names[i]))
            return i;
    return -1;
}

static bool still_ours(const struct pin *p, int fd)
{
    struct stat st;
    return fd >= 0 && scope_sys_fstat(fd, &st) == 0 && st.st_dev == p->dev && st.st_ino == p->ino;
}

static void set_pin(int i, int fd)
{
    struct stat st;
    if (scope_sys_fstat(fd, &st) != 0) {
        scope_real_close(fd);
        return;
    }
    fd = scope_fd_high(fd);
    pins[i].dev = st.st_dev;
    pins[i].ino = st.st_ino;
    atomic_store(&pins[i].fd1, fd + 1);
}

static void drop_pin(int i)
{
    int fd1 = atomic_exchange(&pins[i].fd1, 0);
    if (fd1 > 0 && still_ours(&pins[i], fd1 - 1))
        scope_real_close(fd1 - 1);
}

int scope_pin_dup(const char *what)
{
    int i = slot_of(what);
    if (i < 0)
        return -1;
    int fd1 = atomic_load(&pins[i].fd1);
    if (fd1 <= 0 || !still_ours(&pins[i], fd1 - 1))
        return -1;
    return scope_real_fcntl(fd1 - 1, F_DUPFD_CLOEXEC, 3);
}

int scope_pin_fd(int i)
{
    int fd1 = i >= 0 && i < SCOPE_PIN_COUNT ? atomic_load(&pins[i].fd1) : 0;
    return fd1 - 1;
}

/* Constructor, before the settings are read: descriptors an exec handed us. */
void scope_pin_take_handed(void)
{
    for (int i = 0; i < SCOPE_PIN_COUNT; i++) {
        const char *v = getenv(vars[i]);
        if (!v)
            continue;
        char *end;
        long fd = strtol(v, &end, 10);
        unsetenv(vars[i]);   /* only this image is meant: its own children get their own copy */
        if (*end || fd < 3 || fd > 1 << 20)
            continue;
        int fl = scope_real_fcntl((int)fd, F_GETFL);
        struct stat st;
        /* what an exec of ours hands on: a regular file (or FIFO) open for appending; the
         * settings, a regular file open for reading */
        bool ok = fl >= 0 && scope_sys_fstat((int)fd, &st) == 0 &&
                  (i == CONF ? S_ISREG(st.st_mode) && (fl & O_ACCMODE) != O_WRONLY
                             : (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) && (fl & O_ACCMODE) != O_RDONLY);
        if (!ok)
            continue;
        set_pin(i, (int)fd);
    }
}

void scope_pin_copy_handed(pid_t pid)
{
    int pidfd = -1;
    for (int i = 0; i < SCOPE_PIN_COUNT; i++) {
        const char *v = getenv(vars[i]);
        char *end;
        long fd = v ? strtol(v, &end, 10) : -1;
        if (!v || *end || fd < 3 || fd > 1 << 20)
            continue;
        if (pidfd < 0 && (pidfd = (int)scope_real_syscall(SYS_pidfd_open, pid, 0)) < 0)
            break;
        long copy = scope_real_syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
        char text[24];
        if (copy >= 0)
            snprintf(text, sizeof text, "%ld", copy);
        /* a number of the subject's that could not be copied must not name one of ours */
        if (copy < 0 || setenv(vars[i], text, 1) != 0)
            unsetenv(vars[i]);
    }
    if (pidfd >= 0)
        scope_real_close(pidfd);
}

/* The file destinations in force, as the settings name them (file:///path only). */
static const char *dest_path(int i)
{
    if (i == CONF)
        return scope_config_path();
    const struct scope_dest *d = i == 2 ? scope_log_file_dest() : scope_report_dest(i == 1);
    return d && d->kind == SCOPE_DEST_FILE && d->path[0] ? d->path : NULL;
}

void scope_pin_before(void)
{
    for (int i = 0; i < SCOPE_PIN_COUNT; i++) {
        const char *path = dest_path(i);
        if (!path || atomic_load(&pins[i].fd1))
            continue;
        int fd = scope_real_open(path, (i == CONF ? O_RDONLY : O_WRONLY | O_APPEND) | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0)
            set_pin(i, fd);
    }
}

static void pull(void);

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
void scope_pin_pull(void)
{
    if (scope_guard || scope_vforked())
        return;
    int saved_guard = scope_guard, saved_errno = errno;
    scope_guard = 1;
    pull();
    scope_guard = saved_guard;
    errno = saved_errno;
}

static void pull(void)
{
    pid_t tid = scope_report_tid();
    int pidfd = -1;
    for (int i = 0; i < CONF && tid > 0; i++) {
        const struct scope_dest *d = i == 2 ? scope_log_file_dest() : scope_report_dest(i == 1);
        if (!d || d->kind != SCOPE_DEST_FILE || !d->given || d->fd < 0 || atomic_load(&pins[i].fd1))
            continue;
        if (pidfd < 0 && (pidfd = (int)scope_real_syscall(SYS_pidfd_open, tid, PIDFD_THREAD)) < 0)
            return;   /* a kernel before 6.9 has no pidfd of a thread: the children write nothing */
        int fd = (int)scope_real_syscall(SYS_pidfd_getfd, pidfd, d->fd, 0);
        struct stat st;
        if (fd >= 0 && (scope_sys_fstat(fd, &st) != 0 || st.st_dev != d->dev || st.st_ino != d->ino)) {
            scope_real_close(fd);   /* the number changed hands meanwhile */
            fd = -1;
        }
        if (fd >= 0)
            set_pin(i, fd);
    }
    if (pidfd >= 0)
        scope_real_close(pidfd);
}

void scope_pin_after(void)
{
    for (int i = 0; i < SCOPE_PIN_COUNT; i++) {
        const char *path = dest_path(i);
        /* Kept only while the new user could not open it: checked as the real user without
         * capabilities (faccessat without AT_EACCESS clears them for a non-root real uid), since a
         * program that keeps some for now (setpriv) loses them at its exec. */
        if (atomic_load(&pins[i].fd1) && path && scope_real_faccessat(AT_FDCWD, path, i == CONF ? R_OK : W_OK, 0) == 0)
            drop_pin(i);
    }
}

/* An exec's copies: not close-on-exec, each named in the environment. Stack and syscalls only
 * (a vfork child). vars_out[i] is room for "SCOPE_LOG_FD=NNNNNNN". */
int scope_pin_hand(int fds[SCOPE_PIN_COUNT], char vars_out[SCOPE_PIN_COUNT][32])
{
    int n = 0;
    for (int i = 0; i < SCOPE_PIN_COUNT; i++) {
        fds[i] = -1;
        vars_out[i][0] = 0;
        int fd1 = atomic_load(&pins[i].fd1);
        if (fd1 <= 0 || !still_ours(&pins[i], fd1 - 1))
            continue;
        int fd = scope_real_fcntl(fd1 - 1, F_DUPFD, 3);
        if (fd < 0)
            continue;
        fds[i] = fd;
        size_t k = strlen(vars[i]);
        memcpy(vars_out[i], vars[i], k);
        vars_out[i][k++] = '=';
        scope_u_str(vars_out[i] + k, (unsigned)fd);
        n++;
    }
    return n;
}

void scope_pin_unhand(const int fds[SCOPE_PIN_COUNT])
{
    for (int i = 0; i < SCOPE_PIN_COUNT; i++)
        if (fds[i] >= 0)
            scope_real_close(fds[i]);
}
