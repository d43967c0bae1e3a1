/* fdtab.c — per-descriptor counters the hot path bumps atomically: the channel id of the
 * descriptor's current lifetime and its read/write bytes and ops. Indexed by fd in an mmap'd
 * array that only becomes resident where fds are used; fds beyond it are simply not tracked. */
#include <sys/mman.h>
#include <sys/resource.h>

#include "scope.h"

#define FDTAB_MAX 65536

SCOPE_HOT_DATA struct scope_fdc *scope_fdtab;
_Atomic uint64_t (*scope_h2trk)[4];
SCOPE_HOT_DATA int scope_fdtab_len;
_Atomic int scope_fd_hwm;

bool scope_fdtab_init(void)
{
    struct rlimit rl;
    size_t n = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        n = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FDTAB_MAX ? FDTAB_MAX : rl.rlim_cur;
    if (n < 1024)
        n = 1024;
    void *p = mmap(NULL, n * sizeof *scope_fdtab, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    /* netcopy.c's frame walkers: apart, only sockets that carry HTTP (or may) touch them */
    void *w = mmap(NULL, n * sizeof *scope_h2trk, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    scope_h2trk = w == MAP_FAILED ? NULL : w;
    scope_fdtab = p;
    scope_fdtab_len = (int)n;
    return true;
}

/* A forked child counts from zero; dropping the pages both zeroes them and frees them. */
void scope_fdtab_reset(void)
{
    atomic_store(&scope_fd_hwm, 0);
    if (scope_fdtab)
        madvise(scope_fdtab, (size_t)scope_fdtab_len * sizeof *scope_fdtab, MADV_DONTNEED);
    if (scope_h2trk)
        madvise(scope_h2trk, (size_t)scope_fdtab_len * sizeof *scope_h2trk, MADV_DONTNEED);
}
