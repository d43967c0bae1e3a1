/* libc.h — the libc layer, the floor every other part of libscope stands on: one pointer to the
 * real libc function per row of interpose/interpose.def (scope_real_<name>), their resolution,
 * the function ids and categories, the thread guard, and the few process facts everyone asks
 * (pid, clock).
 *
 * libscope's own code calls libc through these pointers, never by an interposed name: preloaded,
 * such a name binds to our own exported wrapper (interpose/), attached (dlopen) to libc's, and the
 * two modes would differ. The build checks it (libscope/layers.mjs). The pointers are resolved
 * before any of our code runs: first thing in init (interpose/init.c: our constructor, or the
 * first wrapper another library's constructor calls), whether preloaded or loaded by an attach;
 * a forked child inherits them. A function libc may lack (stat, lstat, fstat: libc symbols only
 * since glibc 2.33) is not called through its pointer: scope_sys_* below make the system call. */
#ifndef SCOPE_LIBC_H
#define SCOPE_LIBC_H

/* The globals every wrapper reads (the real functions, scope_ready, scope_hot, the descriptor
 * table's address and length) share one section, so one page holds them all: 4 KiB-aligned by
 * the first of them (init.c), under 4 KiB in all. */
#define SCOPE_HOT_DATA __attribute__((section("scope_hot_data")))
/* The wrappers of the calls servers make per request and what they call each time: GCC puts hot
 * functions together (.text.hot), so a request runs through a few pages of code instead of a
 * dozen. Where every system call empties the TLB (page-table isolation without PCID, as on the
 * bench VM), each page touched after it costs a page walk. */
#define SCOPE_HOT __attribute__((hot))

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <sys/uio.h>
#include <time.h>
#include <wchar.h>

/* glibc makes these macros when optimising; the table needs the functions. */
#undef fread_unlocked
#undef fwrite_unlocked
#undef getc
#undef putc

enum scope_fn {
#define SCOPE_FN(ret, name, params, cat) SCOPE_FN_##name,
#include "interpose/interpose.def"
#undef SCOPE_FN
    SCOPE_FN_COUNT
};

#define SCOPE_FN(ret, name, params, cat) extern ret(*scope_real_##name) params;
#include "interpose/interpose.def"
#undef SCOPE_FN

/* Categories of interpose.def, as numbers (scope_fn_cat[fn]). */
enum scope_cat { SCOPE_CAT_open, SCOPE_CAT_close, SCOPE_CAT_read, SCOPE_CAT_write, SCOPE_CAT_seek,
                 SCOPE_CAT_stat, SCOPE_CAT_ns, SCOPE_CAT_proc, SCOPE_CAT_net, SCOPE_CAT_recv,
                 SCOPE_CAT_send, SCOPE_CAT_dns, SCOPE_CAT_tls, SCOPE_CAT_dl };
extern const unsigned char scope_fn_cat[SCOPE_FN_COUNT];
/* The function's name ("open"), for the records' op fields. */
extern const char *const scope_fn_name[SCOPE_FN_COUNT];

/* Where each pointer is (the GOT patcher's hook list, the TLS lookup). */
extern void **const scope_real_slot[SCOPE_FN_COUNT];

/* Resolves every real pointer once (dlsym RTLD_NEXT); true when the one asked for is usable. */
bool scope_resolve(enum scope_fn fn);
/* Whether dlsym handed back a definition of our own for fn (treated as missing). */
bool scope_real_ours(enum scope_fn fn);
/* Whether p (a function) lies in this library. */
bool scope_in_self(const void *p);
/* tls.c: the real TLS function, looked up in whatever the app loaded; false: not loaded. */
bool scope_tls_resolve(enum scope_fn fn);
/* The first definition of a TLS library's symbol that is not ours, wherever the app loaded it. */
void *scope_tls_lookup(const char *sym);

/* Set while a thread runs our code (or a real call we made): libc calling an interposed symbol
 * from inside itself, or our own I/O, must not be counted twice. The reporting thread keeps it set
 * for its whole life. initial-exec so reading it never calls into the TLS allocator. */
extern __thread int scope_guard __attribute__((tls_model("initial-exec")));

/* prctl as the system call: the function is interposed (wrap_proc.c), libscope never calls it. */
static inline int scope_sys_prctl(int option, unsigned long arg)
{
    return (int)scope_real_syscall(SYS_prctl, option, arg, 0UL, 0UL, 0UL);
}

/* The stat family as system calls: glibc before 2.33 exports no stat, lstat or fstat (its
 * headers call __xstat and friends), so their pointers may be NULL. newfstatat fills the same
 * struct stat on the 64-bit targets libscope builds for (x86-64, aarch64). */
static inline int scope_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return (int)scope_real_syscall(SYS_newfstatat, dirfd, path, st, flags);
}
static inline int scope_sys_fstat(int fd, struct stat *st)
{
    return scope_sys_fstatat(fd, "", st, AT_EMPTY_PATH);
}
static inline int scope_sys_stat(const char *path, struct stat *st)
{
    return scope_sys_fstatat(AT_FDCWD, path, st, 0);
}
static inline int scope_sys_lstat(const char *path, struct stat *st)
{
    return scope_sys_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

/* self.c: this process's pid (at start, then after each fork: interpose/init.c sets it), and
 * whether we run in a vfork child (another pid, our memory: touch nothing there but the stack). */
pid_t scope_pid(void);
void scope_pid_set(pid_t pid);
/* The process reported on: 0 for this one; else the pid a proxy reports for (interpose/proxy.c).
 * scope_proc: "/proc/self/<rest>", or "/proc/<that pid>/<rest>", into buf. */
pid_t scope_subject(void);
void scope_subject_set(pid_t pid);
/* The subject's image was replaced (an exec): its /proc no longer tells of it. */
void scope_subject_gone(void);
bool scope_subject_readable(void);
const char *scope_proc(char *buf, size_t cap, const char *rest);
bool scope_vforked(void);
/* The clocks, read as clock_gettime reads them (the vDSO: no system call), until the app makes
 * rdtsc fault in one of its threads (PR_SET_TSC, PR_TSC_SIGSEGV: scope_stamp_off): the vDSO reads the
 * counter with rdtsc where the kernel's clock stands on it, so from then on, in that thread, any
 * clock_gettime would kill the app with SIGSEGV. From then on every read is the system call itself
 * (the faulting thread cannot be told from the others cheaply, and such apps are rare). Every read of
 * a clock in libscope goes through here. */
extern _Atomic int scope_tsc_faults;
static inline __attribute__((always_inline)) int scope_clock_gettime(clockid_t clock, struct timespec *ts)
{
    if (__builtin_expect(atomic_load_explicit(&scope_tsc_faults, memory_order_relaxed), 0))
        return (int)scope_real_syscall(SYS_clock_gettime, clock, ts);
    return clock_gettime(clock, ts);
}
/* CLOCK_REALTIME in ns. */
uint64_t scope_now_ns(void);

/* stamp.c: a record's time as it is made (scope_stamp: the CPU's cycle counter, tagged with
 * SCOPE_STAMP_CYCLES, where the kernel's clock stands on it; else CLOCK_REALTIME in ns), and the
 * reporting thread's wall-clock ns of one (scope_stamp_ns, after scope_stamp_anchor at each drain).
 * scope_stamp_init decides (the reporting thread, as it starts); scope_stamp_off when the app
 * makes rdtsc fault. */
#define SCOPE_STAMP_CYCLES (1ULL << 63)
enum { STAMP_UNDECIDED, STAMP_CYCLES, STAMP_NEVER };
extern _Atomic int scope_stamp_cycles;   /* one of them */
static inline __attribute__((always_inline)) uint64_t scope_stamp(void)
{
#if defined(__x86_64__)
    if (atomic_load_explicit(&scope_stamp_cycles, memory_order_relaxed) == STAMP_CYCLES)
        return __builtin_ia32_rdtsc() | SCOPE_STAMP_CYCLES;
#endif
    return scope_now_ns();
}
bool scope_stamp_init(void);   /* the reporting thread, at its start: true when it turned the counter on */
void scope_stamp_off(void);
bool scope_stamp_off_news(void);   /* true once after scope_stamp_off turned the counter off */
void scope_stamp_anchor(void);
uint64_t scope_stamp_ns(uint64_t stamp);

/* errtext.c: an errno's description and name ("No such file or directory", "ENOENT"), and a
 * getaddrinfo code's description, in English, without gettext: strerror and gai_strerror read the
 * environment, which the app may be rewriting on another thread (errtext.c says more). libscope
 * never calls strerror, strerror_r, gai_strerror or perror (layers.mjs checks). */
const char *scope_strerror(int e);
const char *scope_errno_name(int e);
const char *scope_gai_strerror(int e);

#endif
