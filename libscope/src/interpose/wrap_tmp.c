/* wrap_tmp.c — files libc creates and opens itself: the mkstemp family (the descriptor is an
 * fs.open named by the template as the call filled it in, op the function), tmpfile (named as
 * the kernel names it: an unnamed O_TMPFILE file is "<dir>/#<inode> (deleted)") and mkdtemp (an
 * fs.mkdir). libc opens these with internal calls no interposer sees, so without these wrappers
 * git's temporary object and lock files were never recorded. */
#include <fcntl.h>
#include <stdlib.h>

#include "interpose/wrap.h"

/* A failure names the template as the call left it. */
#define MKSTEMP(name, call, tmpl, flags)                                                      \
    WRAP_BEGIN(name, -1, call);                                                               \
    int fd = scope_real_##name call;                                                          \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, fd < 0);                                                         \
    if (fd >= 0)                                                                              \
        scope_fs_opened(SCOPE_FN_##name, fd, AT_FDCWD, tmpl, O_RDWR | (flags));               \
    else                                                                                      \
        scope_fail(SCOPE_FN_##name, -1, AT_FDCWD, tmpl, err);                                 \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return fd;

SCOPE_API int mkstemp(char *tmpl) { MKSTEMP(mkstemp, (tmpl), tmpl, 0) }
SCOPE_API int mkstemp64(char *tmpl) { MKSTEMP(mkstemp64, (tmpl), tmpl, 0) }
SCOPE_API int mkostemp(char *tmpl, int flags) { MKSTEMP(mkostemp, (tmpl, flags), tmpl, flags) }
SCOPE_API int mkostemp64(char *tmpl, int flags) { MKSTEMP(mkostemp64, (tmpl, flags), tmpl, flags) }
SCOPE_API int mkstemps(char *tmpl, int suffixlen) { MKSTEMP(mkstemps, (tmpl, suffixlen), tmpl, 0) }
SCOPE_API int mkstemps64(char *tmpl, int suffixlen) { MKSTEMP(mkstemps64, (tmpl, suffixlen), tmpl, 0) }
SCOPE_API int mkostemps(char *tmpl, int suffixlen, int flags)
{
    MKSTEMP(mkostemps, (tmpl, suffixlen, flags), tmpl, flags)
}
SCOPE_API int mkostemps64(char *tmpl, int suffixlen, int flags)
{
    MKSTEMP(mkostemps64, (tmpl, suffixlen, flags), tmpl, flags)
}

/* The name is read on this thread: by the time the reporting thread looks, the stream may be
 * closed and the number reused. A failure has no name (the directory is libc's choice). */
#define TMPFILE(name)                                                                         \
    WRAP_BEGIN(name, NULL, ());                                                               \
    FILE *fp = scope_real_##name();                                                           \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, !fp);                                                            \
    if (fp) {                                                                                 \
        char path[4096];                                                                      \
        int fd = scope_fileno(fp);                                                            \
        scope_fs_opened(SCOPE_FN_##name, fd, AT_FDCWD,                                        \
                        scope_fd_name(fd, path, sizeof path) ? path : NULL, O_RDWR);          \
    } else {                                                                                  \
        scope_fail(SCOPE_FN_##name, -1, AT_FDCWD, NULL, err);                                 \
    }                                                                                         \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return fp;

SCOPE_API FILE *tmpfile(void) { TMPFILE(tmpfile) }
SCOPE_API FILE *tmpfile64(void) { TMPFILE(tmpfile64) }

SCOPE_API char *mkdtemp(char *tmpl)
{
    WRAP_BEGIN(mkdtemp, NULL, (tmpl));
    char *r = scope_real_mkdtemp(tmpl);
    int err = errno;
    scope_call_end(&sc_, -1, !r);
    if (!r)
        scope_fail(SCOPE_FN_mkdtemp, -1, AT_FDCWD, tmpl, err);
    else if (scope_hot.ev_fs)
        scope_fs_path(SCOPE_REC_MKDIR, SCOPE_FN_mkdtemp, AT_FDCWD, r, 0700);
    errno = err;
    scope_leave();
    return r;
}
