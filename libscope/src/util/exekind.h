/* exekind.h — what an executable is, as far as loading libscope into it goes: read from its ELF
 * headers by libscope (exec wrappers, its own start), by scope-supervise (each new image) and by
 * the node addon (`scope run`, before it starts a command). */
#ifndef SCOPE_EXEKIND_H
#define SCOPE_EXEKIND_H
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum scope_exe_kind {
    SCOPE_EXE_UNKNOWN,   /* not an ELF file we read (a script, unreadable, another class) */
    SCOPE_EXE_DYNAMIC,   /* has a dynamic loader (PT_INTERP): LD_PRELOAD works */
    SCOPE_EXE_STATIC,    /* no PT_INTERP: the loader never runs, LD_PRELOAD is ignored */
    SCOPE_EXE_GO,        /* a dynamic Go program (cgo): loads LD_PRELOAD, but Go's runtime makes its
                          * file and network system calls itself */
    SCOPE_EXE_GO_STATIC, /* a static Go program */
};

/* How the file is read: pread(2), or a caller's own (libscope's makes the system call itself:
 * it runs on the app's thread before an exec, where an interposed call could re-enter it).
 * Returns the bytes read, or < 0. */
typedef long (*scope_pread_fn)(int fd, void *buf, size_t n, off_t off);

/* The kind of the 64-bit ELF executable open at fd. No malloc, no stdio, a few KiB of stack. */
enum scope_exe_kind scope_exe_kind_fd(int fd, scope_pread_fn pread_fn);

#ifdef __cplusplus
}
#endif
#endif
