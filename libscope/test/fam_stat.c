/* fam_stat: every stat-like function, each at least once, on DIR/file.dat (123 bytes), the
 * symlink DIR/link → file.dat and DIR itself; prints only what is the same from run to run
 * (sizes and file types, never times, inodes or free space).  usage: fam_stat DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "fam.h"

/* The struct stat layout the __*xstat* entry points are asked for (glibc's _STAT_VER). */
#if defined(__x86_64__)
#define FAM_STAT_VER 1
#elif defined(__aarch64__)
#define FAM_STAT_VER 0
#else
#error "_STAT_VER for this architecture"
#endif

extern int __xstat(int ver, const char *path, struct stat *st);
extern int __xstat64(int ver, const char *path, struct stat64 *st);
extern int __lxstat(int ver, const char *path, struct stat *st);
extern int __lxstat64(int ver, const char *path, struct stat64 *st);
extern int __fxstat(int ver, int fd, struct stat *st);
extern int __fxstat64(int ver, int fd, struct stat64 *st);
extern int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
extern int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

static const char *type(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : "other";
}

static void st(const char *op, int r, mode_t mode, long long size, const char *want, long long want_size)
{
    CHECK(r == 0, op);
    if (want_size >= 0)
        printf("%s %s %lld\n", op, type(mode), size);
    else   /* a directory's size depends on the file system */
        printf("%s %s\n", op, type(mode));
    if (strcmp(type(mode), want) != 0 || (want_size >= 0 && size != want_size))
        FAIL("%s: %s of %lld bytes, expected %s of %lld", op, type(mode), size, want, want_size);
}
/* The call first, then its result read (function arguments have no evaluation order). */
#define ST(op, call, s, want, want_size)                                                      \
    do {                                                                                      \
        int r_ = (call);                                                                      \
        st(op, r_, (s).st_mode, (long long)(s).st_size, want, want_size);                    \
    } while (0)

#define FS(op, call, s)                                                                       \
    do {                                                                                      \
        int r_ = (call);                                                                      \
        CHECK(r_ == 0, op);                                                                   \
        CHECK((s).f_bsize > 0 && (s).f_blocks > 0, op);                                       \
        printf("%s ok\n", op);                                                                \
    } while (0)

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    char data[124];
    memset(data, 's', 122);
    data[122] = '\n';
    data[123] = 0;
    fam_mkfile("file.dat", data);
    CHECK(symlink("file.dat", P("link")) == 0, "symlink");
    const char *file = P("file.dat"), *link = P("link");
    int dfd = open(fam_dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0, "open DIR");
    int fd = open(file, O_RDONLY);
    CHECK(fd >= 0, "open file.dat");

    struct stat s;
    struct stat64 s64;
    ST("stat", V(stat)(file, &s), s, "file", 123);
    ST("stat-link", V(stat)(link, &s), s, "file", 123);
    ST("lstat", V(lstat)(link, &s), s, "link", 8);
    ST("fstat", V(fstat)(fd, &s), s, "file", 123);
    ST("fstatat", V(fstatat)(dfd, "file.dat", &s, 0), s, "file", 123);
    ST("stat64", V(stat64)(file, &s64), s64, "file", 123);
    ST("lstat64", V(lstat64)(link, &s64), s64, "link", 8);
    ST("fstat64", V(fstat64)(fd, &s64), s64, "file", 123);
    ST("fstatat64", V(fstatat64)(dfd, "link", &s64, AT_SYMLINK_NOFOLLOW), s64, "link", 8);
    struct statx sx;
    int r = V(statx)(dfd, "file.dat", 0, STATX_TYPE | STATX_SIZE, &sx);
    st("statx", r, sx.stx_mode, (long long)sx.stx_size, "file", 123);
    ST("__xstat", V(__xstat)(FAM_STAT_VER, file, &s), s, "file", 123);
    ST("__xstat64", V(__xstat64)(FAM_STAT_VER, file, &s64), s64, "file", 123);
    ST("__lxstat", V(__lxstat)(FAM_STAT_VER, link, &s), s, "link", 8);
    ST("__lxstat64", V(__lxstat64)(FAM_STAT_VER, link, &s64), s64, "link", 8);
    ST("__fxstat", V(__fxstat)(FAM_STAT_VER, fd, &s), s, "file", 123);
    ST("__fxstat64", V(__fxstat64)(FAM_STAT_VER, fd, &s64), s64, "file", 123);
    ST("__fxstatat", V(__fxstatat)(FAM_STAT_VER, dfd, "file.dat", &s, 0), s, "file", 123);
    ST("__fxstatat64", V(__fxstatat64)(FAM_STAT_VER, dfd, "link", &s64, AT_SYMLINK_NOFOLLOW), s64,
       "link", 8);
    ST("stat-dir", stat(fam_dir, &s), s, "dir", -1);

    struct statfs sf;
    struct statfs64 sf64;
    struct statvfs sv;
    struct statvfs64 sv64;
    FS("statfs", V(statfs)(fam_dir, &sf), sf);
    FS("statfs64", V(statfs64)(file, &sf64), sf64);
    FS("fstatfs", V(fstatfs)(fd, &sf), sf);
    FS("fstatfs64", V(fstatfs64)(dfd, &sf64), sf64);
    FS("statvfs", V(statvfs)(fam_dir, &sv), sv);
    FS("statvfs64", V(statvfs64)(file, &sv64), sv64);
    FS("fstatvfs", V(fstatvfs)(fd, &sv), sv);
    FS("fstatvfs64", V(fstatvfs64)(dfd, &sv64), sv64);

    r = V(access)(file, R_OK | W_OK);
    CHECK(r == 0, "access");
    printf("access %d\n", r);
    r = V(faccessat)(dfd, "file.dat", R_OK, AT_EACCESS);
    CHECK(r == 0, "faccessat");
    printf("faccessat %d\n", r);

    CHECK(close(fd) == 0 && close(dfd) == 0, "close");
    return 0;
}
