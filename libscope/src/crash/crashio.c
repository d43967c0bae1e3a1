/* crashio.c — the crash handler's I/O: raw system calls (the crashing thread may be inside our
 * own wrappers or hold libc's locks) and a line buffer that formats numbers without stdio. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libc/libc.h"
#include "crash/crash.h"

int crash_openat(int dirfd, const char *path, int flags, int mode)
{
    return (int)scope_real_syscall(SYS_openat, dirfd, path, flags | O_CLOEXEC, mode);
}

ssize_t crash_write(int fd, const void *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        long r = scope_real_syscall(SYS_write, fd, (const char *)p + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

void crash_close(int fd)
{
    if (fd >= 0)
        scope_real_syscall(SYS_close, fd);
}

ssize_t crash_read_file(const char *path, char *buf, size_t cap)
{
    int fd = crash_openat(AT_FDCWD, path, O_RDONLY, 0);
    size_t len = 0;
    if (fd < 0) {
        buf[0] = 0;
        return -1;
    }
    while (len + 1 < cap) {
        long r = scope_real_syscall(SYS_read, fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    crash_close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

void cb_flush(struct cbuf *c)
{
    if (c->len && c->fd >= 0)
        crash_write(c->fd, c->b, c->len);
    c->len = 0;
}

void cb_mem(struct cbuf *c, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        if (c->len == sizeof c->b)
            cb_flush(c);
        size_t k = sizeof c->b - c->len < n ? sizeof c->b - c->len : n;
        memcpy(c->b + c->len, s, k);
        c->len += k;
        s += k;
        n -= k;
    }
}

void cb_str(struct cbuf *c, const char *s) { cb_mem(c, s, strlen(s)); }

void cb_dec(struct cbuf *c, long long v)
{
    char t[24];
    int i = sizeof t;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        t[--i] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        t[--i] = '-';
    cb_mem(c, t + i, sizeof t - (size_t)i);
}

void cb_hex(struct cbuf *c, uint64_t v)
{
    char t[18];
    int i = sizeof t;
    do
        t[--i] = "0123456789abcdef"[v & 15];
    while (v >>= 4);
    t[--i] = 'x';
    t[--i] = '0';
    cb_mem(c, t + i, sizeof t - (size_t)i);
}
