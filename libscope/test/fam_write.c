/* fam_write: every write function, each at least once: to a file of its own in DIR
 * ("<function>.out"), and the console ones to stdout with a text of their own ("[puts] …"),
 * fprintf to stderr; then prints the size of every file written.  usage: fam_write DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <wchar.h>

#include "fam.h"

extern int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...);
extern int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);
extern int __printf_chk(int flag, const char *fmt, ...);
extern int __vprintf_chk(int flag, const char *fmt, va_list ap);

static const char *const outputs[] = {
    "write", "pwrite", "pwrite64", "writev", "pwritev", "pwritev2", "pwritev64", "pwritev64v2",
    "fwrite", "fwrite_unlocked", "fputs", "fputs_unlocked", "fputc", "fputc_unlocked", "putwc",
    "fputwc", "fprintf", "vfprintf", "__fprintf_chk", "__vfprintf_chk", "sendfile", "sendfile64",
    "copy_file_range", "splice",
};

static const char *out(const char *fn)
{
    static char name[64];
    snprintf(name, sizeof name, "%s.out", fn);
    return P(name);
}

static int fd_for(const char *fn)
{
    int fd = open(out(fn), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, fn);
    return fd;
}

static FILE *file_for(const char *fn)
{
    FILE *f = fopen(out(fn), "w");
    CHECK(f != NULL, fn);
    return f;
}

static void done_fd(const char *fn, ssize_t r, ssize_t want, int fd)
{
    CHECK(r == want, fn);
    CHECK(close(fd) == 0, fn);
}

static void done_file(const char *fn, int ok, FILE *f)
{
    CHECK(ok, fn);
    CHECK(fclose(f) == 0, fn);
}

static int call_vfprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = V(vfprintf)(f, fmt, ap);
    va_end(ap);
    return r;
}

static int call_vfprintf_chk(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = V(__vfprintf_chk)(f, 1, fmt, ap);
    va_end(ap);
    return r;
}

static int call_vprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = V(vprintf)(fmt, ap);
    va_end(ap);
    return r;
}

static int call_vprintf_chk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = V(__vprintf_chk)(1, fmt, ap);
    va_end(ap);
    return r;
}

/* One text per console call; each is flushed on its own so stdout's order is the call order. */
static void flushed(const char *what, int ok)
{
    CHECK(ok, what);
    CHECK(fflush(stdout) == 0, what);
}

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    int fd;
    FILE *f;
    struct iovec iov[2] = {{"two ", 4}, {"pieces\n", 7}};

    /* descriptors */
    fd = fd_for("write");
    done_fd("write", V(write)(fd, "write\n", 6), 6, fd);
    fd = fd_for("pwrite");
    done_fd("pwrite", V(pwrite)(fd, "pwrite\n", 7, 0), 7, fd);
    fd = fd_for("pwrite64");
    done_fd("pwrite64", V(pwrite64)(fd, "pwrite64\n", 9, 0), 9, fd);
    fd = fd_for("writev");
    done_fd("writev", V(writev)(fd, iov, 2), 11, fd);
    fd = fd_for("pwritev");
    done_fd("pwritev", V(pwritev)(fd, iov, 2, 0), 11, fd);
    fd = fd_for("pwritev2");
    done_fd("pwritev2", V(pwritev2)(fd, iov, 2, 0, 0), 11, fd);
    fd = fd_for("pwritev64");
    done_fd("pwritev64", V(pwritev64)(fd, iov, 2, 0), 11, fd);
    fd = fd_for("pwritev64v2");
    done_fd("pwritev64v2", V(pwritev64v2)(fd, iov, 2, 0, 0), 11, fd);

    /* streams */
    f = file_for("fwrite");
    done_file("fwrite", V(fwrite)("fwrite\n", 1, 7, f) == 7, f);
    f = file_for("fwrite_unlocked");
    done_file("fwrite_unlocked", V(fwrite_unlocked)("fwrite_unlocked\n", 4, 4, f) == 4, f);
    f = file_for("fputs");
    done_file("fputs", V(fputs)("fputs\n", f) >= 0, f);
    f = file_for("fputs_unlocked");
    done_file("fputs_unlocked", V(fputs_unlocked)("fputs_unlocked\n", f) >= 0, f);
    f = file_for("fputc");
    int ok = 1;
    for (const char *p = "fputc\n"; *p; p++)
        ok &= V(fputc)(*p, f) == *p;
    done_file("fputc", ok, f);
    f = file_for("fputc_unlocked");
    ok = 1;
    for (const char *p = "fputc_unlocked\n"; *p; p++)
        ok &= V(fputc_unlocked)(*p, f) == *p;
    done_file("fputc_unlocked", ok, f);
    f = file_for("putwc");
    ok = 1;
    for (const wchar_t *p = L"putwc\n"; *p; p++)
        ok &= V(putwc)(*p, f) == (wint_t)*p;
    done_file("putwc", ok, f);
    f = file_for("fputwc");
    ok = 1;
    for (const wchar_t *p = L"fputwc\n"; *p; p++)
        ok &= V(fputwc)(*p, f) == (wint_t)*p;
    done_file("fputwc", ok, f);
    f = file_for("fprintf");
    done_file("fprintf", V(fprintf)(f, "%s %d\n", "fprintf", 1) == 10, f);
    f = file_for("vfprintf");
    done_file("vfprintf", call_vfprintf(f, "%s %d\n", "vfprintf", 2) == 11, f);
    f = file_for("__fprintf_chk");
    done_file("__fprintf_chk", V(__fprintf_chk)(f, 1, "%s %d\n", "__fprintf_chk", 3) == 16, f);
    f = file_for("__vfprintf_chk");
    done_file("__vfprintf_chk", call_vfprintf_chk(f, "%s %d\n", "__vfprintf_chk", 4) == 17, f);

    /* copies from src.dat: 64 bytes */
    fam_mkfile("src.dat", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n");
    int in = open(P("src.dat"), O_RDONLY);
    CHECK(in >= 0, "open src.dat");
    off_t off = 0;
    fd = fd_for("sendfile");
    done_fd("sendfile", V(sendfile)(fd, in, &off, 64), 64, fd);
    off64_t off64 = 16;
    fd = fd_for("sendfile64");
    done_fd("sendfile64", V(sendfile64)(fd, in, &off64, 32), 32, fd);
    off64 = 0;
    fd = fd_for("copy_file_range");
    done_fd("copy_file_range", V(copy_file_range)(in, &off64, fd, NULL, 64, 0), 64, fd);
    /* splice: file → pipe → file */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    off64 = 0;
    CHECK(V(splice)(in, &off64, p[1], NULL, 48, 0) == 48, "splice file to pipe");
    fd = fd_for("splice");
    done_fd("splice", V(splice)(p[0], NULL, fd, NULL, 48, 0), 48, fd);
    CHECK(close(p[0]) == 0 && close(p[1]) == 0 && close(in) == 0, "close");

    /* the console */
    flushed("puts", V(puts)("[puts] to stdout") >= 0);
    ok = 1;
    for (const char *c = "[putchar] to stdout\n"; *c; c++)
        ok &= V(putchar)(*c) == *c;
    flushed("putchar", ok);
    flushed("printf", V(printf)("[printf %d] to stdout\n", 1) > 0);
    flushed("vprintf", call_vprintf("[vprintf %d] to stdout\n", 2) > 0);
    flushed("__printf_chk", V(__printf_chk)(1, "[__printf_chk %d] to stdout\n", 3) > 0);
    flushed("__vprintf_chk", call_vprintf_chk("[__vprintf_chk %d] to stdout\n", 4) > 0);
    flushed("fputs", V(fputs)("[fputs] to stdout\n", stdout) >= 0);
    flushed("fwrite", V(fwrite)("[fwrite] to stdout\n", 1, 19, stdout) == 19);
    CHECK(V(write)(1, "[write] to stdout\n", 18) == 18, "write");
    CHECK(V(fprintf)(stderr, "[fprintf %d] to stderr\n", 5) > 0, "fprintf stderr");

    /* what the files hold */
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        struct stat st;
        CHECK(stat(out(outputs[i]), &st) == 0, outputs[i]);
        CHECK(st.st_size > 0, outputs[i]);
        printf("%s.out %lld\n", outputs[i], (long long)st.st_size);
    }
    return 0;
}
