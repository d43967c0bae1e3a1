/* safefile.c — files libscope creates or appends to where another user may have been first
 * (/tmp, a shared directory): a name another user made in advance, as a file or as a symbolic
 * link to a file of theirs or to one of ours they want overwritten, is refused, not written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libc/libc.h"
#include "dest/safefile.h"

static int refuse(char *why, size_t n, int err, const char *fmt, unsigned long v)
{
    snprintf(why, n, fmt, v);
    errno = err;
    return -1;
}

static int fail(char *why, size_t n)
{
    int e = errno;
    snprintf(why, n, "%s", scope_strerror(e));
    errno = e;
    return -1;
}

static int check(int fd, char *why, size_t n)
{
    struct stat st;
    if (scope_sys_fstat(fd, &st) != 0) {
        int e = errno;
        scope_real_close(fd);
        errno = e;
        return fail(why, n);
    }
    /* the real uid too: a set-uid program run in its user's session appends to that user's files */
    if (st.st_uid != geteuid() && st.st_uid != getuid() && st.st_uid != 0) {
        scope_real_close(fd);
        return refuse(why, n, EPERM, "refused: owned by uid %lu, not by us", (unsigned long)st.st_uid);
    }
    if (S_ISREG(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
        scope_real_close(fd);
        return refuse(why, n, EPERM, "refused: writable by group or others (mode %lo)",
                      (unsigned long)(st.st_mode & 07777));
    }
    return fd;
}

/* A regular file is wanted open for reading too (destfile.c looks at its last byte for a line a
 * killed writer left half written); a FIFO or a device keeps the write-only open. */
static int readable(int at, const char *name, int fd)
{
    struct stat a, b;
    if (fd < 0 || scope_sys_fstat(fd, &a) != 0 || !S_ISREG(a.st_mode))
        return fd;
    int rw = scope_real_openat(at, name, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (rw < 0)
        return fd;
    if (scope_sys_fstat(rw, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
        scope_real_close(rw);   /* the name changed hands in between: keep the one checked */
        return fd;
    }
    scope_real_close(fd);
    return rw;
}

int scope_safe_append(int at, const char *name, char *why, size_t n)
{
    /* a few rounds: the name may come and go between the two opens */
    for (int i = 0; i < 4; i++) {
        int fd = scope_real_openat(at, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd >= 0)
            return readable(at, name, check(fd, why, n));
        if (errno == ELOOP)
            return refuse(why, n, ELOOP, "refused: is a symbolic link%.0lu", 0);
        if (errno != ENOENT)
            return fail(why, n);
        fd = scope_real_openat(at, name, O_RDWR | O_APPEND | O_CLOEXEC | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return fail(why, n);
    }
    return refuse(why, n, EAGAIN, "refused: the name keeps changing%.0lu", 0);
}

int scope_private_dir(const char *dir, const char *sub, char *why, size_t n)
{
    int d = scope_real_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (d < 0 || scope_sys_fstat(d, &st) != 0) {
        int e = errno;
        if (d >= 0)
            scope_real_close(d);
        errno = e;
        return fail(why, n);
    }
    if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
        return d;
    if (scope_real_mkdirat(d, sub, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        scope_real_close(d);
        errno = e;
        return fail(why, n);
    }
    int p = scope_real_openat(d, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    int e = errno;
    scope_real_close(d);
    if (p < 0) {
        errno = e;
        if (e == ELOOP || e == ENOTDIR)
            return refuse(why, n, e, "refused: not a directory (a symbolic link?)%.0lu", 0);
        return fail(why, n);
    }
    if (scope_sys_fstat(p, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
        unsigned long uid = (unsigned long)st.st_uid, mode = (unsigned long)(st.st_mode & 07777);
        scope_real_close(p);
        if (uid != (unsigned long)geteuid())
            return refuse(why, n, EPERM, "refused: owned by uid %lu, not by us", uid);
        return refuse(why, n, EPERM, "refused: open to group or others (mode %lo)", mode);
    }
    return p;
}
