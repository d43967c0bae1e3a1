/* destfile.c — file destinations (file:///path, file://stdout, file://stderr): opened, checked
 * and written whole lines at a time, through a descriptor the reporting thread keeps in its own
 * table or, from any other thread, a transient one (dest.c says why). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "libc/libc.h"
#include "dest/dest.h"
#include "dest/destnet.h"
#include "control/attachfds.h"
#include "control/handover.h"
#include "dest/safefile.h"

/* Move fd up to just below the soft limit, out of the range apps scan and reuse. */
int scope_fd_high(int fd)
{
    if (fd < 0)
        return fd;
    struct rlimit rl;
    long base = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        base = (long)rl.rlim_cur;
    base = base > 256 ? base - 64 : base / 2;
    int hi = scope_real_fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
    if (hi < 0) {
        scope_real_fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    scope_real_close(fd);
    return hi;
}

static bool same_file(int fd, const struct scope_dest *d)
{
    struct stat st;
    return fd >= 0 && scope_sys_fstat(fd, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino;
}

static bool remember(struct scope_dest *d, int fd)
{
    struct stat st;
    if (fd < 0 || scope_sys_fstat(fd, &st) != 0)
        return false;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    return true;
}

static int console_fd(const struct scope_dest *d) { return d->kind == SCOPE_DEST_STDOUT ? 1 : 2; }

/* By name, or, where the name is refused since the process changed user, through the
 * descriptor pinned for it beforehand (handover.c). */
static int open_file(const struct scope_dest *d, char *why, size_t n)
{
    /* created exclusively, or, when there already, only if it is ours and no symbolic link:
     * a name in /tmp another user made first does not get our events (safefile.h) */
    int fd = scope_safe_append(AT_FDCWD, d->path, why, n);
    if (fd < 0 && (errno == EACCES || errno == EPERM) && strncmp(why, "refused", 7) != 0) {
        int e = errno;
        if ((fd = scope_pin_dup(d->what)) < 0)
            errno = e;
    }
    return fd;
}

static void went_down(struct scope_dest *d, const char *why) { scope_dest_went_down(d, "open", why); }
static void failed(struct scope_dest *d, const char *op, int err) { scope_dest_failed(d, op, scope_strerror(err)); }
static bool due(const struct scope_dest *d) { return scope_dest_due(d); }
static void came_up(struct scope_dest *d) { scope_dest_came_up(d); }

/* One open of a file destination, counted; errno kept for the caller. */
static int attempt(struct scope_dest *d)
{
    d->attempts++;
    char why[160];
    int fd = open_file(d, why, sizeof why);
    if (fd < 0) {
        int e = errno;
        went_down(d, why);
        errno = e;
    } else {
        came_up(d);
    }
    return fd;
}

/* file:///path, file://stdout, file://stderr; false for any other URL. */
bool scope_dfile_open(struct scope_dest *d, const char *url)
{
    if (strcmp(url, "file://stdout") == 0 || strcmp(url, "file://stderr") == 0) {
        d->kind = strcmp(url, "file://stdout") == 0 ? SCOPE_DEST_STDOUT : SCOPE_DEST_STDERR;
        /* The file the app's 1/2 is now; later we write there only while it still is. */
        if (!remember(d, console_fd(d)))
            d->kind = SCOPE_DEST_NONE;
        else {
            d->attempts = 1;
            came_up(d);
        }
    } else if (strncmp(url, "file:///", 8) == 0) {
        d->kind = SCOPE_DEST_FILE;
        snprintf(d->path, sizeof d->path, "%s", url + 7);
        /* Its descriptor may be on its way: the path may be one we cannot open (attachfds.h). */
        if (scope_handover_pending()) {
            d->awaiting = true;
            return true;
        }
        /* Created now (readers may wait for it) and checked, then closed: see the header. */
        int fd = attempt(d);
        if (fd >= 0)
            scope_real_close(fd);
    } else
        return false;
    return true;
}

void scope_dest_give(struct scope_dest *d, int fd, const char *why)
{
    bool waited = d->awaiting;
    d->awaiting = false;
    if (d->kind != SCOPE_DEST_FILE || !waited) {
        if (fd >= 0)
            scope_real_close(fd);
        return;
    }
    if (fd >= 0) {
        fd = scope_fd_high(fd);   /* in case the reporting thread shares the app's table */
        if (remember(d, fd)) {
            d->attempts++;
            d->given = true;
            d->fd = fd;
            came_up(d);
            return;
        }
        scope_real_close(fd);
    }
    fd = attempt(d);
    if (fd >= 0)
        scope_real_close(fd);
    else if (why && *why) {
        char opened[sizeof d->last_failure];
        memcpy(opened, d->last_failure, sizeof opened);
        snprintf(d->last_failure, sizeof d->last_failure, "%.200s; then %.280s", why, opened);
    }
}

/* A file destination that is down, tried again once its backoff has passed. */
bool scope_dfile_tick(struct scope_dest *d)
{
    if (d->kind != SCOPE_DEST_FILE || !d->down || !due(d))
        return false;
    int fd = attempt(d);
    if (fd < 0)
        return false;
    if (scope_dest_keeps_fds) {
        fd = scope_fd_high(fd);
        if (remember(d, fd))
            d->fd = fd;
        else
            scope_real_close(fd);
    } else {
        scope_real_close(fd);
    }
    return true;
}

void scope_dest_unlend(struct scope_dest *d)
{
    if (d->lent >= 0)
        scope_real_close(d->lent);
    d->lent = -1;
}

void scope_dest_lend(struct scope_dest *d)
{
    scope_dest_unlend(d);   /* one left by a parent whose thread never settled */
    if ((d->kind == SCOPE_DEST_STDOUT || d->kind == SCOPE_DEST_STDERR) && same_file(console_fd(d), d))
        d->lent = scope_fd_high(scope_real_fcntl(console_fd(d), F_DUPFD_CLOEXEC, 3));
}

int scope_dest_adopt(struct scope_dest *d)
{
    d->fd = d->lent;
    return d->fd;
}

static void reopen(struct scope_dest *d)
{
    d->fd = -1;
    int fd = -1;
    if (d->kind == SCOPE_DEST_FILE) {
        /* the descriptor of a destination that is up, (re)made by the thread that keeps it: not
         * a new attempt unless it fails */
        char why[160];
        if ((fd = open_file(d, why, sizeof why)) < 0) {
            d->attempts++;
            went_down(d, why);
        }
    } else if (same_file(console_fd(d), d))
        fd = scope_real_fcntl(console_fd(d), F_DUPFD_CLOEXEC, 3);
    fd = scope_fd_high(fd);
    if (d->kind == SCOPE_DEST_FILE && !remember(d, fd)) {
        if (fd >= 0)
            scope_real_close(fd);
        fd = -1;
    }
    d->fd = fd;
}

/* Whole buffer or nothing more: a partial write ends the attempt (retrying would repeat lines). */
/* Whole lines, at most a page per write(), and never glued to a line someone else left torn.
 *
 * How a line is torn: the kernel copies a write into the page cache a page at a time, and between
 * pages it gives up when a fatal signal (SIGKILL, an uncaught SIGPIPE) is pending: the write returns
 * short and the process dies. An O_APPEND write starts wherever the file ends, so even a write of
 * a hundred bytes may straddle a page boundary and stop at it, leaving half a line. Writes of at
 * most a page keep the loss to the dying writer's own lines; what they cannot do is keep the next
 * writer's record (another process sharing the file) from being appended to that half line.
 *
 * So every batch goes out under an exclusive flock() of the file: the writer holding it first
 * looks at the file's last byte, and when a dead writer's half line is there, ends it with a
 * newline before its own lines. A writer dying while it holds the lock frees it (the kernel
 * closes its files), and the next one sees the half line. The lock is only tried (a writer stopped
 * with SIGSTOP while holding it must not stall every other process): after a few milliseconds
 * without it, each write() starts with a newline instead, in the same system call, so that no
 * half line can come between them (a blank line at worst, which readers skip). Only file://PATH
 * destinations are guarded: file://stdout and file://stderr are the app's own descriptors (often
 * write-only, or a pipe or a terminal, which cannot be looked back at), written as before. */
#define WRITE_CHUNK 4096
#define LOCK_TRIES 20   /* 250 µs apart: 5 ms at most */

/* 1 when the lock is ours, 0 when it could not be had (held, or no locks on this file system). */
static int lock_file(int fd)
{
    for (int i = 0; i < LOCK_TRIES; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 1;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return 0;
        struct timespec ts = {0, 250000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* The file is empty or its last line is complete; false when that cannot be read (a descriptor
 * open for writing only, handed over or opened where reading is refused): a blank line at worst. */
static bool ends_line(int fd, off_t size)
{
    char c;
    return size == 0 || (scope_real_pread(fd, &c, 1, size - 1) == 1 && c == '\n');
}

_Atomic uint64_t scope_dest_stop_ms;

/* A pipe, socket or terminal whose reader stopped would block write() for good, and at exit the
 * app waits for this thread only so long: so the write waits in poll() instead, as long as it
 * takes, until the exit's deadline (scope_dest_stop_ms) is reached. Then the rest is given up
 * (ETIMEDOUT), and the caller counts its lines as dropped. */
static bool writable(int fd)
{
    for (;;) {
        uint64_t stop = atomic_load(&scope_dest_stop_ms);
        int wait = 100;
        if (stop) {
            struct timespec ts;
            scope_clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
            if (now >= stop) {
                errno = ETIMEDOUT;
                return false;
            }
            if (stop - now < (uint64_t)wait)
                wait = (int)(stop - now);
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int r = poll(&p, 1, wait);
        if (r > 0 || (r < 0 && errno != EINTR))
            return true;   /* writable, or an error the write itself will report */
    }
}

/* A file with a size cap (SCOPE_FILE_MAXBYTES) takes whole lines up to it. The write that reaches
 * it marks the destination capped for good (this process writes no more records to it) and, when
 * the file was still under the cap, owes a notice (cap_reached), which is let past the cap: so
 * records never pass the cap, and the notices past it are one per process whose write reached it.
 * That is one, unless another process's write comes between a write that fills the file to just
 * under the cap and its notice (the lock is not held from one to the other): then it too finds
 * the file under the cap and owes one (seen once in CI: two notices past the cap). */
static size_t write_all(int fd, const char *buf, size_t len, bool guarded, struct scope_dest *capd)
{
    int saved = errno;
    struct stat st;
    bool regular = scope_sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    bool shared = guarded && regular;
    bool locked = shared && lock_file(fd);
    /* A newline first: locked, only when the file ends in a half line (then once); unlocked, before
     * every chunk. */
    bool have = !locked || scope_sys_fstat(fd, &st) == 0;
    bool newline = shared && (!locked || (have && !ends_line(fd, st.st_size)));
    size_t whole = len;
    if (capd && capd->capped) {   /* for good: no record of ours after our notice */
        if (locked)
            flock(fd, LOCK_UN);
        errno = EFBIG;
        return 0;
    }
    if (capd && capd->cap && regular && have) {
        uint64_t size = (uint64_t)st.st_size + (newline ? 1 : 0);
        uint64_t room = size >= capd->cap ? 0 : capd->cap - size;
        if (room < len) {
            len = scope_lines_fit(buf, len, (size_t)(room < whole ? room : whole));
            if (!capd->capped)
                capd->cap_reached = size < capd->cap;
            capd->capped = true;
        }
    }
    errno = saved;
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        if (n > WRITE_CHUNK) {
            const char *nl = memrchr(buf + off, '\n', WRITE_CHUNK);
            n = nl ? (size_t)(nl - (buf + off)) + 1 : 0;
            if (!n) {   /* one line longer than the chunk */
                nl = memchr(buf + off, '\n', len - off);
                n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
            }
        }
        if (!regular && !writable(fd))
            break;
        struct iovec iov[2] = {{(void *)"\n", 1}, {(void *)(buf + off), n}};
        ssize_t w = newline ? scope_real_writev(fd, iov, 2) : scope_real_write(fd, buf + off, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (newline && w > 0) {
            w--;
            newline = !locked;
        }
        if (w <= 0)   /* a failure, or a short write of the newline alone */
            break;
        off += (size_t)w;
    }
    if (locked) {
        saved = errno;
        flock(fd, LOCK_UN);
        errno = saved;
    }
    if (off == len && len < whole)
        errno = EFBIG;
    return off;
}

/* A transient open of a destination that is up is not counted as an attempt: it is the same
 * connection, reached from another thread. */
static size_t write_transient(struct scope_dest *d, const char *buf, size_t len)
{
    if (!due(d) || d->awaiting)
        return 0;
    int fd = -1;
    char why[160];
    if (d->kind != SCOPE_DEST_FILE)
        fd = same_file(console_fd(d), d) ? console_fd(d) : -1;
    else if (d->given) {
        /* only the reporting thread holds the descriptor; the path may be closed to us, which
         * says nothing about the destination: these lines alone are dropped (counted) */
        if ((fd = open_file(d, why, sizeof why)) < 0)
            return 0;
    } else if (d->down)
        fd = attempt(d);
    else if ((fd = open_file(d, why, sizeof why)) < 0) {
        d->attempts++;
        went_down(d, why);
    }
    if (fd < 0)
        return 0;
    size_t off = write_all(fd, buf, len, d->kind == SCOPE_DEST_FILE, d);
    if (off < len && !d->capped)
        failed(d, "write", errno);
    if (d->kind == SCOPE_DEST_FILE)
        scope_real_close(fd);
    return off;
}

/* While down, only scope_dest_tick tries again (the reporting thread then writes what is owed
 * first, a process-start record, before the next batch). */
static size_t write_kept(struct scope_dest *d, const char *buf, size_t len)
{
    if (d->down || d->awaiting)
        return 0;
    for (int i = 0; i < 2; i++) {
        if (!same_file(d->fd, d))
            reopen(d);
        if (d->fd < 0)
            return 0;
        size_t off = write_all(d->fd, buf, len, d->kind == SCOPE_DEST_FILE, d);
        if (off == len)
            return len;
        if (d->capped)
            return off;
        if (off > 0 || errno != EBADF) {
            failed(d, "write", errno);
            return off;
        }
        d->fd = -1;
    }
    return 0;
}

size_t scope_dfile_write(struct scope_dest *d, const char *buf, size_t len)
{
    return scope_dest_keeps_fds ? write_kept(d, buf, len) : write_transient(d, buf, len);
}

void scope_dfile_write_notice(struct scope_dest *d, const char *buf, size_t len)
{
    uint64_t cap = d->cap;
    bool capped = d->capped;
    d->cap = 0;
    d->capped = false;
    if (scope_dfile_write(d, buf, len) == len)
        d->lines++;
    d->cap = cap;
    d->capped = capped;
}
