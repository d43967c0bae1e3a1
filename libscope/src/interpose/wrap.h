/* wrap.h — the shape every fs wrapper shares: resolve the real function, step aside when we are
 * already inside our own code (or not running), account the call around the real one. */
#ifndef SCOPE_WRAP_H
#define SCOPE_WRAP_H
#include "scope.h"

/* Opens a wrapper body: afterwards `sc_` is the call being accounted and the guard is held. */
#define WRAP_BEGIN(name, failret, call)                                                       \
    SCOPE_NEED_REAL(name, failret);                                                           \
    if (!scope_enter())                                                                       \
        return scope_real_##name call;                                                        \
    struct scope_call sc_;                                                                    \
    scope_call_begin(&sc_, SCOPE_FN_##name)

/* A failure the app would call one (not "try again"). */
static inline bool scope_failed(bool bad, int err)
{
    return bad && err != EAGAIN && err != EINTR && err != EINPROGRESS;
}

/* Whether a descriptor's entry says socket (its bytes are then net.*, not fs.*). */
static inline bool scope_fdc_sock(const struct scope_fdc *c)
{
    return c && SCOPE_UNLIKELY(atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_SOCK);
}
static inline bool scope_is_sock(int fd) { return scope_fdc_sock(scope_fdc(fd)); }

/* The end of a read or write on a descriptor that is not a socket (c: its entry, or NULL): bytes
 * on the function, on the descriptor when its close is recorded (fs.close's counts: the only
 * reader of them), an error record when it failed, the call itself at verbosity 9. n < 0: no bytes
 * to count. */
static inline __attribute__((always_inline)) void scope_fs_end(struct scope_call *sc, struct scope_fdc *c,
                                                               int fd, bool wr, ssize_t n, bool bad, int err)
{
    if (scope_hot.rec_open)
        scope_count_fdc(c, wr, n, sc->fn);
    scope_call_end(sc, n, scope_failed(bad, err));
    if (SCOPE_UNLIKELY(bad || scope_hot.rec_io))
        scope_fs_rare(sc->fn, fd, wr, n, bad, err, sc->t0);
}

static inline void scope_io_end(struct scope_call *sc, int fd, bool wr, ssize_t n, bool bad, int err)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (scope_fdc_sock(c))   /* a stream (fdopen) on a socket: net bytes, not fs */
        scope_net_io(sc->fn, fd, wr, bad ? -1 : n, err, NULL, NULL, 0, NULL, 0, 0);
    else
        scope_fs_end(sc, c, fd, wr, n, bad, err);
}

/* fileno for accounting: never changes errno, -1 for a stream without a descriptor. */
static inline int scope_fileno(FILE *fp)
{
    if (!fp)
        return -1;
    int saved_errno = errno, fd = fileno_unlocked(fp);
    errno = saved_errno;
    return fd;
}

/* dirfd for accounting; a NULL stream (which glibc answers with EINVAL) has none. Not inline: the
 * callers' parameters are declared nonnull, so the test would be optimised away there. */
int scope_dirfd(DIR *dir);

/* Text going to a descriptor that wants it (console, log file). */
static inline void scope_text_if(int fd, const void *buf, ssize_t n, int flags)
{
    if (n > 0 && SCOPE_UNLIKELY(scope_wants_text(fd)))
        scope_text(fd, buf, (size_t)n, flags);
}
#endif
