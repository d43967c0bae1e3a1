/* wrap_fd.c — where descriptors begin and end: the open family, fopen/freopen, opendir, dup and
 * fcntl(F_DUPFD) make a lifetime (fs.open); close, fclose, fcloseall, closedir end it (fs.close,
 * carrying the counts the lifetime saw). */
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "interpose/wrap.h"

/* The mode argument only exists when the flags create a file. */
#define OPEN_MODE(flags, last)                                                                \
    mode_t mode = 0;                                                                          \
    if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) {                            \
        va_list ap;                                                                           \
        va_start(ap, last);                                                                   \
        mode = va_arg(ap, mode_t);                                                            \
        va_end(ap);                                                                           \
    }

#define OPENED(name, call, dirfd, path, flags)                                                \
    WRAP_BEGIN(name, -1, call);                                                               \
    int fd = scope_real_##name call;                                                          \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, fd < 0);                                                         \
    if (fd >= 0)                                                                              \
        scope_fs_opened(SCOPE_FN_##name, fd, dirfd, path, flags);                             \
    else                                                                                      \
        scope_fail(SCOPE_FN_##name, -1, dirfd, path, err);                                    \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return fd;

SCOPE_API SCOPE_HOT int open(const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(open, (path, flags, mode), AT_FDCWD, path, flags)
}
SCOPE_API SCOPE_HOT int open64(const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(open64, (path, flags, mode), AT_FDCWD, path, flags)
}
SCOPE_API SCOPE_HOT int openat(int dirfd, const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(openat, (dirfd, path, flags, mode), dirfd, path, flags)
}
SCOPE_API SCOPE_HOT int openat64(int dirfd, const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(openat64, (dirfd, path, flags, mode), dirfd, path, flags)
}
SCOPE_API int __open_2(const char *path, int flags)
{
    OPENED(__open_2, (path, flags), AT_FDCWD, path, flags)
}
SCOPE_API int __open64_2(const char *path, int flags)
{
    OPENED(__open64_2, (path, flags), AT_FDCWD, path, flags)
}
SCOPE_API int __openat_2(int dirfd, const char *path, int flags)
{
    OPENED(__openat_2, (dirfd, path, flags), dirfd, path, flags)
}
SCOPE_API int __openat64_2(int dirfd, const char *path, int flags)
{
    OPENED(__openat64_2, (dirfd, path, flags), dirfd, path, flags)
}
SCOPE_API int creat(const char *path, mode_t mode)
{
    OPENED(creat, (path, mode), AT_FDCWD, path, O_WRONLY)
}
SCOPE_API int creat64(const char *path, mode_t mode)
{
    OPENED(creat64, (path, mode), AT_FDCWD, path, O_WRONLY)
}

static int mode_flags(const char *mode)
{
    return mode && (mode[0] != 'r' || strchr(mode, '+')) ? O_WRONLY : O_RDONLY;
}

#define FOPENED(name, call, path, mode, before)                                               \
    WRAP_BEGIN(name, NULL, call);                                                             \
    before;                                                                                   \
    FILE *fp = scope_real_##name call;                                                        \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, !fp);                                                            \
    if (fp)                                                                                   \
        scope_fs_opened(SCOPE_FN_##name, scope_fileno(fp), AT_FDCWD, path, mode_flags(mode)); \
    else                                                                                      \
        scope_fail(SCOPE_FN_##name, -1, AT_FDCWD, path, err);                                 \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return fp;

SCOPE_API FILE *fopen(const char *path, const char *mode)
{
    FOPENED(fopen, (path, mode), path, mode, (void)0)
}
SCOPE_API FILE *fopen64(const char *path, const char *mode)
{
    FOPENED(fopen64, (path, mode), path, mode, (void)0)
}
/* freopen ends the stream's old descriptor and makes a new one (often with the same number). */
SCOPE_API FILE *freopen(const char *path, const char *mode, FILE *old)
{
    FOPENED(freopen, (path, mode, old), path, mode, scope_fs_closing(SCOPE_FN_freopen, scope_fileno(old)))
}
SCOPE_API FILE *freopen64(const char *path, const char *mode, FILE *old)
{
    FOPENED(freopen64, (path, mode, old), path, mode,
            scope_fs_closing(SCOPE_FN_freopen64, scope_fileno(old)))
}

int scope_dirfd(DIR *dir)
{
    if (!dir)
        return -1;
    int saved_errno = errno, fd = dirfd(dir);
    errno = saved_errno;
    return fd;
}

SCOPE_API DIR *opendir(const char *path)
{
    WRAP_BEGIN(opendir, NULL, (path));
    DIR *d = scope_real_opendir(path);
    int err = errno;
    scope_call_end(&sc_, -1, !d);
    if (d)
        scope_fs_opened(SCOPE_FN_opendir, dirfd(d), AT_FDCWD, path, O_RDONLY);
    else
        scope_fail(SCOPE_FN_opendir, -1, AT_FDCWD, path, err);
    errno = err;
    scope_leave();
    return d;
}

/* A new descriptor naming what `from` names. dup2/dup3 onto an open descriptor end it first. One
 * landing on 0, 1 or 2 is looked at (fdstd.c): a file there is not the console. */
#define DUPED(name, call, from, onto)                                                         \
    WRAP_BEGIN(name, -1, call);                                                               \
    int nfd = scope_real_##name call;                                                         \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, nfd < 0);                                                        \
    if (nfd >= 0) {                                                                           \
        if ((onto) >= 0 && nfd != (from))                                                     \
            scope_fs_closing(SCOPE_FN_##name, nfd);                                           \
        if (nfd != (from))                                                                    \
            scope_fs_duped(SCOPE_FN_##name, nfd, from);                                       \
        if (SCOPE_UNLIKELY(nfd <= 2) && nfd != (from))                                        \
            scope_std_landed(SCOPE_FN_##name, nfd);                                           \
    } else {                                                                                  \
        scope_fail(SCOPE_FN_##name, from, -1, NULL, err);                                     \
    }                                                                                         \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return nfd;

SCOPE_API int dup(int fd) { DUPED(dup, (fd), fd, -1) }
SCOPE_API int dup2(int fd, int fd2) { DUPED(dup2, (fd, fd2), fd, fd2) }
SCOPE_API int dup3(int fd, int fd2, int flags) { DUPED(dup3, (fd, fd2, flags), fd, fd2) }

/* fcntl's third argument is an int or a pointer; passing it on as a pointer-sized value is what
 * glibc itself does. Only F_DUPFD(_CLOEXEC) is a descriptor event; other commands are not counted. */
#define FCNTL(name)                                                                           \
    va_list ap;                                                                               \
    va_start(ap, cmd);                                                                        \
    void *arg = va_arg(ap, void *);                                                           \
    va_end(ap);                                                                               \
    if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) {                                           \
        SCOPE_NEED_REAL(name, -1);                                                            \
        return scope_real_##name(fd, cmd, arg);                                               \
    }                                                                                         \
    DUPED(name, (fd, cmd, arg), fd, -1)

SCOPE_API int fcntl(int fd, int cmd, ...) { FCNTL(fcntl) }
SCOPE_API int fcntl64(int fd, int cmd, ...) { FCNTL(fcntl64) }

/* Only descriptors we saw made are counted as closed: closing a pipe, or every number in a
 * loop, is no file event. */
static inline bool tracked(int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    return c && atomic_load_explicit(&c->chan, memory_order_relaxed);
}

#define CLOSED(name, type, call, fd, bad)                                                     \
    SCOPE_NEED_REAL(name, (type)-1);                                                          \
    if (!scope_enter())                                                                       \
        return scope_real_##name call;                                                        \
    if (!tracked(fd)) {                                                                       \
        scope_leave();                                                                        \
        return scope_real_##name call;                                                        \
    }                                                                                         \
    struct scope_call sc_;                                                                    \
    scope_call_begin(&sc_, SCOPE_FN_##name);                                                  \
    scope_fs_closing(SCOPE_FN_##name, fd);                                                    \
    type r = scope_real_##name call;                                                          \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, (bad) && err != EINTR);                                          \
    if ((bad) && err != EINTR)                                                                \
        scope_fail(SCOPE_FN_##name, fd, -1, NULL, err);                                       \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return r;

SCOPE_API SCOPE_HOT int close(int fd) { CLOSED(close, int, (fd), fd, r < 0) }
SCOPE_API int fclose(FILE *fp)
{
    int fd = fp ? scope_fileno(fp) : -1;
    CLOSED(fclose, int, (fp), fd, r == EOF)
}
SCOPE_API int closedir(DIR *dir)
{
    int fd = scope_dirfd(dir);
    CLOSED(closedir, int, (dir), fd, r < 0)
}

/* syscall(SYS_close, fd) is how libuv (node) closes every descriptor, past close(): accounted as a
 * close. Any other number goes straight through with six argument words, as glibc's syscall
 * passes them (words the caller did not give are registers or its stack: read, never used).
 * Not address-checked: that read of the caller's stack is the point (ASan saw it in a caller's
 * redzone). */
__attribute__((no_sanitize_address)) SCOPE_API long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    SCOPE_NEED_REAL(syscall, -1);
    if (number == SYS_prctl && a[0] == PR_SET_TSC && a[1] != PR_TSC_ENABLE)
        scope_stamp_off();   /* as prctl() does (wrap_proc.c) */
    if (number != SYS_close || !scope_enter())
        return scope_real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    int fd = (int)a[0];
    if (!tracked(fd)) {
        scope_leave();
        return scope_real_syscall(number, a[0]);
    }
    struct scope_call sc_;
    scope_call_begin(&sc_, SCOPE_FN_close);
    scope_fs_closing(SCOPE_FN_close, fd);
    long r = scope_real_syscall(number, a[0]);
    int err = errno;
    scope_call_end(&sc_, -1, r < 0 && err != EINTR);
    if (r < 0 && err != EINTR)
        scope_fail(SCOPE_FN_close, fd, -1, NULL, err);
    errno = err;
    scope_leave();
    return r;
}

/* Every stream goes: each descriptor a stream opened ends here. */
SCOPE_API int fcloseall(void)
{
    WRAP_BEGIN(fcloseall, EOF, ());
    int top = scope_fd_top();
    for (int fd = 0; fd <= top; fd++) {
        struct scope_fdc *c = scope_fdc(fd);
        if (c && atomic_load_explicit(&c->chan, memory_order_relaxed) &&
            (atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_STREAM))
            scope_fs_closing(SCOPE_FN_fcloseall, fd);
    }
    int r = scope_real_fcloseall();
    scope_call_end(&sc_, -1, false);
    scope_leave();
    return r;
}
