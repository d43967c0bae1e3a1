/* fdstd.c — what descriptors 0, 1 and 2 are. A process usually gets them from its parent: a shell
 * running `gzip -c f > f.gz` opens f.gz and dup2's it onto 1 before the exec, so the new image
 * starts with fd 1 a regular file it never opened. Writes there are that file's writes (its name,
 * its bytes in fs.close, file events when it is a log file), not console text; only a terminal,
 * a pipe, a socket or another device on 1 or 2 is the console. So they are looked at once at
 * start, and again whenever a dup or an open lands on one of them (rare, never a hot path; all
 * of it system calls, async-signal-safe, errno kept). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scope.h"
#include "util/json.h"

/* Whether fd is a regular file; its access mode in *flags. */
static bool regular(int fd, int *flags)
{
    struct stat st;
    if (scope_sys_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    int fl = scope_real_fcntl(fd, F_GETFL);
    *flags = fl < 0 ? O_RDONLY : fl;
    return true;
}

void scope_fd_link(char link[32], int fd)
{
    if (scope_subject()) {   /* proxy reporting: the subject's descriptor (a pid has at most 7 digits) */
        memcpy(link, "/proc/", 6);
        size_t n = 6 + scope_u_str(link + 6, (unsigned)scope_subject());
        memcpy(link + n, "/fd/", 4);
        scope_u_str(link + n + 4, (unsigned)fd);
        return;
    }
    memcpy(link, "/proc/self/fd/", 14);
    scope_u_str(link + 14, (unsigned)fd);
}

bool scope_fd_name(int fd, char *out, size_t cap)
{
    char link[32];
    scope_fd_link(link, fd);
    ssize_t got = readlink(link, out, cap - 1);
    if (got <= 0)
        return false;
    out[got] = 0;
    return true;
}

/* A file there when we start: its name, without an fs.open (the process did not open it). */
static void learn(enum scope_fn fn, int fd, bool had)
{
    int flags;
    char path[4096];
    if (!regular(fd, &flags) || !scope_fd_name(fd, path, sizeof path))
        return;
    if (had)
        scope_fs_had(fn, fd, path, flags);
    else
        scope_fs_opened(fn, fd, AT_FDCWD, path, flags);
}

void scope_std_start(void)
{
    int saved_errno = errno;
    for (int fd = 0; fd <= 2; fd++) {
        struct scope_fdc *c = scope_fdc(fd);
        if (c && !atomic_load_explicit(&c->chan, memory_order_relaxed))
            learn(SCOPE_FN_open, fd, true);
    }
    errno = saved_errno;
}

uint32_t scope_std_kind(int fd)
{
    if (fd != 1 && fd != 2)
        return 0;
    int saved_errno = errno, flags;
    bool file = regular(fd, &flags);
    errno = saved_errno;
    return file ? 0 : SCOPE_FD_CONSOLE;
}

void scope_std_landed(enum scope_fn fn, int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (fd < 0 || fd > 2 || !c)
        return;
    int saved_errno = errno;
    if (!atomic_load_explicit(&c->chan, memory_order_acquire))
        learn(fn, fd, false);   /* a copy of something we did not know: a file is an fs.open */
    else
        atomic_fetch_or_explicit(&c->flags, scope_std_kind(fd), memory_order_relaxed);
    errno = saved_errno;
}
