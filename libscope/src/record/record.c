/* record.c — the slow half of the wrappers: each function here fills one ring record (or a few)
 * from what a call did. Still the app's thread, so the hot-path rules hold: no malloc, no lock,
 * no formatting, errno kept, async-signal-safe. A full ring drops the record and counts it. */
#include <fcntl.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>

#include "scope.h"

/* What the hot path needs to know (scope.h), set at init and after each config change. */
SCOPE_HOT_DATA struct scope_hot scope_hot;

/* Long paths keep their start and their end (the file name), joined by "...". */
static uint32_t copy_path(char *dst, const char *path, size_t room)
{
    size_t n = strlen(path);
    if (n <= room) {
        memcpy(dst, path, n);
        return (uint32_t)n;
    }
    size_t head = room / 4, tail = room - head - 3;
    memcpy(dst, path, head);
    memcpy(dst + head, "...", 3);
    memcpy(dst + head + 3, path + n - tail, tail);
    return (uint32_t)room;
}

__thread uint64_t scope_rec_time;

SCOPE_HOT struct scope_rec *scope_rec_claim(enum scope_rec_kind kind, enum scope_fn fn, int fd, uint64_t *ticket)
{
    return scope_rec_claim_at(kind, fn, fd, ticket, 0);
}

/* t_ns: the record's time when the caller has it already (a stamp or wall-clock ns; 0: now). */
SCOPE_HOT struct scope_rec *scope_rec_claim_at(enum scope_rec_kind kind, enum scope_fn fn, int fd, uint64_t *ticket,
                                     uint64_t t_ns)
{
    struct scope_rec *r = scope_ring_claim(ticket);
    if (!r)
        return NULL;
    r->kind = (uint16_t)kind;
    r->fn = (uint16_t)fn;
    r->fd = fd;
    r->len = 0;
    r->aux = 0;
    r->chan = 0;
    r->t_ns = t_ns ? t_ns : SCOPE_UNLIKELY(scope_rec_time) ? scope_rec_time : scope_stamp();
    r->rbytes = r->rops = r->wbytes = r->wops = 0;
    return r;
}

static uint64_t live_chan(int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    return c ? atomic_load_explicit(&c->chan, memory_order_relaxed) : 0;
}

/* A *at call's directory descriptor into a record: its number + 1 (0: relative to the cwd) and its
 * lifetime at the call (0: the cwd, or one we never saw made), with which the reporting thread can
 * tell whether the number still is that directory when it asks the kernel for its name. */
static void at_dir(uint64_t *fd1, uint64_t *chan, int dirfd)
{
    bool cwd = dirfd == AT_FDCWD || dirfd < 0;
    *fd1 = cwd ? 0 : (uint64_t)dirfd + 1;
    *chan = cwd ? 0 : live_chan(dirfd);
}

/* A new lifetime for fd: fresh counters and channel id, and whether its written text is wanted
 * (a log file by the default pattern, or "maybe" until the reporter has matched a custom one). */
SCOPE_HOT uint64_t scope_new_life(int fd, uint32_t flags)
{
    uint64_t chan = atomic_fetch_add_explicit(&scope_hot.next_chan, 1, memory_order_relaxed);
    struct scope_fdc *c = scope_fdc(fd);
    if (c) {
        atomic_store_explicit(&c->rbytes, 0, memory_order_relaxed);
        atomic_store_explicit(&c->rops, 0, memory_order_relaxed);
        atomic_store_explicit(&c->wbytes, 0, memory_order_relaxed);
        atomic_store_explicit(&c->wops, 0, memory_order_relaxed);
        atomic_store_explicit(&c->flags, flags, memory_order_relaxed);
        atomic_store_explicit(&c->chan, chan, memory_order_release);
        int top = scope_fd_top();
        while (fd > top && !atomic_compare_exchange_weak(&scope_fd_hwm, &top, fd))
            ;
    }
    return chan;
}

/* fl: lifetime flags beyond what the path and mode decide; aux: the OPEN record's aux. */
SCOPE_HOT static void opened(enum scope_fn fn, int fd, int dirfd, const char *path, int flags, uint32_t fl,
                   int32_t aux)
{
    if (fd < 0 || !scope_fdc(fd))
        return;
    int saved_errno = errno;
    if (scope_hot.ev_file && path && (flags & O_ACCMODE) != O_RDONLY)
        fl |= scope_hot.log_default ? (scope_log_path(path) ? SCOPE_FD_TEXT : 0) : SCOPE_FD_TEXT_MAYBE;
    if (fn == SCOPE_FN_fopen || fn == SCOPE_FN_fopen64 || fn == SCOPE_FN_freopen ||
        fn == SCOPE_FN_freopen64 || fn == SCOPE_FN_tmpfile || fn == SCOPE_FN_tmpfile64)
        fl |= SCOPE_FD_STREAM;
    uint64_t chan = scope_new_life(fd, fl);
    uint64_t ticket;
    struct scope_rec *r;
    if (scope_hot.rec_open && (r = scope_rec_claim(SCOPE_REC_OPEN, fn, fd, &ticket))) {
        r->chan = chan;
        r->aux = aux;
        at_dir(&r->rbytes, &r->rops, dirfd);
        r->len = path ? copy_path(r->data, path, SCOPE_REC_DATA) : 0;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

SCOPE_HOT void scope_fs_opened(enum scope_fn fn, int fd, int dirfd, const char *path, int flags)
{
    /* 0, 1 or 2 opened anew (the app closed it first): whether it is the console (fdstd.c) */
    opened(fn, fd, dirfd, path, flags, SCOPE_UNLIKELY(fd >= 0 && fd <= 2) ? scope_std_kind(fd) : 0, 0);
}

void scope_fs_had(enum scope_fn fn, int fd, const char *path, int flags)
{
    opened(fn, fd, AT_FDCWD, path, flags, 0, SCOPE_OPEN_HAD);
}

/* dup and friends: a new lifetime on fd that names what `from` names (the reporter copies it). */
void scope_fs_duped(enum scope_fn fn, int fd, int from)
{
    struct scope_fdc *src = scope_fdc(from);
    if (fd < 0 || !scope_fdc(fd) || !src || !atomic_load_explicit(&src->chan, memory_order_acquire))
        return;   /* a copy of something untracked (a pipe, the console) stays untracked */
    int saved_errno = errno;
    uint32_t fl = atomic_load_explicit(&src->flags, memory_order_relaxed) & ~(uint32_t)SCOPE_FD_STREAM;
    uint64_t chan = scope_new_life(fd, fl);
    uint64_t ticket;
    struct scope_rec *r;
    bool sock = fl & SCOPE_FD_SOCK;
    if (sock)
        scope_stream_reset(fd, from);   /* the same byte stream: its HTTP/2 frames where from's are */
    if ((sock ? scope_hot.rec_net : scope_hot.rec_open) &&
        (r = scope_rec_claim(sock ? SCOPE_REC_SOCK : SCOPE_REC_OPEN, fn, fd, &ticket))) {
        r->chan = chan;
        r->aux = sock ? (int32_t)fl : from;
        r->rbytes = sock ? (uint64_t)from + 1 : 0;   /* SOCK: a copy of the socket at from */
        r->wops = atomic_load_explicit(&src->chan, memory_order_relaxed);
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

/* Called before the real close: afterwards the number may already belong to another open. */
SCOPE_HOT void scope_fs_closing(enum scope_fn fn, int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c)
        return;
    if (SCOPE_UNLIKELY(atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_PENDING))
        scope_net_closing(fd);   /* a connect never settled: now, before the socket is gone */
    uint64_t chan = atomic_exchange_explicit(&c->chan, 0, memory_order_acq_rel);
    if (!chan)
        return;
    int saved_errno = errno;
    uint32_t fl = atomic_exchange_explicit(&c->flags, 0, memory_order_relaxed);
    bool sock = fl & SCOPE_FD_SOCK;
    uint64_t ticket;
    struct scope_rec *r;
    if ((sock ? scope_hot.rec_net : scope_hot.rec_open) &&
        (r = scope_rec_claim(sock ? SCOPE_REC_NCLOSE : SCOPE_REC_CLOSE, fn, fd, &ticket))) {
        r->chan = chan;
        r->rbytes = atomic_load_explicit(&c->rbytes, memory_order_relaxed);
        r->rops = atomic_load_explicit(&c->rops, memory_order_relaxed);
        r->wbytes = atomic_load_explicit(&c->wbytes, memory_order_relaxed);
        r->wops = atomic_load_explicit(&c->wops, memory_order_relaxed);
        r->aux = sock ? (int32_t)fl
                      : atomic_load_explicit(&c->rfn, memory_order_relaxed) |
                            atomic_load_explicit(&c->wfn, memory_order_relaxed) << 16;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

void scope_fs_path(enum scope_rec_kind kind, enum scope_fn fn, int dirfd, const char *path, int aux)
{
    if (!path)
        return;
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r = scope_rec_claim(kind, fn, -1, &ticket);
    if (r) {
        r->aux = aux;
        at_dir(&r->rbytes, &r->rops, dirfd);
        r->len = copy_path(r->data, path, SCOPE_REC_DATA);
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

void scope_fs_renamed(enum scope_fn fn, int fromdir, const char *from, int todir, const char *to)
{
    if (!from || !to)
        return;
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r = scope_rec_claim(SCOPE_REC_RENAME, fn, -1, &ticket);
    if (r) {
        at_dir(&r->rbytes, &r->rops, fromdir);
        at_dir(&r->wbytes, &r->wops, todir);
        uint32_t a = copy_path(r->data, from, SCOPE_REC_DATA / 2 - 1);
        r->data[a] = 0;
        r->len = a + 1 + copy_path(r->data + a + 1, to, SCOPE_REC_DATA - a - 1);
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

void scope_proc_exit(enum scope_fn fn, pid_t pid, int status)
{
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r = scope_rec_claim(SCOPE_REC_EXIT, fn, pid, &ticket);
    if (r) {
        r->aux = status;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

/* The lifetime fd is in now; 0 when untracked. */
void scope_fs_fd(enum scope_rec_kind kind, enum scope_fn fn, int fd)
{
    uint64_t chan = live_chan(fd);
    if (!chan)
        return;
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r = scope_rec_claim(kind, fn, fd, &ticket);
    if (r) {
        r->chan = chan;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

size_t scope_cwd_read(char *buf, size_t cap)
{
    /* The system call, not libc's getcwd: no buffer of its own, errno kept. It gives the length
     * with its NUL, or ERANGE when the name does not fit; "(unreachable)…" is no name. */
    int saved_errno = errno;
    long n = scope_real_syscall(SYS_getcwd, buf, cap);
    errno = saved_errno;
    size_t len = n > 1 && buf[0] == '/' ? (size_t)(n - 1) : 0;
    if (!len && cap)
        buf[0] = 0;
    return len;
}

void scope_cwd_changed(enum scope_fn fn)
{
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r = scope_rec_claim(SCOPE_REC_CWD, fn, -1, &ticket);
    if (r) {
        r->len = (uint32_t)scope_cwd_read(r->data, SCOPE_REC_DATA);
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

void scope_fs_io(enum scope_fn fn, int fd, bool wr, ssize_t n, uint64_t t0)
{
    uint64_t chan = live_chan(fd);
    if (!chan || n < 0)
        return;
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r = scope_rec_claim(SCOPE_REC_IO, fn, fd, &ticket);
    if (r) {
        r->chan = chan;
        r->aux = wr;
        *(wr ? &r->wbytes : &r->rbytes) = (uint64_t)n;
        r->rops = t0 ? scope_mono_ns() - t0 : 0;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

__attribute__((cold, noinline)) void scope_fs_rare(enum scope_fn fn, int fd, bool wr, ssize_t n, bool bad,
                                                  int err, uint64_t t0)
{
    if (bad)
        scope_fail(fn, fd, -1, NULL, err);
    else if (scope_hot.rec_io && n >= 0)
        scope_fs_io(fn, fd, wr, n, t0);
}

void scope_fail(enum scope_fn fn, int fd, int dirfd, const char *path, int err)
{
    if (err == EAGAIN || err == EINTR || err == EINPROGRESS)
        return;
    scope_fail_any(fn, fd, dirfd, path, err);
}

void scope_fail_any(enum scope_fn fn, int fd, int dirfd, const char *path, int err)
{
    if (!scope_hot.ev_error)
        return;
    int saved_errno = errno;
    uint64_t ticket;
    struct scope_rec *r = scope_rec_claim(SCOPE_REC_ERROR, fn, fd, &ticket);
    if (r) {
        r->aux = err;
        r->chan = live_chan(fd);
        at_dir(&r->rbytes, &r->rops, dirfd);
        r->len = path ? copy_path(r->data, path, SCOPE_REC_DATA) : 0;
        scope_ring_publish(ticket);
    }
    errno = saved_errno;
}

/* A forked child has its parent's descriptors: each one tracked gets a lifetime of the child's
 * own (its channel from the child's base, counters from zero, its watch kept) and, for a file,
 * an OPEN record made by "fork" with the name the kernel gives it now, from which the reporter
 * learns it without an fs.open event (the child opened nothing). Sockets keep their class; the
 * child reports their bytes, not their ends. Runs in the atfork child handler, one thread. */
void scope_fs_inherit(void)
{
    int top = scope_fd_top();
    for (int fd = 0; fd <= top; fd++) {
        struct scope_fdc *c = scope_fdc(fd);
        if (!c || !atomic_load_explicit(&c->chan, memory_order_relaxed))
            continue;
        uint32_t fl = atomic_load_explicit(&c->flags, memory_order_relaxed);
        bool sock = fl & SCOPE_FD_SOCK;
        fl &= sock ? (uint32_t)(SCOPE_FD_SOCK | SCOPE_FD_DGRAM | SCOPE_FD_LISTEN |
                                SCOPE_FD_CLASS_BITS(7))
                   : (uint32_t)(SCOPE_FD_TEXT | SCOPE_FD_TEXT_MAYBE | SCOPE_FD_STREAM | SCOPE_FD_CONSOLE);
        uint64_t chan = scope_new_life(fd, fl);
        if (sock)
            scope_stream_reset(fd, -1);   /* the parent's place in its frames is not the child's */
        uint64_t ticket;
        struct scope_rec *r;
        if (!(sock ? scope_hot.rec_net : scope_hot.rec_open) ||
            !(r = scope_rec_claim(sock ? SCOPE_REC_SOCK : SCOPE_REC_OPEN, SCOPE_FN_fork, fd, &ticket)))
            continue;
        r->chan = chan;
        if (sock) {
            r->aux = (int32_t)fl;
        } else {
            r->aux = SCOPE_OPEN_HAD;
            r->len = scope_fd_name(fd, r->data, SCOPE_REC_DATA) ? (uint32_t)strlen(r->data) : 0;
        }
        scope_ring_publish(ticket);
    }
}
