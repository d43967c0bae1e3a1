/* dest.c — destinations: file:///path, file://stdout, file://stderr. The app owns the low
 * descriptors and may close or dup2 over anything, so ours live high, are checked (dev/ino)
 * before every batch and reopened when they are gone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dest.h"
#include "log.h"

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

static bool remember(struct scope_dest *d)
{
    struct stat st;
    if (d->fd < 0 || fstat(d->fd, &st) != 0)
        return false;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    return true;
}

static void reopen(struct scope_dest *d)
{
    if (d->kind == SCOPE_DEST_FILE) {
        int fd = open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        d->fd = scope_fd_high(fd);
    } else {
        /* Our copy of stdout/stderr is gone: take the app's fd 1/2 again only if it still is the
         * file we were given at start. */
        int app = d->kind == SCOPE_DEST_STDOUT ? 1 : 2;
        struct stat st;
        d->fd = -1;
        if (fstat(app, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino)
            d->fd = scope_fd_high(fcntl(app, F_DUPFD_CLOEXEC, 3));
    }
    if (!remember(d))
        d->fd = -1;
}

void scope_dest_open(struct scope_dest *d, const char *url, const char *what)
{
    memset(d, 0, sizeof *d);
    d->fd = -1;
    d->what = what;
    if (!url || !*url) {
        d->kind = SCOPE_DEST_NONE;
        return;
    }
    snprintf(d->url, sizeof d->url, "%s", url);
    if (strcmp(url, "file://stdout") == 0 || strcmp(url, "file://stderr") == 0) {
        int app = strcmp(url, "file://stdout") == 0 ? 1 : 2;
        d->kind = app == 1 ? SCOPE_DEST_STDOUT : SCOPE_DEST_STDERR;
        /* A copy, so the app closing 1/2 later does not cut us off. */
        d->fd = scope_fd_high(fcntl(app, F_DUPFD_CLOEXEC, 3));
        if (!remember(d))
            d->fd = -1;
    } else if (strncmp(url, "file:///", 8) == 0) {
        d->kind = SCOPE_DEST_FILE;
        snprintf(d->path, sizeof d->path, "%s", url + 7);
        reopen(d);
        if (d->fd < 0)
            scope_log(SCOPE_LOG_ERROR, "%s destination %s: cannot open: %s", what, url,
                      strerror(errno));
    } else {
        d->kind = SCOPE_DEST_UNSUPPORTED;
    }
}

bool scope_dest_on(const struct scope_dest *d) { return d->kind != SCOPE_DEST_NONE; }

static bool still_ours(struct scope_dest *d)
{
    struct stat st;
    return d->fd >= 0 && fstat(d->fd, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino;
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
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!still_ours(d))
            reopen(d);
        if (d->fd < 0)
            break;
        size_t off = 0;
        while (off < len) {
            ssize_t n = write(d->fd, buf + off, len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        if (off == len)
            return true;
        if (off > 0)    /* a part went out; retrying would duplicate lines */
            break;
        if (errno != EBADF)
            break;
        d->fd = -1;
    }
    if (!d->told) {
        d->told = true;
        scope_log(SCOPE_LOG_WARNING, "%s destination %s: write failed, records dropped",
                  d->what, d->url);
    }
    d->dropped += lines;
    return false;
}
