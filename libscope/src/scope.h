/* scope.h — what the parts of libscope share: the function table ids, the real-function pointers,
 * the thread guard, the binary record and the global state the hot path reads. */
#ifndef SCOPE_H
#define SCOPE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SCOPE_API __attribute__((visibility("default")))
#define SCOPE_LIKELY(x) __builtin_expect(!!(x), 1)
#define SCOPE_UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifndef SCOPE_VERSION
#define SCOPE_VERSION "0.1.0"
#endif

enum scope_fn {
#define SCOPE_FN(ret, name, params, cat) SCOPE_FN_##name,
#include "interpose.def"
#undef SCOPE_FN
    SCOPE_FN_COUNT
};

#define SCOPE_FN(ret, name, params, cat) extern ret(*scope_real_##name) params;
#include "interpose.def"
#undef SCOPE_FN

/* One entry per interposed function: what a GOT patcher needs to redirect and restore it. */
struct scope_hook {
    const char *name;
    const char *category;
    void *wrapper;
    void **real;
};
extern const struct scope_hook scope_hooks[SCOPE_FN_COUNT];

/* Resolves every real pointer once; true when the one asked for is usable. */
bool scope_resolve(enum scope_fn fn);

/* Fails the wrapper with ENOSYS when libc lacks the function (or dlsym handed back our own). */
#define SCOPE_NEED_REAL(name, failret)                                                        \
    do {                                                                                      \
        if (SCOPE_UNLIKELY(!scope_real_##name) && !scope_resolve(SCOPE_FN_##name)) {          \
            errno = ENOSYS;                                                                   \
            return failret;                                                                   \
        }                                                                                     \
    } while (0)

/* Set while a thread runs our code (or a real call we made): libc calling an interposed symbol
 * from inside itself, or our own I/O, must not be counted twice. The reporting thread keeps it set
 * for its whole life. initial-exec so reading it never calls into the TLS allocator. */
extern __thread int scope_guard __attribute__((tls_model("initial-exec")));

/* The fixed-size binary record the hot path hands to the reporting thread. */
enum scope_rec_kind { SCOPE_REC_OPEN = 1, SCOPE_REC_CLOSE, SCOPE_REC_CONSOLE };
#define SCOPE_SLOT_SIZE 512
#define SCOPE_REC_HDR 64
#define SCOPE_REC_DATA (SCOPE_SLOT_SIZE - SCOPE_REC_HDR)
struct scope_rec {
    uint16_t kind;
    uint16_t fn;
    int32_t fd;
    uint32_t len;   /* bytes used in data */
    uint32_t pad;
    uint64_t chan;  /* descriptor lifetime id, 0 when none */
    uint64_t t_ns;  /* CLOCK_REALTIME */
    uint64_t rbytes, rops, wbytes, wops;
    char data[SCOPE_REC_DATA];
};
_Static_assert(sizeof(struct scope_rec) == SCOPE_SLOT_SIZE, "record must fill one slot");

/* ring.c: bounded lock-free multi-producer single-consumer queue of records. */
bool scope_ring_init(size_t want);
struct scope_rec *scope_ring_claim(uint64_t *ticket); /* NULL when full (counted as a drop) */
void scope_ring_publish(uint64_t ticket);
struct scope_rec *scope_ring_peek(void);               /* consumer only */
void scope_ring_release(void);                         /* consumer only */
void scope_ring_reset(void);                           /* forked child, single-threaded */
size_t scope_ring_capacity(void);
extern _Atomic uint64_t scope_drops;

/* fdtab.c: atomic per-descriptor counters, indexed by fd; fds beyond the table are untracked. */
struct scope_fdc {
    _Atomic uint64_t chan, rbytes, rops, wbytes, wops;
};
extern struct scope_fdc *scope_fdtab;
extern int scope_fdtab_len;
bool scope_fdtab_init(void);
void scope_fdtab_reset(void);
static inline struct scope_fdc *scope_fdc(int fd)
{
    return (fd >= 0 && fd < scope_fdtab_len) ? &scope_fdtab[fd] : NULL;
}
static inline void scope_count(int fd, bool wr, ssize_t n)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!c || n < 0)
        return;
    atomic_fetch_add_explicit(wr ? &c->wbytes : &c->rbytes, (uint64_t)n, memory_order_relaxed);
    atomic_fetch_add_explicit(wr ? &c->wops : &c->rops, 1, memory_order_relaxed);
}

/* What the hot path needs to know, fixed at init (and after fork). */
struct scope_hot {
    _Atomic int active;    /* records are produced at all */
    bool ev_fs, ev_console;
    _Atomic uint64_t next_chan;
};
extern struct scope_hot scope_hot;

/* init.c: scope_ready is 1 once the library runs; anything else sends a wrapper to the slow path
 * (first call before our constructor, or a forked child whose reporting thread is not yet back). */
extern _Atomic int scope_ready;
void scope_init_slow(void);
static inline void scope_ensure_init(void)
{
    if (SCOPE_UNLIKELY(atomic_load_explicit(&scope_ready, memory_order_acquire) != 1))
        scope_init_slow();
}
void scope_after_fork_child(void);
void scope_flush(bool final, int timeout_ms);
pid_t scope_pid(void);

/* Enter our code from a wrapper: false means "just call the real function". */
static inline bool scope_enter(void)
{
    if (scope_guard)
        return false;
    scope_ensure_init();
    if (!atomic_load_explicit(&scope_hot.active, memory_order_relaxed))
        return false;
    scope_guard = 1;
    return true;
}
static inline void scope_leave(void) { scope_guard = 0; }

uint64_t scope_now_ns(void);

/* wrap_fs.c helpers shared with the console wrappers */
void scope_fs_opened(enum scope_fn fn, int fd, const char *path);
void scope_fs_closing(enum scope_fn fn, int fd);
/* wrap_console.c */
void scope_console(int fd, const void *buf, size_t n);

/* wrap_proc.c */
void scope_exec_prepare(void);

#endif
