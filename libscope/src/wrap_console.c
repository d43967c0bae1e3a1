/* wrap_console.c — what the app writes to fd 1 and 2 becomes stdout / stderr events (one per
 * write call, split into several when it does not fit one record, never inside a UTF-8
 * character). These wrappers also count bytes like the fs ones, since a write may go anywhere. */
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "scope.h"

void scope_console(int fd, const void *buf, size_t n)
{
    if ((fd != 1 && fd != 2) || !scope_hot.ev_console || !buf)
        return;
    /* An fd 1 or 2 the app opened itself (after closing the console) is a file, not output. */
    struct scope_fdc *c = scope_fdc(fd);
    if (c && atomic_load_explicit(&c->chan, memory_order_relaxed))
        return;
    int saved_errno = errno;
    const unsigned char *p = buf;
    uint64_t now = scope_now_ns();
    while (n > 0) {
        size_t take = n > SCOPE_REC_DATA ? scope_utf8_cut(p, SCOPE_REC_DATA) : n;
        if (take == 0)
            take = SCOPE_REC_DATA;
        uint64_t ticket;
        struct scope_rec *r = scope_ring_claim(&ticket);
        if (!r)
            break;   /* full: the rest would be dropped too; counted once per write is enough */
        r->kind = SCOPE_REC_CONSOLE;
        r->fn = SCOPE_FN_write;
        r->fd = fd;
        r->chan = 0;
        r->t_ns = now;
        r->len = (uint32_t)take;
        memcpy(r->data, p, take);
        scope_ring_publish(ticket);
        p += take;
        n -= take;
    }
    errno = saved_errno;
}

SCOPE_API ssize_t write(int fd, const void *buf, size_t n)
{
    SCOPE_NEED_REAL(write, -1);
    if (!scope_enter())
        return scope_real_write(fd, buf, n);
    ssize_t r = scope_real_write(fd, buf, n);
    scope_count(fd, true, r);
    if (r > 0)
        scope_console(fd, buf, (size_t)r);
    scope_leave();
    return r;
}

SCOPE_API ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    SCOPE_NEED_REAL(writev, -1);
    if (!scope_enter())
        return scope_real_writev(fd, iov, iovcnt);
    ssize_t r = scope_real_writev(fd, iov, iovcnt);
    scope_count(fd, true, r);
    /* only the bytes that were actually written */
    size_t left = r > 0 ? (size_t)r : 0;
    for (int i = 0; i < iovcnt && left > 0; i++) {
        size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
        scope_console(fd, iov[i].iov_base, take);
        left -= take;
    }
    scope_leave();
    return r;
}

SCOPE_API size_t fwrite(const void *ptr, size_t size, size_t n, FILE *fp)
{
    SCOPE_NEED_REAL(fwrite, 0);
    if (!scope_enter())
        return scope_real_fwrite(ptr, size, n, fp);
    size_t r = scope_real_fwrite(ptr, size, n, fp);
    int saved_errno = errno;
    int fd = fileno_unlocked(fp);
    errno = saved_errno;
    scope_count(fd, true, (ssize_t)(r * size));
    if (r > 0)
        scope_console(fd, ptr, r * size);
    scope_leave();
    return r;
}
