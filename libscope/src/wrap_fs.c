/* wrap_fs.c — file descriptors: opens and closes become fs.open / fs.close records (the close
 * carries the bytes and ops the descriptor saw), reads and writes only bump atomic counters.
 * Hot path rules: no malloc, no lock, no formatting, errno untouched, async-signal-safe. */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "json.h"
#include "scope.h"

/* The mode argument only exists when the flags create a file. */
#define OPEN_MODE(flags, last)                                                                \
    mode_t mode = 0;                                                                          \
    if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) {                            \
        va_list ap;                                                                           \
        va_start(ap, last);                                                                   \
        mode = va_arg(ap, mode_t);                                                            \
        va_end(ap);                                                                           \
    }

#define OPENED(name, call, path)                                                              \
    SCOPE_NEED_REAL(name, -1);                                                                \
    if (!scope_enter())                                                                       \
        return scope_real_##name call;                                                        \
    int fd = scope_real_##name call;                                                          \
    scope_fs_opened(SCOPE_FN_##name, fd, path);                                               \
    scope_leave();                                                                            \
    return fd;

#define COUNTED(name, type, call, fd, wr, bytes)                                              \
    SCOPE_NEED_REAL(name, (type)-1);                                                          \
    if (!scope_enter())                                                                       \
        return scope_real_##name call;                                                        \
    type r = scope_real_##name call;                                                          \
    int saved_errno = errno; /* fileno_unlocked may set it */                                 \
    scope_count(fd, wr, (ssize_t)(bytes));                                                    \
    errno = saved_errno;                                                                      \
    scope_leave();                                                                            \
    return r;

/* Long paths keep their start and their end (the file name), joined by "...". */
static uint32_t copy_path(char *dst, const char *path)
{
    size_t n = strlen(path);
    if (n <= SCOPE_REC_DATA) {
        memcpy(dst, path, n);
        return (uint32_t)n;
    }
    size_t head = 128, tail = SCOPE_REC_DATA - head - 3;
    memcpy(dst, path, head);
    memcpy(dst + head, "...", 3);
    memcpy(dst + head + 3, path + n - tail, tail);
    return SCOPE_REC_DATA;
}

void scope_fs_opened(enum scope_fn fn, int fd, const char *path)
{
    if (fd < 0)
        return;
    int saved_errno = errno;
    uint64_t chan = atomic_fetch_add_explicit(&scope_hot.next_chan, 1, memory_order_relaxed);
    struct scope_fdc *c = scope_fdc(fd);
    if (c) {
        atomic_store_explicit(&c->rbytes, 0, memory_order_relaxed);
        atomic_store_explicit(&c->rops, 0, memory_order_relaxed);
        atomic_store_explicit(&c->wbytes, 0, memory_order_relaxed);
        atomic_store_explicit(&c->wops, 0, memory_order_relaxed);
        atomic_store_explicit(&c->chan, chan, memory_order_release);
    }
    uint64_t ticket;
    struct scope_rec *r;
    if (c && scope_hot.ev_fs && (r = scope_ring_claim(&ticket))) {
        r->kind = SCOPE_REC_OPEN;
        r->fn = (uint16_t)fn;
        r->fd = fd;
        r->chan = chan;
        r->t_ns = scope_now_ns();
        r->len = path ? copy_path(r->data, path) : 0;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

/* Called before the real close: afterwards the number may already belong to another open. */
void scope_fs_closing(enum scope_fn fn, int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c)
        return;
    uint64_t chan = atomic_exchange_explicit(&c->chan, 0, memory_order_acq_rel);
    if (!chan)
        return;
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r;
    if (scope_hot.ev_fs && (r = scope_ring_claim(&ticket))) {
        r->kind = SCOPE_REC_CLOSE;
        r->fn = (uint16_t)fn;
        r->fd = fd;
        r->chan = chan;
        r->t_ns = scope_now_ns();
        r->len = 0;
        r->rbytes = atomic_load_explicit(&c->rbytes, memory_order_relaxed);
        r->rops = atomic_load_explicit(&c->rops, memory_order_relaxed);
        r->wbytes = atomic_load_explicit(&c->wbytes, memory_order_relaxed);
        r->wops = atomic_load_explicit(&c->wops, memory_order_relaxed);
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

SCOPE_API int open(const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(open, (path, flags, mode), path)
}
SCOPE_API int open64(const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(open64, (path, flags, mode), path)
}
SCOPE_API int openat(int dirfd, const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(openat, (dirfd, path, flags, mode), path)
}
SCOPE_API int openat64(int dirfd, const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    OPENED(openat64, (dirfd, path, flags, mode), path)
}
SCOPE_API int __open_2(const char *path, int flags) { OPENED(__open_2, (path, flags), path) }
SCOPE_API int __open64_2(const char *path, int flags) { OPENED(__open64_2, (path, flags), path) }
SCOPE_API int __openat_2(int dirfd, const char *path, int flags)
{
    OPENED(__openat_2, (dirfd, path, flags), path)
}
SCOPE_API int __openat64_2(int dirfd, const char *path, int flags)
{
    OPENED(__openat64_2, (dirfd, path, flags), path)
}
SCOPE_API int creat(const char *path, mode_t mode) { OPENED(creat, (path, mode), path) }
SCOPE_API int creat64(const char *path, mode_t mode) { OPENED(creat64, (path, mode), path) }

static FILE *fopened(enum scope_fn fn, FILE *(*real)(const char *, const char *),
                     const char *path, const char *mode)
{
    if (!scope_enter())
        return real(path, mode);
    FILE *fp = real(path, mode);
    int saved_errno = errno;
    if (fp)
        scope_fs_opened(fn, fileno_unlocked(fp), path);
    errno = saved_errno;
    scope_leave();
    return fp;
}
SCOPE_API FILE *fopen(const char *path, const char *mode)
{
    SCOPE_NEED_REAL(fopen, NULL);
    return fopened(SCOPE_FN_fopen, scope_real_fopen, path, mode);
}
SCOPE_API FILE *fopen64(const char *path, const char *mode)
{
    SCOPE_NEED_REAL(fopen64, NULL);
    return fopened(SCOPE_FN_fopen64, scope_real_fopen64, path, mode);
}

SCOPE_API int close(int fd)
{
    SCOPE_NEED_REAL(close, -1);
    if (!scope_enter())
        return scope_real_close(fd);
    scope_fs_closing(SCOPE_FN_close, fd);
    int r = scope_real_close(fd);
    scope_leave();
    return r;
}

SCOPE_API int fclose(FILE *fp)
{
    SCOPE_NEED_REAL(fclose, EOF);
    if (!scope_enter())
        return scope_real_fclose(fp);
    int saved_errno = errno;
    if (fp)
        scope_fs_closing(SCOPE_FN_fclose, fileno_unlocked(fp));
    errno = saved_errno;
    int r = scope_real_fclose(fp);
    scope_leave();
    return r;
}

SCOPE_API ssize_t read(int fd, void *buf, size_t n) { COUNTED(read, ssize_t, (fd, buf, n), fd, false, r) }
SCOPE_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    COUNTED(__read_chk, ssize_t, (fd, buf, n, buflen), fd, false, r)
}
SCOPE_API ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    COUNTED(pread, ssize_t, (fd, buf, n, off), fd, false, r)
}
SCOPE_API ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    COUNTED(pread64, ssize_t, (fd, buf, n, off), fd, false, r)
}
SCOPE_API ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    COUNTED(__pread_chk, ssize_t, (fd, buf, n, off, buflen), fd, false, r)
}
SCOPE_API ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
    COUNTED(__pread64_chk, ssize_t, (fd, buf, n, off, buflen), fd, false, r)
}
SCOPE_API ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    COUNTED(readv, ssize_t, (fd, iov, iovcnt), fd, false, r)
}
SCOPE_API ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    COUNTED(pwrite, ssize_t, (fd, buf, n, off), fd, true, r)
}
SCOPE_API ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    COUNTED(pwrite64, ssize_t, (fd, buf, n, off), fd, true, r)
}
SCOPE_API size_t fread(void *ptr, size_t size, size_t n, FILE *fp)
{
    COUNTED(fread, size_t, (ptr, size, n, fp), fileno_unlocked(fp), false, r * size)
}
SCOPE_API size_t __fread_chk(void *ptr, size_t ptrlen, size_t size, size_t n, FILE *fp)
{
    COUNTED(__fread_chk, size_t, (ptr, ptrlen, size, n, fp), fileno_unlocked(fp), false, r * size)
}

/* A copy to the console never passes through our hands (cat uses copy_file_range when its
 * stdout is a file), so the text is read back from the source range it came from: pread is
 * async-signal-safe and the bytes are in the page cache. A source that cannot be read back (a pipe,
 * a socket) gives no console text; its bytes are still counted. */
static void console_from(int in, const off64_t *after, ssize_t r, int out)
{
    if (r <= 0 || (out != 1 && out != 2))
        return;
    int saved_errno = errno;
    off64_t end = after ? *after : lseek64(in, 0, SEEK_CUR);
    if (end >= r) {
        unsigned char buf[SCOPE_REC_DATA];
        off64_t pos = end - r;
        while (pos < end) {
            size_t want = (size_t)(end - pos) < sizeof buf ? (size_t)(end - pos) : sizeof buf;
            ssize_t got = pread64(in, buf, want, pos);
            if (got <= 0)
                break;
            size_t take = (size_t)got < want || pos + got >= end ? (size_t)got
                                                                  : scope_utf8_cut(buf, (size_t)got);
            if (take == 0)
                take = (size_t)got;
            scope_console(out, buf, take);
            pos += (off64_t)take;
        }
    }
    errno = saved_errno;
}

/* Copies count as a read on the source and a write on the destination. */
#define COPIED(name, call, in, inoff, out)                                                    \
    SCOPE_NEED_REAL(name, -1);                                                                \
    if (!scope_enter())                                                                       \
        return scope_real_##name call;                                                        \
    ssize_t r = scope_real_##name call;                                                       \
    scope_count(in, false, r);                                                                \
    scope_count(out, true, r);                                                                \
    console_from(in, inoff, r, out);                                                          \
    scope_leave();                                                                            \
    return r;

SCOPE_API ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t n,
                                  unsigned int flags)
{
    COPIED(copy_file_range, (in, inoff, out, outoff, n, flags), in, inoff, out)
}
SCOPE_API ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
    COPIED(sendfile, (out, in, off, n), in, (const off64_t *)off, out)
}
SCOPE_API ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
    COPIED(sendfile64, (out, in, off, n), in, off, out)
}
