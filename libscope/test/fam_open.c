/* fam_open: every function that gives a descriptor (open … fcntl64, opendir, freopen) and every
 * one that closes it (close, fclose, fcloseall, closedir), each at least once, in DIR.
 * Each opener opens a file of its own, named after it (open.dat, __openat_2.dat, …), and prints
 * "<function> fd=<n>"; the dup family duplicates dupsrc.dat.  usage: fam_open DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fam.h"

extern int __open_2(const char *path, int flags);
extern int __open64_2(const char *path, int flags);
extern int __openat_2(int dirfd, const char *path, int flags);
extern int __openat64_2(int dirfd, const char *path, int flags);

static void opened(const char *op, int fd)
{
    CHECK(fd >= 0, op);
    printf("%s fd=%d\n", op, fd);
}

static void fopened(const char *op, FILE *f)
{
    CHECK(f != NULL, op);
    printf("%s fd=%d\n", op, fileno(f));
}

/* After fcloseall, stdout is no stream to rely on: plain write(1). */
static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (write(1, buf, (size_t)n) != n)
        exit(1);
}

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    int fd;

    fd = V(open)(P("open.dat"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    opened("open", fd);
    CHECK(V(close)(fd) == 0, "close");

    fd = V(open64)(P("open64.dat"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    opened("open64", fd);
    CHECK(V(close)(fd) == 0, "close");

    int dfd = open(fam_dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0, "open DIR");

    fd = V(openat)(dfd, "openat.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    opened("openat", fd);
    CHECK(V(close)(fd) == 0, "close");

    fd = V(openat64)(dfd, "openat64.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    opened("openat64", fd);
    CHECK(V(close)(fd) == 0, "close");

    /* the fortified entry points take no mode, so their files exist first */
    fam_mkfile("__open_2.dat", "__open_2\n");
    fam_mkfile("__open64_2.dat", "__open64_2\n");
    fam_mkfile("__openat_2.dat", "__openat_2\n");
    fam_mkfile("__openat64_2.dat", "__openat64_2\n");

    fd = V(__open_2)(P("__open_2.dat"), O_RDONLY);
    opened("__open_2", fd);
    CHECK(V(close)(fd) == 0, "close");

    fd = V(__open64_2)(P("__open64_2.dat"), O_RDONLY);
    opened("__open64_2", fd);
    CHECK(V(close)(fd) == 0, "close");

    fd = V(__openat_2)(dfd, "__openat_2.dat", O_RDONLY);
    opened("__openat_2", fd);
    CHECK(V(close)(fd) == 0, "close");

    fd = V(__openat64_2)(dfd, "__openat64_2.dat", O_RDONLY);
    opened("__openat64_2", fd);
    CHECK(V(close)(fd) == 0, "close");

    fd = V(creat)(P("creat.dat"), 0644);
    opened("creat", fd);
    CHECK(V(close)(fd) == 0, "close");

    fd = V(creat64)(P("creat64.dat"), 0644);
    opened("creat64", fd);
    CHECK(V(close)(fd) == 0, "close");

    CHECK(close(dfd) == 0, "close DIR");

    FILE *f = V(fopen)(P("fopen.dat"), "w");
    fopened("fopen", f);
    CHECK(fputs("fopen\n", f) >= 0, "fputs");
    CHECK(V(fclose)(f) == 0, "fclose");

    f = V(fopen64)(P("fopen64.dat"), "w");
    fopened("fopen64", f);
    CHECK(fputs("fopen64\n", f) >= 0, "fputs");
    CHECK(V(fclose)(f) == 0, "fclose");

    /* freopen closes the stream's first file and opens another on the same FILE */
    f = fopen(P("freopen-first.dat"), "w");
    CHECK(f != NULL, "fopen freopen-first.dat");
    f = V(freopen)(P("freopen.dat"), "w", f);
    fopened("freopen", f);
    CHECK(fputs("freopen\n", f) >= 0, "fputs");
    CHECK(V(fclose)(f) == 0, "fclose");

    f = fopen(P("freopen64-first.dat"), "w");
    CHECK(f != NULL, "fopen freopen64-first.dat");
    f = V(freopen64)(P("freopen64.dat"), "w", f);
    fopened("freopen64", f);
    CHECK(fputs("freopen64\n", f) >= 0, "fputs");
    CHECK(V(fclose)(f) == 0, "fclose");

    DIR *d = V(opendir)(fam_dir);
    CHECK(d != NULL, "opendir");
    printf("opendir fd=%d\n", dirfd(d));
    CHECK(V(closedir)(d) == 0, "closedir");

    /* the dup family: copies of dupsrc.dat, each closed with close */
    int src = open(P("dupsrc.dat"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(src >= 0, "open dupsrc.dat");
    fd = V(dup)(src);
    opened("dup", fd);
    CHECK(V(close)(fd) == 0, "close");
    fd = V(dup2)(src, 20);
    CHECK(fd == 20, "dup2");
    opened("dup2", fd);
    CHECK(V(close)(fd) == 0, "close");
    fd = V(dup3)(src, 21, O_CLOEXEC);
    CHECK(fd == 21, "dup3");
    opened("dup3", fd);
    CHECK(V(close)(fd) == 0, "close");
    fd = V(fcntl)(src, F_DUPFD, 30);
    CHECK(fd == 30, "fcntl F_DUPFD");
    opened("fcntl", fd);
    CHECK(V(close)(fd) == 0, "close");
    fd = V(fcntl64)(src, F_DUPFD_CLOEXEC, 40);
    CHECK(fd == 40, "fcntl64 F_DUPFD_CLOEXEC");
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "fcntl64 F_DUPFD_CLOEXEC sets FD_CLOEXEC");
    opened("fcntl64", fd);
    CHECK(V(close)(fd) == 0, "close");
    CHECK(close(src) == 0, "close dupsrc.dat");

    /* fcloseall flushes (and, per glibc, unbuffers) every stream, stdout and stderr included */
    FILE *a = fopen(P("fcloseall-a.dat"), "w");
    FILE *b = fopen(P("fcloseall-b.dat"), "w");
    CHECK(a && b, "fopen fcloseall-*.dat");
    printf("fcloseall-a fd=%d\nfcloseall-b fd=%d\n", fileno(a), fileno(b));
    CHECK(fputs("written before fcloseall\n", a) >= 0 && fputs("b\n", b) >= 0, "fputs");
    fflush(stdout);
    int r = V(fcloseall)();
    say("fcloseall=%d\n", r);
    CHECK(r == 0, "fcloseall");
    struct stat st;
    CHECK(stat(P("fcloseall-a.dat"), &st) == 0, "stat fcloseall-a.dat");
    say("fcloseall-a.dat size=%lld\n", (long long)st.st_size);
    CHECK(st.st_size == 25, "fcloseall flushed fcloseall-a.dat");
    return 0;
}
