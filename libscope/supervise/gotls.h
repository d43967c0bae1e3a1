/* gotls.h — the plaintext of a followed Go program's TLS connections (crypto/tls), taken at
 * breakpoints the supervisor sets in it: no code of ours runs in the program (gotls.c says how).
 * x86-64, Go 1.18 and later (register-based calls). */
#ifndef SCOPE_GOTLS_H
#define SCOPE_GOTLS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What one call of (*tls.Conn).Write handed over, or one of Read gave back. */
struct gotls_io {
    pid_t pid, tid;
    int fd;                      /* the connection's socket (-1: not found) */
    bool tx;                     /* Write */
    const unsigned char *data;   /* the first len bytes of it */
    size_t len, total;           /* total: all of it (len < total: the rest was not copied) */
    uint64_t t_ns;               /* CLOCK_REALTIME at the stop */
};

/* Maps len bytes (readable, executable) in process pid through its stopped thread tid, near hint
 * if it can; the address, or 0. */
typedef uint64_t (*gotls_map_fn)(pid_t pid, pid_t tid, uint64_t hint, size_t len);

/* A new image of process pid, thread tid stopped (its exec, or an attach): when it is a Go program
 * with crypto/tls, its breakpoints are set, with map_fn for the page their displaced instructions
 * run from. Returns NULL (set, or not Go, or no crypto/tls), or why its TLS is not seen. */
const char *gotls_image(pid_t pid, pid_t tid, gotls_map_fn map_fn);

/* Thread tid of process pid stopped by a SIGTRAP: when one of ours, it is handled (its data to
 * out) and the thread set to go on as if there had been none; true then (resume it without the
 * signal). */
bool gotls_trap(pid_t pid, pid_t tid, void (*out)(void *ctx, const struct gotls_io *io), void *ctx);

/* Process child is a fork of parent (same memory, our breakpoints in it); process pid is gone,
 * or its image replaced. */
void gotls_fork(pid_t parent, pid_t child);
void gotls_forget(pid_t pid);
/* No more data is wanted from pid (scope detach): its breakpoints are cleared (a thread already
 * stopped at one still goes on right). */
void gotls_disarm(pid_t pid);
/* Once a process: why some of its TLS plaintext is not seen (a return address whose instruction
 * cannot be moved), or NULL. */
const char *gotls_notice(pid_t pid);
#endif
