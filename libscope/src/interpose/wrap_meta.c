/* wrap_meta.c — calls about files rather than their bytes: positions (fs.seek), metadata and
 * access checks (fs.stat), and names in the file system (fs.delete, fs.rename, fs.mkdir). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "interpose/wrap.h"

/* The end of every call here: counted, an error record on failure, and the per-call record
 * (seek, stat) the verbosity asks for. */
static inline SCOPE_HOT void meta_done(struct scope_call *sc, bool bad, int fd, int dirfd, const char *path)
{
    int err = errno;
    scope_call_end(sc, -1, scope_failed(bad, err));
    if (SCOPE_UNLIKELY(bad))
        scope_fail(sc->fn, fd, dirfd, path, err);
    else if (SCOPE_UNLIKELY(scope_hot.rec_seek) && scope_fn_cat[sc->fn] == SCOPE_CAT_seek)
        scope_fs_fd(SCOPE_REC_SEEK, sc->fn, fd);
    else if (SCOPE_UNLIKELY(scope_hot.rec_stat) && scope_fn_cat[sc->fn] == SCOPE_CAT_stat) {
        if (path)
            scope_fs_path(SCOPE_REC_STAT, sc->fn, dirfd, path, 0);
        else
            scope_fs_fd(SCOPE_REC_STAT, sc->fn, fd);
    }
    errno = err;
}

#define META(name, type, call, bad, fd, dirfd, path)                                          \
    WRAP_BEGIN(name, (type)-1, call);                                                         \
    type r = scope_real_##name call;                                                          \
    meta_done(&sc_, bad, fd, dirfd, path);                                                    \
    scope_leave();                                                                            \
    return r;

SCOPE_API off_t lseek(int fd, off_t off, int whence) { META(lseek, off_t, (fd, off, whence), r < 0, fd, -1, NULL) }
SCOPE_API off64_t lseek64(int fd, off64_t off, int whence)
{
    META(lseek64, off64_t, (fd, off, whence), r < 0, fd, -1, NULL)
}
SCOPE_API int fseek(FILE *fp, long off, int whence)
{
    META(fseek, int, (fp, off, whence), r < 0, scope_fileno(fp), -1, NULL)
}
SCOPE_API int fseeko(FILE *fp, off_t off, int whence)
{
    META(fseeko, int, (fp, off, whence), r < 0, scope_fileno(fp), -1, NULL)
}
SCOPE_API int fseeko64(FILE *fp, off64_t off, int whence)
{
    META(fseeko64, int, (fp, off, whence), r < 0, scope_fileno(fp), -1, NULL)
}
SCOPE_API long ftell(FILE *fp) { META(ftell, long, (fp), r < 0, scope_fileno(fp), -1, NULL) }
SCOPE_API off_t ftello(FILE *fp) { META(ftello, off_t, (fp), r < 0, scope_fileno(fp), -1, NULL) }
SCOPE_API off64_t ftello64(FILE *fp) { META(ftello64, off64_t, (fp), r < 0, scope_fileno(fp), -1, NULL) }
SCOPE_API int fsetpos(FILE *fp, const fpos_t *pos) { META(fsetpos, int, (fp, pos), r != 0, scope_fileno(fp), -1, NULL) }
SCOPE_API int fsetpos64(FILE *fp, const fpos64_t *pos)
{
    META(fsetpos64, int, (fp, pos), r != 0, scope_fileno(fp), -1, NULL)
}
SCOPE_API int fgetpos(FILE *fp, fpos_t *pos) { META(fgetpos, int, (fp, pos), r != 0, scope_fileno(fp), -1, NULL) }
SCOPE_API int fgetpos64(FILE *fp, fpos64_t *pos)
{
    META(fgetpos64, int, (fp, pos), r != 0, scope_fileno(fp), -1, NULL)
}
SCOPE_API void rewind(FILE *fp)
{
    SCOPE_NEED_REAL(rewind, );
    if (!scope_enter()) {
        scope_real_rewind(fp);
        return;
    }
    struct scope_call sc_;
    scope_call_begin(&sc_, SCOPE_FN_rewind);
    scope_real_rewind(fp);
    meta_done(&sc_, false, scope_fileno(fp), -1, NULL);
    scope_leave();
}

#define PSTAT(name, call, path) META(name, int, call, r != 0, -1, AT_FDCWD, path)
#define FSTAT(name, call, fd) META(name, int, call, r != 0, fd, -1, NULL)
#define ATSTAT(name, call, dirfd, path) META(name, int, call, r != 0, -1, dirfd, path)

SCOPE_API int stat(const char *path, struct stat *st) { PSTAT(stat, (path, st), path) }
SCOPE_API int stat64(const char *path, struct stat64 *st) { PSTAT(stat64, (path, st), path) }
SCOPE_API int lstat(const char *path, struct stat *st) { PSTAT(lstat, (path, st), path) }
SCOPE_API int lstat64(const char *path, struct stat64 *st) { PSTAT(lstat64, (path, st), path) }
SCOPE_API SCOPE_HOT int fstat(int fd, struct stat *st) { FSTAT(fstat, (fd, st), fd) }
SCOPE_API SCOPE_HOT int fstat64(int fd, struct stat64 *st) { FSTAT(fstat64, (fd, st), fd) }
SCOPE_API int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    ATSTAT(fstatat, (dirfd, path, st, flags), dirfd, path)
}
SCOPE_API int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    ATSTAT(fstatat64, (dirfd, path, st, flags), dirfd, path)
}
SCOPE_API int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
    ATSTAT(statx, (dirfd, path, flags, mask, stx), dirfd, path)
}
SCOPE_API int __xstat(int ver, const char *path, struct stat *st) { PSTAT(__xstat, (ver, path, st), path) }
SCOPE_API int __xstat64(int ver, const char *path, struct stat64 *st) { PSTAT(__xstat64, (ver, path, st), path) }
SCOPE_API int __lxstat(int ver, const char *path, struct stat *st) { PSTAT(__lxstat, (ver, path, st), path) }
SCOPE_API int __lxstat64(int ver, const char *path, struct stat64 *st) { PSTAT(__lxstat64, (ver, path, st), path) }
SCOPE_API int __fxstat(int ver, int fd, struct stat *st) { FSTAT(__fxstat, (ver, fd, st), fd) }
SCOPE_API int __fxstat64(int ver, int fd, struct stat64 *st) { FSTAT(__fxstat64, (ver, fd, st), fd) }
SCOPE_API int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
    ATSTAT(__fxstatat, (ver, dirfd, path, st, flags), dirfd, path)
}
SCOPE_API int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
    ATSTAT(__fxstatat64, (ver, dirfd, path, st, flags), dirfd, path)
}
SCOPE_API int statfs(const char *path, struct statfs *st) { PSTAT(statfs, (path, st), path) }
SCOPE_API int statfs64(const char *path, struct statfs64 *st) { PSTAT(statfs64, (path, st), path) }
SCOPE_API int fstatfs(int fd, struct statfs *st) { FSTAT(fstatfs, (fd, st), fd) }
SCOPE_API int fstatfs64(int fd, struct statfs64 *st) { FSTAT(fstatfs64, (fd, st), fd) }
SCOPE_API int statvfs(const char *path, struct statvfs *st) { PSTAT(statvfs, (path, st), path) }
SCOPE_API int statvfs64(const char *path, struct statvfs64 *st) { PSTAT(statvfs64, (path, st), path) }
SCOPE_API int fstatvfs(int fd, struct statvfs *st) { FSTAT(fstatvfs, (fd, st), fd) }
SCOPE_API int fstatvfs64(int fd, struct statvfs64 *st) { FSTAT(fstatvfs64, (fd, st), fd) }
SCOPE_API int access(const char *path, int mode) { PSTAT(access, (path, mode), path) }
SCOPE_API int faccessat(int dirfd, const char *path, int mode, int flags)
{
    ATSTAT(faccessat, (dirfd, path, mode, flags), dirfd, path)
}

/* Names: the event (fs.delete, fs.rename, fs.mkdir) only when the call did it. */
#define NAMED(name, call, dirfd, path, on_ok)                                                 \
    WRAP_BEGIN(name, -1, call);                                                               \
    int r = scope_real_##name call;                                                           \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, r != 0);                                                         \
    if (r != 0)                                                                               \
        scope_fail(SCOPE_FN_##name, -1, dirfd, path, err);                                    \
    else if (scope_hot.ev_fs)                                                                 \
        on_ok;                                                                                \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return r;

#define DELETED(name, dirfd, path) scope_fs_path(SCOPE_REC_DELETE, SCOPE_FN_##name, dirfd, path, 0)
#define MADE(name, dirfd, path, mode) scope_fs_path(SCOPE_REC_MKDIR, SCOPE_FN_##name, dirfd, path, (int)(mode))
#define MOVED(name, fd1, p1, fd2, p2) scope_fs_renamed(SCOPE_FN_##name, fd1, p1, fd2, p2)

SCOPE_API int unlink(const char *path) { NAMED(unlink, (path), AT_FDCWD, path, DELETED(unlink, AT_FDCWD, path)) }
SCOPE_API int unlinkat(int dirfd, const char *path, int flags)
{
    NAMED(unlinkat, (dirfd, path, flags), dirfd, path, DELETED(unlinkat, dirfd, path))
}
SCOPE_API int rmdir(const char *path) { NAMED(rmdir, (path), AT_FDCWD, path, DELETED(rmdir, AT_FDCWD, path)) }
SCOPE_API int mkdir(const char *path, mode_t mode)
{
    NAMED(mkdir, (path, mode), AT_FDCWD, path, MADE(mkdir, AT_FDCWD, path, mode))
}
SCOPE_API int mkdirat(int dirfd, const char *path, mode_t mode)
{
    NAMED(mkdirat, (dirfd, path, mode), dirfd, path, MADE(mkdirat, dirfd, path, mode))
}
SCOPE_API int rename(const char *from, const char *to)
{
    NAMED(rename, (from, to), AT_FDCWD, from, MOVED(rename, AT_FDCWD, from, AT_FDCWD, to))
}
SCOPE_API int renameat(int fromdir, const char *from, int todir, const char *to)
{
    NAMED(renameat, (fromdir, from, todir, to), fromdir, from, MOVED(renameat, fromdir, from, todir, to))
}
SCOPE_API int renameat2(int fromdir, const char *from, int todir, const char *to, unsigned int flags)
{
    NAMED(renameat2, (fromdir, from, todir, to, flags), fromdir, from,
          MOVED(renameat2, fromdir, from, todir, to))
}
