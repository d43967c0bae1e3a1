/* scope.h — what the parts of libscope share: the libc layer (libc/libc.h: the function table
 * ids, the real-function pointers, the thread guard), the hook table, the binary record and the
 * global state the hot path reads. */
#ifndef SCOPE_H
#define SCOPE_H

#include "libc/libc.h"

#define SCOPE_API __attribute__((visibility("default")))
#define SCOPE_HIDDEN __attribute__((visibility("hidden")))
#define SCOPE_LIKELY(x) __builtin_expect(!!(x), 1)
#define SCOPE_UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifndef SCOPE_VERSION
#define SCOPE_VERSION "dev" /* the build defines it from package.json (CMakeLists.txt) */
#endif

/* interpose/hooks.c: one entry per interposed function, what a GOT patcher needs to redirect and
 * restore it: the name, our wrapper, and the libc layer's pointer to the real function. */
struct scope_hook {
    const char *name;
    const char *category;
    void *wrapper;
    void **real;
};
extern const struct scope_hook scope_hooks[SCOPE_FN_COUNT];

/* Our own wrapper for fn, as our symbol table defines it. Not &name: loaded by dlopen, behind
 * libc, our own references to an exported name are bound to libc's definition. */
void *scope_wrapper_addr(enum scope_fn fn);
/* The main program's own definition of name (its dynamic symbol table), or NULL: node defines
 * OpenSSL's functions in its executable (wrap_tls.c hooks them at their entry). */
void *scope_exe_symbol(const char *name);
/* interpose/wrap_tls.c: OpenSSL's functions defined in the executable hooked at their entry. */
void scope_tls_entry_hooks(void);
void scope_tls_entry_unhook(void);
void scope_jvm_prepare(void);
/* Logs the functions libc lacks (once the log destination exists). */
void scope_log_missing(void);

/* Fails the wrapper with ENOSYS when libc lacks the function (or dlsym handed back our own).
 * SCOPE_SANITIZER_START: below, with scope_ensure_init. */
#define SCOPE_NEED_REAL(name, failret)                                                        \
    do {                                                                                      \
        if (SCOPE_UNLIKELY(!scope_real_##name) &&                                             \
            (SCOPE_SANITIZER_START(), !scope_resolve(SCOPE_FN_##name))) {                     \
            errno = ENOSYS;                                                                   \
            return failret;                                                                   \
        }                                                                                     \
    } while (0)

/* The visibility of each category's wrappers: every one is exported (LD_PRELOAD interposes it),
 * but the loader's (wrap_dl.c), which only GOT patching reaches (why: wrap_dl.c). */
#define SCOPE_VIS_open SCOPE_API
#define SCOPE_VIS_close SCOPE_API
#define SCOPE_VIS_read SCOPE_API
#define SCOPE_VIS_write SCOPE_API
#define SCOPE_VIS_seek SCOPE_API
#define SCOPE_VIS_stat SCOPE_API
#define SCOPE_VIS_ns SCOPE_API
#define SCOPE_VIS_proc SCOPE_API
#define SCOPE_VIS_net SCOPE_API
#define SCOPE_VIS_recv SCOPE_API
#define SCOPE_VIS_send SCOPE_API
#define SCOPE_VIS_dns SCOPE_API
#define SCOPE_VIS_tls SCOPE_API
#define SCOPE_VIS_dl SCOPE_HIDDEN

/* The fixed-size binary record the hot path hands to the reporting thread. What the fields hold
 * per kind:
 *   OPEN     fd made by fn; data = the path given (none for dup/fcntl: aux = the source fd);
 *            rbytes = dirfd + 1 for *at calls (0: relative to the cwd), rops = that directory
 *            descriptor's lifetime (chan) at the call, 0 when untracked; aux = SCOPE_OPEN_HAD:
 *            a descriptor the process already had when libscope started (its name, no fs.open)
 *   CLOSE    fd closed by fn; the counters its life saw
 *   CONSOLE  text written to fd 1/2; TEXT text written to the log file open as fd (chan);
 *            aux = SCOPE_TEXT_* flags
 *   DELETE / MKDIR / STAT  data = the path; rbytes = dirfd + 1, rops = its chan; MKDIR: aux = mode
 *   RENAME   data = from \0 to; rbytes / wbytes = fromdir + 1 / todir + 1, rops / wops their chans
 *   ERROR    fn failed with errno aux; fd (-1 when the call had a path, given in data; then
 *            rbytes = dirfd + 1, rops = its chan, as for DELETE)
 *   SEEK     fd (at verbosity ≥ 8);  IO  one read or write: fd, rbytes or wbytes, aux = 1 for a
 *            write, rops = ns taken (at verbosity 9)
 *   SOCK     a socket made by fn (socket, socketpair): aux = the fd flags (class, datagram)
 *   CONN     the socket's two ends became known (connect, accept, the first datagram, listen,
 *            bind): data = scope_net_addrs; aux = the fd flags
 *   NCLOSE   a socket closed: the counters of its life; aux = the fd flags (EOF: the peer closed)
 *   DATA     bytes a socket call moved (or TLS plaintext), in pieces of one record each: aux =
 *            SCOPE_DATA_* flags; rbytes = bytes the call moved, rops = offset of this piece,
 *            wbytes = bytes copied of the call in all, wops = the call's id (the same in all
 *            its pieces: two threads' pieces may interleave); data = [address][bytes]
 *   DNS      a resolver call: data = name NUL then addresses (family byte, 4 or 16 bytes); aux =
 *            its error (0: resolved); rbytes = ns it took
 *   NOTICE   a blind spot (elfkind.c): data = the notice's message
 *   CWD      the working directory changed (chdir, fchdir): data = the new one; len 0 when it
 *            did not fit in data (or has no name), then the reporter asks the kernel (late)
 *   EXIT     a child ended and fn (wait, waitpid, wait3, wait4, waitid) reaped it: fd = its pid,
 *            aux = its wait status (WIFEXITED, WEXITSTATUS, WTERMSIG, WCOREDUMP read it)
 */
enum scope_rec_kind { SCOPE_REC_OPEN = 1, SCOPE_REC_CLOSE, SCOPE_REC_CONSOLE, SCOPE_REC_TEXT,
                      SCOPE_REC_DELETE, SCOPE_REC_RENAME, SCOPE_REC_MKDIR, SCOPE_REC_ERROR,
                      SCOPE_REC_STAT, SCOPE_REC_SEEK, SCOPE_REC_IO, SCOPE_REC_SOCK,
                      SCOPE_REC_CONN, SCOPE_REC_NCLOSE, SCOPE_REC_DATA, SCOPE_REC_DNS,
                      SCOPE_REC_NOTICE, SCOPE_REC_CWD, SCOPE_REC_EXIT };
enum { SCOPE_DATA_TX = 1,      /* written by the app (else read) */
       SCOPE_DATA_TLS = 2,     /* plaintext of a TLS library call */
       SCOPE_DATA_FIRST = 4,   /* the first piece of its call */
       SCOPE_DATA_LAST = 8,    /* the last piece of its call */
       SCOPE_DATA_ADDR = 16 }; /* data starts with the datagram's peer: a length byte, a sockaddr */
enum { SCOPE_TEXT_STDIO = 1, SCOPE_TEXT_MORE = 2 };
#define SCOPE_OPEN_HAD (-1)
#define SCOPE_SLOT_SIZE 512
#define SCOPE_REC_HDR 64
#define SCOPE_REC_DATA (SCOPE_SLOT_SIZE - SCOPE_REC_HDR)
struct scope_rec {
    uint16_t kind;
    uint16_t fn;
    int32_t fd;
    uint32_t len;   /* bytes used in data */
    int32_t aux;
    uint64_t chan;  /* descriptor lifetime id, 0 when none */
    uint64_t t_ns;  /* when made: a stamp (libc.h, scope_stamp); CLOCK_REALTIME ns once drained */
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
/* Consumer only: the ticket of the record at the head (the one being reported); and the next ticket
 * producers will claim (every record below it was claimed, i.e. its call had returned). */
uint64_t scope_ring_head_ticket(void);
uint64_t scope_ring_tail_ticket(void);
extern _Atomic uint64_t scope_drops;

/* fdtab.c: per-descriptor state, indexed by fd; fds beyond the table are untracked. */
enum { SCOPE_FD_TEXT_MAYBE = 1,   /* written text is copied until the reporter decides */
       SCOPE_FD_TEXT = 2,         /* a log file: written text is copied */
       SCOPE_FD_STREAM = 4,       /* opened by fopen/freopen (fcloseall ends it) */
       SCOPE_FD_SOCK = 8,         /* a socket: its bytes are net.rx/net.tx, not fs */
       SCOPE_FD_COPY = 16,        /* the start of each call's bytes is copied (protocol detection) */
       SCOPE_FD_TLSCOPY = 32,     /* … and of the TLS plaintext on it */
       SCOPE_FD_ALL = 64,         /* every byte is copied (payloads, HTTP/2) */
       SCOPE_FD_TLSALL = 2048,    /* every byte of the TLS plaintext is copied */
       SCOPE_FD_EOF = 128,        /* a read saw the peer's end */
       SCOPE_FD_DGRAM = 256,      /* datagrams: each call may have its own peer */
       SCOPE_FD_CONN = 512,       /* its CONN record was made */
       SCOPE_FD_LISTEN = 1024,    /* listening (not a connection) */
       SCOPE_FD_H2 = 4096,        /* HTTP/2: frame headers and header blocks are copied (netcopy.c) */
       SCOPE_FD_TLSH2 = 8192,     /* … in the TLS plaintext */
       SCOPE_FD_NOH2 = 16384,     /* known not HTTP/2: its frames are not followed */
       SCOPE_FD_TLSNOH2 = 32768,  /* … in the TLS plaintext */
       SCOPE_FD_PENDING = 1 << 19,   /* a connect under way: neither connected nor failed yet */
       SCOPE_FD_CONSOLE = 1 << 20 }; /* fd 1 or 2 made to name a terminal, pipe or device: console */
/* The socket's class (AppScope's inet_tcp …) in bits 16-18 of the flags. */
enum scope_netclass { SCOPE_NC_INET_TCP, SCOPE_NC_INET_UDP, SCOPE_NC_UNIX_TCP, SCOPE_NC_UNIX_UDP,
                      SCOPE_NC_OTHER, SCOPE_NC_COUNT };
#define SCOPE_FD_CLASS(f) ((int)(((f) >> 16) & 7))
#define SCOPE_FD_CLASS_BITS(c) ((uint32_t)(c) << 16)
struct scope_fdc {
    _Atomic uint64_t chan, rbytes, rops, wbytes, wops;
    _Atomic uint32_t flags;
    _Atomic uint16_t rfn, wfn;    /* the last read / write function used on it */
};
extern struct scope_fdc *scope_fdtab;
extern int scope_fdtab_len;
extern _Atomic int scope_fd_hwm;   /* highest fd ever tracked */
static inline int scope_fd_top(void) { return atomic_load_explicit(&scope_fd_hwm, memory_order_relaxed); }
bool scope_fdtab_init(void);
void scope_fdtab_reset(void);
static inline struct scope_fdc *scope_fdc(int fd)
{
    return (fd >= 0 && fd < scope_fdtab_len) ? &scope_fdtab[fd] : NULL;
}
/* The bytes and op of one read or write on a descriptor's counters (c: its entry, or NULL). */
static inline void scope_count_fdc(struct scope_fdc *c, bool wr, ssize_t n, enum scope_fn fn)
{
    if (!c || n < 0)
        return;
    atomic_fetch_add_explicit(wr ? &c->wbytes : &c->rbytes, (uint64_t)n, memory_order_relaxed);
    atomic_fetch_add_explicit(wr ? &c->wops : &c->rops, 1, memory_order_relaxed);
    atomic_store_explicit(wr ? &c->wfn : &c->rfn, (uint16_t)fn, memory_order_relaxed);
}
static inline void scope_count(int fd, bool wr, ssize_t n, enum scope_fn fn)
{
    scope_count_fdc(scope_fdc(fd), wr, n, fn);
}

/* What the hot path needs to know, fixed at init (and after fork). */
struct scope_hot {
    _Atomic int active;    /* records are produced at all */
    bool ev_fs, ev_console, ev_file;
    bool ev_error;          /* fs.error events, or per-call fs.error metrics */
    bool met_fs;            /* per-function counters */
    bool rec_open;          /* OPEN/CLOSE records (events, or per-call metrics at verbosity ≥ 6) */
    bool rec_stat, rec_seek, rec_io;  /* per-call metrics at verbosity 7, 8, 9 */
    bool log_default;       /* the log-file pattern is the default one, tested on the hot path */
    bool rec_net;           /* socket lifetimes are recorded (net events or metrics) */
    bool met_net;           /* net.rx / net.tx counters */
    bool copy;              /* stream bytes are copied for HTTP detection or payloads */
    bool payload;           /* every byte is copied (payload files) */
    bool rec_dns;           /* resolver calls and DNS packets are recorded */
    bool statsd;            /* datagrams the app sends to StatsD on loopback are copied (relayed) */
    uint16_t dns_port[8];   /* datagrams to or from these ports are DNS (SCOPE_DNS_PORTS) */
    int ndns_port;
    _Atomic uint64_t next_chan;
};
extern struct scope_hot scope_hot;

/* init.c: scope_ready is 1 once the library runs; anything else sends a wrapper to the slow path
 * (first call before our constructor, or a forked child whose reporting thread is not yet back). */
extern _Atomic int scope_ready;
void scope_init_slow(void);
/* The sanitized build (SCOPE_SANITIZED, npm run test:sanitize; sanitized.c): a wrapper called
 * from a library's constructor before the ASan runtime started (its shadow memory missing) starts
 * it before entering instrumented code. The wrappers themselves are built without address checks
 * there (CMakeLists.txt). */
#ifdef SCOPE_SANITIZED
void __asan_init(void);
void scope_sanitized_start(void);
bool scope_asan_shadow_mapped(void);
/* Started when its shadow memory is not there yet. Once it is (the runtime started, or is
 * starting and calls a wrapper itself, sigaction), instrumented code can run. */
static inline void scope_sanitizer_start(void)
{
    if (scope_asan_shadow_mapped())
        return;
    int guard = scope_guard;
    scope_guard = 1;
    __asan_init();
    scope_guard = guard;
}
#define SCOPE_SANITIZER_START() scope_sanitizer_start()
#else
static inline void scope_sanitized_start(void) {}
#define SCOPE_SANITIZER_START() ((void)0)
#endif
static inline void scope_ensure_init(void)
{
    if (SCOPE_UNLIKELY(atomic_load_explicit(&scope_ready, memory_order_acquire) != 1)) {
        SCOPE_SANITIZER_START();
        scope_init_slow();
    }
}
void scope_after_fork_child(void);
void scope_flush(bool final, int timeout_ms);

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

/* A forked child leaves the parent's tables (maybe mid-update) behind on purpose, unfreed. The
 * sanitized build (npm run test:sanitize) tells LeakSanitizer so: p and what it points to are
 * not reported. */
#ifdef SCOPE_SANITIZED
void __lsan_ignore_object(const void *p);
static inline void scope_left_behind(const void *p)
{
    if (p)
        __lsan_ignore_object(p);
}
#else
static inline void scope_left_behind(const void *p) { (void)p; }
#endif


/* Per-thread counters per function (stats.c): no cache line is shared between the app's threads,
 * so counting costs a thread what an uncontended add costs. Slots outlive their thread and are
 * reused, since only the totals over all slots matter. Only its thread writes a slot, and a signal
 * handler interrupting it finds the guard set and is not counted, so a plain load and store is an
 * exact add there (no locked instruction). Durations are sampled: the first call of a function in
 * a thread and every 64th after it are timed. dur_max is the longest timed call since the reporter
 * last took it (scope_stats_take_max), for the summaries' max. */
struct scope_fnstat {
    _Atomic uint64_t ops, bytes, errs, dur_ns, dur_n, dur_max;
};
struct scope_netio {
    _Atomic uint64_t bytes, ops;
};
enum { SCOPE_NETERR_CONN, SCOPE_NETERR_RXTX, SCOPE_NETERR_DNS, SCOPE_NETERR_COUNT };
struct scope_tstat {
    _Atomic int owner;
    bool shared;   /* the overflow slot, written by many threads: atomic adds */
    struct scope_fnstat fn[SCOPE_FN_COUNT];
    struct scope_netio net[SCOPE_NC_COUNT][2][2];   /* [class][clear, ssl][rx, tx] */
    _Atomic uint64_t neterr[SCOPE_NETERR_COUNT];
};
extern __thread struct scope_tstat *scope_my_stat __attribute__((tls_model("initial-exec")));
struct scope_tstat *scope_stat_claim(void);
uint64_t scope_mono_ns(void);

/* One interposed call being accounted: begun after scope_enter, ended after the real call. */
struct scope_call {
    struct scope_fnstat *st;
    uint64_t t0;
    enum scope_fn fn;
    bool shared;
};
static inline void scope_add(_Atomic uint64_t *p, uint64_t v, bool shared)
{
    if (SCOPE_UNLIKELY(shared))
        atomic_fetch_add_explicit(p, v, memory_order_relaxed);
    else
        atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + v,
                              memory_order_relaxed);
}
/* Raise *p to v; only the timed (1 in 64) calls get here. */
static inline void scope_raise(_Atomic uint64_t *p, uint64_t v, bool shared)
{
    uint64_t cur = atomic_load_explicit(p, memory_order_relaxed);
    if (SCOPE_UNLIKELY(shared)) {
        while (v > cur && !atomic_compare_exchange_weak_explicit(p, &cur, v, memory_order_relaxed,
                                                                 memory_order_relaxed))
            ;
    } else if (v > cur) {
        /* The reporter may have taken the old value since the load: v then counts in the next
         * period, which is where the reporter would have put it a moment later anyway. */
        atomic_store_explicit(p, v, memory_order_relaxed);
    }
}
static inline __attribute__((always_inline)) void scope_call_begin(struct scope_call *c, enum scope_fn fn)
{
    c->fn = fn;
    c->st = NULL;
    c->t0 = 0;
    c->shared = false;
    if (scope_hot.met_fs) {
        struct scope_tstat *s = scope_my_stat;
        if (SCOPE_UNLIKELY(!s))
            s = scope_stat_claim();
        c->st = &s->fn[fn];
        c->shared = s->shared;
        if ((atomic_load_explicit(&c->st->ops, memory_order_relaxed) & 63) == 0 || scope_hot.rec_io)
            c->t0 = scope_mono_ns();
    }
}
/* bytes < 0: none to count. Failed calls are counted as errors (and reported by scope_fail). */
static inline __attribute__((always_inline)) void scope_call_end(struct scope_call *c, ssize_t bytes, bool failed)
{
    struct scope_fnstat *st = c->st;
    if (!st)
        return;
    if (SCOPE_UNLIKELY(c->t0)) {
        uint64_t d = scope_mono_ns() - c->t0;
        scope_add(&st->dur_ns, d, c->shared);
        scope_add(&st->dur_n, 1, c->shared);
        scope_raise(&st->dur_max, d, c->shared);
    }
    scope_add(&st->ops, 1, c->shared);
    if (bytes > 0)
        scope_add(&st->bytes, (uint64_t)bytes, c->shared);
    if (SCOPE_UNLIKELY(failed))
        scope_add(&st->errs, 1, c->shared);
}

/* record.c: the slow parts of the wrappers, each one ring record. All keep errno. */
struct scope_rec *scope_rec_claim(enum scope_rec_kind kind, enum scope_fn fn, int fd, uint64_t *ticket);
/* Proxy reporting (interpose/proxy.c): the wall-clock ns of the call being handed over, which its
 * records carry instead of the time they are made; 0 otherwise. */
extern __thread uint64_t scope_rec_time;
struct scope_rec *scope_rec_claim_at(enum scope_rec_kind kind, enum scope_fn fn, int fd, uint64_t *ticket,
                                     uint64_t t_ns);
/* A new lifetime for fd with these flags; returns its channel id. */
uint64_t scope_new_life(int fd, uint32_t flags);
void scope_fs_opened(enum scope_fn fn, int fd, int dirfd, const char *path, int flags);
/* A file fd already named when libscope started (path: its name, flags: its access mode). */
void scope_fs_had(enum scope_fn fn, int fd, const char *path, int flags);
void scope_fs_duped(enum scope_fn fn, int fd, int from);
void scope_fs_closing(enum scope_fn fn, int fd);
/* A forked child: its inherited descriptors become its own (atfork child handler). */
void scope_fs_inherit(void);
void scope_fs_path(enum scope_rec_kind kind, enum scope_fn fn, int dirfd, const char *path,
                   int aux);
void scope_fs_renamed(enum scope_fn fn, int fromdir, const char *from, int todir, const char *to);
/* A child reaped by fn: an EXIT record of its pid and wait status. Async-signal-safe, errno kept. */
void scope_proc_exit(enum scope_fn fn, pid_t pid, int status);
void scope_fs_fd(enum scope_rec_kind kind, enum scope_fn fn, int fd);
/* The working directory's absolute name into buf (NUL-terminated), its length; 0 (and "") when
 * it does not fit or has no name. Async-signal-safe, errno kept. */
size_t scope_cwd_read(char *buf, size_t cap);
/* After a chdir or fchdir that worked: a CWD record naming the new working directory. */
void scope_cwd_changed(enum scope_fn fn);
void scope_fs_io(enum scope_fn fn, int fd, bool wr, ssize_t n, uint64_t t0);
/* The rare ends of a read or write on a file (wrap.h's scope_fs_end): the failure's record, or the
 * call's own record at verbosity 9. Out of line and cold, so the common path keeps no frame. */
void scope_fs_rare(enum scope_fn fn, int fd, bool wr, ssize_t n, bool bad, int err, uint64_t t0);
/* A failure worth reporting (not EAGAIN/EINTR): an fs.error record. */
void scope_fail(enum scope_fn fn, int fd, int dirfd, const char *path, int err);
/* fdstd.c: what descriptors 0, 1 and 2 are. At start: a regular file there becomes a lifetime
 * of its own (its name, bytes, log-file text). After a dup or open landed on one: the same for an
 * untracked source, SCOPE_FD_CONSOLE for a tracked one that is not a regular file. */
void scope_std_start(void);
void scope_std_landed(enum scope_fn fn, int fd);
uint32_t scope_std_kind(int fd);   /* SCOPE_FD_CONSOLE when fd is 1/2 and not a regular file */
/* The kernel's name for fd ("/tmp/#123 (deleted)" for an unnamed file); false when it has none. */
bool scope_fd_name(int fd, char *out, size_t cap);
/* "/proc/self/fd/<fd>": how the reporting thread, with a table of its own, reaches the app's fd. */
void scope_fd_link(char link[32], int fd);
/* Whether text written to 1 or 2 with these flags and lifetime is console text: it is unless a
 * regular file was put there (the app opened one, or the process started with one). */
static inline bool scope_std_console(uint32_t f, uint64_t chan)
{
    return !chan || (f & (SCOPE_FD_CONSOLE | SCOPE_FD_SOCK));
}

/* The same for any errno (a connect's EAGAIN or EINPROGRESS is its failure). */
void scope_fail_any(enum scope_fn fn, int fd, int dirfd, const char *path, int err);
/* capture.c: text written to fd: console events for 1/2, file events for a log file. */
void scope_text(int fd, const void *buf, size_t n, int textflags);
static inline bool scope_wants_text(int fd)
{
    if (fd == 1 || fd == 2) {
        if (!scope_hot.ev_console)
            return false;
    } else if (!scope_hot.ev_file) {
        return false;
    }
    struct scope_fdc *c = scope_fdc(fd);
    uint32_t f = c ? atomic_load_explicit(&c->flags, memory_order_relaxed) : 0;
    uint64_t chan = c ? atomic_load_explicit(&c->chan, memory_order_relaxed) : 0;
    if (fd == 1 || fd == 2)
        return scope_std_console(f, chan) || (f & (SCOPE_FD_TEXT | SCOPE_FD_TEXT_MAYBE));
    return chan && (f & (SCOPE_FD_TEXT | SCOPE_FD_TEXT_MAYBE));
}
/* Whether a path looks like a log file by the default pattern (see capture.c). */
bool scope_log_path(const char *path);

static inline bool scope_dns_port(unsigned port)
{
    for (int i = 0; i < scope_hot.ndns_port; i++)
        if (scope_hot.dns_port[i] == port)
            return true;
    return false;
}

/* The statsd metric watch: datagrams the app sends to this port on a loopback address are its
 * own StatsD metrics, relayed through our metric destination (statsd.c). AppScope's port. */
#define SCOPE_STATSD_PORT 8125

/* netrec.c: the slow parts of the socket, TLS and resolver wrappers (same rules as record.c). */
#define SCOPE_COPY_HEAD 4096      /* bytes of a call copied for protocol detection */
#define SCOPE_COPY_ALL 65536      /* bytes of a call copied at most when every byte is wanted */
/* netcopy.c: the bytes of a stream socket call (layer 0) or of TLS plaintext (layer 1) the
 * parsers want, copied into the ring; HTTP/2 frames followed per fd, layer and direction. */
extern _Atomic uint64_t (*scope_h2trk)[4];
void scope_stream_copy(enum scope_fn fn, int fd, uint64_t chan, int layer, bool tx, const void *buf,
                       const struct iovec *iov, int iovcnt, size_t total);
/* Copies n bytes at offset off of buf, or of the iov array, into dst. */
void scope_take(char *dst, const void *buf, const struct iovec *iov, int iovcnt, size_t off, size_t n);
/* A new socket lifetime on fd: its frame walkers start afresh (from < 0) or as from's (a dup). */
void scope_stream_reset(int fd, int from);
void scope_net_socket(enum scope_fn fn, int fd, int domain, int type);
void scope_net_accepted(enum scope_fn fn, int lfd, int fd, const struct sockaddr *peer, socklen_t plen);
/* connect returned r (err): connected, under way (an outcome later: from getsockopt(SO_ERROR),
 * the first I/O, or at the close), or failed (net.error). */
void scope_net_connect(int fd, const struct sockaddr *peer, socklen_t plen, int r, int err);
/* Proxy reporting: the ends of the call being handed over (NULL, 0: none), for the CONN record. */
void scope_proxy_ends(const void *local, unsigned llen, const void *peer, unsigned plen);
/* getsockopt returned r: SO_ERROR on a socket whose connect is under way is its outcome. */
void scope_net_sockopt(int fd, int level, int opt, int r, const void *val, const socklen_t *len);
/* Before the real close of a socket: a connect still unsettled is settled now. */
void scope_net_closing(int fd);
void scope_net_listen(enum scope_fn fn, int fd);
/* One socket call moved r bytes (r < 0: failed with err) from buf or iov; sa: the datagram's peer. */
void scope_net_io(enum scope_fn fn, int fd, bool tx, ssize_t r, int err, const void *buf,
                  const struct iovec *iov, int iovcnt, const struct sockaddr *sa, socklen_t salen,
                  int msgflags);
/* The socket this thread moved bytes on last (-1: none since it was reset): wrap_tls.c. */
extern __thread int scope_last_sock __attribute__((tls_model("initial-exec")));
/* Plaintext a TLS library call moved on the socket fd (-1: not known). */
void scope_tls_io(enum scope_fn fn, int fd, bool tx, ssize_t r, const void *buf);
/* A resolver call ended: ai (getaddrinfo) or he (gethostbyname*) holds the answer, err its error. */
void scope_dns_done(enum scope_fn fn, const char *name, uint64_t t0, int err,
                    const struct addrinfo *ai, const struct hostent *he);
/* Counting a failed net call under its class (connection, rx_tx, dns) for net.error. */
void scope_net_err(int cls);


#endif
