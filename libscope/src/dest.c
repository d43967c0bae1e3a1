/* dest.c — destinations: file:///path, file://stdout, file://stderr.
 *
 * Why two ways of writing: the reporting thread gives itself a descriptor table of its own
 * (unshare(CLONE_FILES), see report.c), so the descriptors it keeps open for its destinations are
 * invisible to the app: the app cannot close or dup2 over them, they take no low numbers from it
 * and never leak into its children. Any other thread (init logging, the inline flush of a forked
 * child, a log line from the exit path) writes through a transient descriptor, opened, written and
 * closed at once, so nothing of ours stays in the app's table. If unshare is refused, the reporting
 * thread's descriptors live in the shared table, moved high and checked (dev/ino) before each batch. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dest.h"
#include "log.h"

__thread bool scope_dest_keeps_fds __attribute__((tls_model("initial-exec")));

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
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
    if (hi < 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    close(fd);
    return hi;
}

static bool same_file(int fd, const struct scope_dest *d)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino;
}

static bool remember(struct scope_dest *d, int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return false;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    return true;
}

static int console_fd(const struct scope_dest *d) { return d->kind == SCOPE_DEST_STDOUT ? 1 : 2; }

static int open_file(const struct scope_dest *d)
{
    return open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

void scope_dest_open(struct scope_dest *d, const char *url, const char *what)
{
    memset(d, 0, sizeof *d);
    d->fd = d->lent = -1;
    d->what = what;
    if (!url || !*url) {
        d->kind = SCOPE_DEST_NONE;
        return;
    }
    snprintf(d->url, sizeof d->url, "%s", url);
    if (strcmp(url, "file://stdout") == 0 || strcmp(url, "file://stderr") == 0) {
        d->kind = strcmp(url, "file://stdout") == 0 ? SCOPE_DEST_STDOUT : SCOPE_DEST_STDERR;
        /* The file the app's 1/2 is now; later we write there only while it still is. */
        if (!remember(d, console_fd(d)))
            d->kind = SCOPE_DEST_NONE;
    } else if (strncmp(url, "file:///", 8) == 0) {
        d->kind = SCOPE_DEST_FILE;
        snprintf(d->path, sizeof d->path, "%s", url + 7);
        /* Created now (readers may wait for it) and checked, then closed: see the header. */
        int fd = open_file(d);
        if (fd < 0)
            scope_log(SCOPE_LOG_ERROR, "%s destination %s: cannot open: %s", what, url, strerror(errno));
        else
            close(fd);
    } else {
        d->kind = SCOPE_DEST_UNSUPPORTED;
    }
}

void scope_dest_unlend(struct scope_dest *d)
{
    if (d->lent >= 0)
        close(d->lent);
    d->lent = -1;
}

void scope_dest_lend(struct scope_dest *d)
{
    scope_dest_unlend(d);   /* one left by a parent whose thread never settled */
    if ((d->kind == SCOPE_DEST_STDOUT || d->kind == SCOPE_DEST_STDERR) && same_file(console_fd(d), d))
        d->lent = scope_fd_high(fcntl(console_fd(d), F_DUPFD_CLOEXEC, 3));
}

int scope_dest_adopt(struct scope_dest *d)
{
    d->fd = d->lent;
    return d->fd;
}



bool scope_dest_on(const struct scope_dest *d) { return d->kind != SCOPE_DEST_NONE; }

static void reopen(struct scope_dest *d)
{
    d->fd = -1;
    int fd = -1;
    if (d->kind == SCOPE_DEST_FILE)
        fd = open_file(d);
    else if (same_file(console_fd(d), d))
        fd = fcntl(console_fd(d), F_DUPFD_CLOEXEC, 3);
    fd = scope_fd_high(fd);
    if (d->kind == SCOPE_DEST_FILE && !remember(d, fd)) {
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    d->fd = fd;
}

/* Whole buffer or nothing more: a partial write ends the attempt (retrying would repeat lines). */
/* Whole lines, at most a page per write(): a process killed by a signal (SIGPIPE, say) while the
 * kernel copies a write into the page cache stops at a page boundary, and the rest of a longer
 * write would be lost mid-line, with the next writer's line glued to the torn one. A write that
 * fits in one page is copied whole or not at all (a single longer line is written alone). */
#define WRITE_CHUNK 4096
static size_t write_all(int fd, const char *buf, size_t len)
{
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
        ssize_t w = write(fd, buf + off, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    return off;
}

static bool write_transient(struct scope_dest *d, const char *buf, size_t len)
{
    int fd = d->kind == SCOPE_DEST_FILE ? open_file(d) : same_file(console_fd(d), d) ? console_fd(d) : -1;
    if (fd < 0)
        return false;
    bool ok = write_all(fd, buf, len) == len;
    if (d->kind == SCOPE_DEST_FILE)
        close(fd);
    return ok;
}

static bool write_kept(struct scope_dest *d, const char *buf, size_t len)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!same_file(d->fd, d))
            reopen(d);
        if (d->fd < 0)
            return false;
        size_t off = write_all(d->fd, buf, len);
        if (off == len)
            return true;
        if (off > 0 || errno != EBADF)
            return false;
        d->fd = -1;
    }
    return false;
}

bool scope_dest_write(struct scope_dest *d, const char *buf, size_t len, size_t lines)
{
    if (d->kind == SCOPE_DEST_NONE || len == 0)
        return true;
    if (d->kind == SCOPE_DEST_UNSUPPORTED) {
        if (!d->told) {
            d->told = true;
            scope_log(SCOPE_LOG_WARNING, "unsupported %s destination %s: records dropped "
                      "(only file:// is implemented)", d->what, d->url);
        }
        d->dropped += lines;
        return false;
    }
    if (scope_dest_keeps_fds ? write_kept(d, buf, len) : write_transient(d, buf, len))
        return true;
    if (!d->told) {
        d->told = true;
        scope_log(SCOPE_LOG_WARNING, "%s destination %s: write failed, records dropped", d->what, d->url);
    }
    d->dropped += lines;
    return false;
}
