/* wrap_io.c — reads and writes on descriptors: bytes and ops per descriptor (for its fs.close)
 * and per function (fs.read / fs.write); what reaches fd 1 and 2 or a log file is also copied as
 * text. Copies between descriptors (sendfile, copy_file_range, splice) are a read on one side and
 * a write on the other. */
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/json.h"
#include "interpose/wrap.h"

/* A read or write on a socket: its bytes (buf, or iov) go to the net accounting and the protocol
 * detection. Out of line, so a file's read or write keeps no frame of its own. */
static SCOPE_HOT __attribute__((noinline)) void net_iob(enum scope_fn fn, int fd, bool wr, ssize_t r, const void *buf,
                                              const struct iovec *iov, int iovcnt)
{
    scope_net_io(fn, fd, wr, r, errno, buf, iov, iovcnt, NULL, 0, 0);
}

/* A read or write on a descriptor that may be a socket. */
static inline __attribute__((always_inline)) void scope_fd_iob(struct scope_call *sc, int fd, bool wr, ssize_t r,
                                                               const void *buf, const struct iovec *iov,
                                                               int iovcnt)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (scope_fdc_sock(c))
        net_iob(sc->fn, fd, wr, r, buf, iov, iovcnt);
    else
        scope_fs_end(sc, c, fd, wr, r, r < 0, r < 0 ? errno : 0);
}

#define FD_IO(name, call, fd, buf, iov, iovcnt)                                               \
    WRAP_BEGIN(name, -1, call);                                                               \
    ssize_t r = scope_real_##name call;                                                       \
    scope_fd_iob(&sc_, fd, false, r, buf, iov, iovcnt);                                       \
    scope_leave();                                                                            \
    return r;

/* Writes also hand the bytes written to the text capture. */
#define FD_WRITE(name, call, fd, buf)                                                         \
    WRAP_BEGIN(name, -1, call);                                                               \
    ssize_t r = scope_real_##name call;                                                       \
    scope_fd_iob(&sc_, fd, true, r, buf, NULL, 0);                                            \
    scope_text_if(fd, buf, r, 0);                                                             \
    scope_leave();                                                                            \
    return r;

/* Only the bytes that were actually written. */
static SCOPE_HOT void text_iov(int fd, const struct iovec *iov, int iovcnt, ssize_t r)
{
    if (r <= 0 || !scope_wants_text(fd))
        return;
    size_t left = (size_t)r;
    for (int i = 0; i < iovcnt && left > 0; i++) {
        size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
        scope_text(fd, iov[i].iov_base, take, i ? SCOPE_TEXT_STDIO : 0);
        left -= take;
    }
}

#define FD_WRITEV(name, call, fd, iov, iovcnt)                                                \
    WRAP_BEGIN(name, -1, call);                                                               \
    ssize_t r = scope_real_##name call;                                                       \
    scope_fd_iob(&sc_, fd, true, r, NULL, iov, iovcnt);                                       \
    text_iov(fd, iov, iovcnt, r);                                                             \
    scope_leave();                                                                            \
    return r;

SCOPE_API SCOPE_HOT ssize_t read(int fd, void *buf, size_t n) { FD_IO(read, (fd, buf, n), fd, buf, NULL, 0) }
SCOPE_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    FD_IO(__read_chk, (fd, buf, n, buflen), fd, buf, NULL, 0)
}
SCOPE_API SCOPE_HOT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    FD_IO(readv, (fd, iov, iovcnt), fd, NULL, iov, iovcnt)
}
SCOPE_API SCOPE_HOT ssize_t pread(int fd, void *buf, size_t n, off_t off) { FD_IO(pread, (fd, buf, n, off), fd, buf, NULL, 0) }
SCOPE_API SCOPE_HOT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    FD_IO(pread64, (fd, buf, n, off), fd, buf, NULL, 0)
}
SCOPE_API ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    FD_IO(__pread_chk, (fd, buf, n, off, buflen), fd, buf, NULL, 0)
}
SCOPE_API ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
    FD_IO(__pread64_chk, (fd, buf, n, off, buflen), fd, buf, NULL, 0)
}
SCOPE_API ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    FD_IO(preadv, (fd, iov, iovcnt, off), fd, NULL, iov, iovcnt)
}
SCOPE_API ssize_t preadv64(int fd, const struct iovec *iov, int iovcnt, off64_t off)
{
    FD_IO(preadv64, (fd, iov, iovcnt, off), fd, NULL, iov, iovcnt)
}
SCOPE_API ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
    FD_IO(preadv2, (fd, iov, iovcnt, off, flags), fd, NULL, iov, iovcnt)
}
SCOPE_API ssize_t preadv64v2(int fd, const struct iovec *iov, int iovcnt, off64_t off, int flags)
{
    FD_IO(preadv64v2, (fd, iov, iovcnt, off, flags), fd, NULL, iov, iovcnt)
}

SCOPE_API SCOPE_HOT ssize_t write(int fd, const void *buf, size_t n) { FD_WRITE(write, (fd, buf, n), fd, buf) }
SCOPE_API SCOPE_HOT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    FD_WRITE(pwrite, (fd, buf, n, off), fd, buf)
}
SCOPE_API SCOPE_HOT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    FD_WRITE(pwrite64, (fd, buf, n, off), fd, buf)
}
SCOPE_API SCOPE_HOT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    FD_WRITEV(writev, (fd, iov, iovcnt), fd, iov, iovcnt)
}
SCOPE_API ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    FD_WRITEV(pwritev, (fd, iov, iovcnt, off), fd, iov, iovcnt)
}
SCOPE_API ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off)
{
    FD_WRITEV(pwritev64, (fd, iov, iovcnt, off), fd, iov, iovcnt)
}
SCOPE_API ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
    FD_WRITEV(pwritev2, (fd, iov, iovcnt, off, flags), fd, iov, iovcnt)
}
SCOPE_API ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off64_t off, int flags)
{
    FD_WRITEV(pwritev64v2, (fd, iov, iovcnt, off, flags), fd, iov, iovcnt)
}

/* A copy to the console or a log file never passes through our hands (cat uses copy_file_range
 * when its stdout is a file), so the text is read back from the source range it came from: pread
 * is async-signal-safe and the bytes are in the page cache. A source that cannot be read back (a
 * pipe, a socket) gives no text; its bytes are still counted. */
static void text_from(int in, const off64_t *after, ssize_t r, int out)
{
    if (r <= 0 || !scope_wants_text(out))
        return;
    int saved_errno = errno;
    off64_t end = after ? *after : scope_real_lseek64(in, 0, SEEK_CUR);
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
            scope_text(out, buf, take, pos > end - r ? SCOPE_TEXT_STDIO : 0);
            pos += (off64_t)take;
        }
    }
    errno = saved_errno;
}

#define COPIED(name, call, in, inoff, out)                                                    \
    WRAP_BEGIN(name, -1, call);                                                               \
    ssize_t r = scope_real_##name call;                                                       \
    int err = errno;                                                                          \
    scope_count(in, false, r, SCOPE_FN_##name);                                               \
    if (SCOPE_UNLIKELY(scope_hot.rec_io) && r >= 0)                                           \
        scope_fs_io(SCOPE_FN_##name, in, false, r, sc_.t0);                                   \
    scope_io_end(&sc_, out, true, r, r < 0, err);                                             \
    if (r > 0)                                                                                \
        text_from(in, inoff, r, out);                                                         \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return r;

SCOPE_API ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t n,
                                  unsigned int flags)
{
    COPIED(copy_file_range, (in, inoff, out, outoff, n, flags), in, inoff, out)
}
SCOPE_API SCOPE_HOT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
    COPIED(sendfile, (out, in, off, n), in, (const off64_t *)off, out)
}
SCOPE_API SCOPE_HOT ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
    COPIED(sendfile64, (out, in, off, n), in, off, out)
}
SCOPE_API ssize_t splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t n, unsigned int flags)
{
    COPIED(splice, (in, inoff, out, outoff, n, flags), in, inoff, out)
}
