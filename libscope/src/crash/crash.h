/* crash.h — opt-in crash handling (SCOPE_SNAPSHOT_BACKTRACE, SCOPE_SNAPSHOT_COREDUMP): handlers
 * for the fatal signals that write a snapshot (crash.c), its backtrace (crashsym.c) and its core
 * file (crashcore.c), then hand the signal to the app's own handler or to the default action.
 * Everything below the handler is async-signal-safe: raw system calls, static buffers, no malloc,
 * no stdio, no lock. */
#ifndef SCOPE_CRASH_H
#define SCOPE_CRASH_H
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* From the settings in force: installs the handlers (and the main thread's alternate stack) when
 * either setting is on, else touches nothing. Called at start (preload, attach) and in a forked
 * child. Idempotent. */
void scope_crash_init(void);
/* The sigaction wrapper's side: true when sig is one of ours and our handler is in place; then
 * the app's act is recorded as its own handler (ours stays first) and old reports the app's. */
bool scope_crash_owns(int sig);
void scope_crash_app_action(int sig, const struct sigaction *act, struct sigaction *old);

/* A line being written to a file with write(2) alone. */
struct cbuf {
    int fd;
    size_t len;
    char b[1024];
};
void cb_flush(struct cbuf *c);
void cb_str(struct cbuf *c, const char *s);
void cb_mem(struct cbuf *c, const void *p, size_t n);
void cb_dec(struct cbuf *c, long long v);
void cb_hex(struct cbuf *c, uint64_t v);   /* 0x… */

/* Raw system calls: the crashing thread may be inside our own wrappers or libc's locks. */
int crash_openat(int dirfd, const char *path, int flags, int mode);
ssize_t crash_write(int fd, const void *p, size_t n);   /* the whole of it, or less on error */
ssize_t crash_read_file(const char *path, char *buf, size_t cap);   /* NUL-terminated */
void crash_close(int fd);

/* The mappings of /proc/self/maps, parsed into static storage (crashsym.c). */
struct crash_map {
    uintptr_t start, end, off;
    unsigned prot;      /* PROT_READ|PROT_WRITE|PROT_EXEC */
    bool shared;
    bool dontdump;      /* madvise(MADV_DONTDUMP): "dd" in its smaps VmFlags (crash_maps_dontdump) */
    const char *path;   /* "" for anonymous */
};
size_t crash_maps(const struct crash_map **out);
/* Marks the mappings of the last crash_maps that their owner asked to be left out of cores. */
void crash_maps_dontdump(void);
const struct crash_map *crash_map_of(uintptr_t addr);

/* backtrace of the crashing thread into dirfd/backtrace (crashsym.c). */
void crash_backtrace(int dirfd, const ucontext_t *uc);
void crash_backtrace_prime(void);
/* dirfd/core (crashcore.c). */
void crash_core(int dirfd, int sig, const siginfo_t *si, const ucontext_t *uc, pid_t tid);
#endif
