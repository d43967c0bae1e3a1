/* supfilter.h — the system calls scope-supervise watches, and the seccomp filter that hands them
 * to it (SECCOMP_RET_TRACE), installed by the process to be followed itself: by scope-supervise's
 * child before it execs the program, or by libscope before a scoped process execs a program it
 * cannot see into (interpose/supexec.c). */
#ifndef SCOPE_SUPFILTER_H
#define SCOPE_SUPFILTER_H
#include <linux/filter.h>

/* How a watched call's arguments are read: none, a path in argument 0 or 1, two paths (0 and 2,
 * or 1 and 3), a sockaddr in argument 1. */
enum scope_sup_args { SCOPE_SUP_NONE, SCOPE_SUP_PATH0, SCOPE_SUP_PATH1, SCOPE_SUP_PATHS02, SCOPE_SUP_PATHS13, SCOPE_SUP_ADDR1 };

struct scope_sup_call {
    long nr;
    const char *name;
    enum scope_sup_args args;
};
extern const struct scope_sup_call scope_sup_calls[];
extern const int scope_sup_ncalls;

/* The filter's instructions into f (room for SCOPE_SUP_FILTER_MAX); how many. */
#define SCOPE_SUP_FILTER_MAX 64
int scope_sup_filter_build(struct sock_filter *f);

/* Installs the filter on the calling thread (with no_new_privs first when the process may not
 * install one otherwise: without CAP_SYS_ADMIN). sys: the caller's way to make a system call
 * (libscope's own does not go through an interposed syscall()). 0, or -1 with errno set. */
int scope_sup_filter_install(long (*sys)(long nr, ...));
#endif
