/* fam_read: every read function, each at least once, on files it writes first in DIR; prints
 * "<function> <result> <data read>" for each.  usage: fam_read DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <wchar.h>

#include "fam.h"

extern ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
extern ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
extern ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
extern size_t __fread_chk(void *ptr, size_t ptrlen, size_t size, size_t n, FILE *fp);
extern size_t __fread_unlocked_chk(void *ptr, size_t ptrlen, size_t size, size_t n, FILE *fp);
extern char *__fgets_chk(char *s, size_t size, int n, FILE *fp);
extern wchar_t *__fgetws_chk(wchar_t *s, size_t size, int n, FILE *fp);
extern ssize_t __getdelim(char **line, size_t *cap, int delim, FILE *fp);
extern int __isoc99_fscanf(FILE *fp, const char *fmt, ...);
/* In C99 and later <stdio.h> redirects fscanf to __isoc99_fscanf; this names the symbol itself. */
extern int fam_fscanf(FILE *fp, const char *fmt, ...) __asm__("fscanf");

static const char text[] = "alpha 1\nbeta 22\ngamma 333\ndelta 4444\nepsilon 55555\nzeta 6\n";

static void got(const char *op, ssize_t r, const void *data, size_t n)
{
    CHECK(r >= 0, op);
    printf("%s %zd \"%s\"\n", op, r, fam_show(data, n));
}

static void got_iov(const char *op, ssize_t r, const struct iovec *iov, int cnt)
{
    char all[256];
    size_t n = 0, left = r > 0 ? (size_t)r : 0;
    for (int i = 0; i < cnt && left > 0; i++) {
        size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
        memcpy(all + n, iov[i].iov_base, take);
        n += take;
        left -= take;
    }
    got(op, r, all, n);
}

static void got_str(const char *op, const char *s)
{
    CHECK(s != NULL, op);
    printf("%s \"%s\"\n", op, fam_show(s, strlen(s)));
}

static void got_wstr(const char *op, const wchar_t *ws)
{
    CHECK(ws != NULL, op);
    char s[256];
    size_t n = 0;
    for (; ws[n] && n < sizeof s - 1; n++)
        s[n] = ws[n] < 0x80 ? (char)ws[n] : '?';
    s[n] = 0;
    got_str(op, s);
}

static FILE *reopen(const char *name)
{
    FILE *f = fopen(P(name), "r");
    CHECK(f != NULL, name);
    return f;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    fam_mkfile("input.txt", text);
    fam_mkfile("wide.txt", "wide one\nwide two\nxyz\n");
    char buf[256], b2[256];
    ssize_t r;

    /* descriptor reads */
    int fd = open(P("input.txt"), O_RDONLY);
    CHECK(fd >= 0, "open input.txt");
    r = V(read)(fd, buf, 8);
    got("read", r, buf, (size_t)r);
    struct iovec iov[2] = {{buf, 4}, {b2, 4}};
    r = V(readv)(fd, iov, 2);
    got_iov("readv", r, iov, 2);
    r = V(__read_chk)(fd, buf, 10, sizeof buf);
    got("__read_chk", r, buf, (size_t)r);
    r = V(pread)(fd, buf, 5, 0);
    got("pread", r, buf, (size_t)r);
    r = V(pread64)(fd, buf, 7, 8);
    got("pread64", r, buf, (size_t)r);
    r = V(__pread_chk)(fd, buf, 9, 16, sizeof buf);
    got("__pread_chk", r, buf, (size_t)r);
    r = V(__pread64_chk)(fd, buf, 10, 26, sizeof buf);
    got("__pread64_chk", r, buf, (size_t)r);
    r = V(preadv)(fd, iov, 2, 0);
    got_iov("preadv", r, iov, 2);
    r = V(preadv64)(fd, iov, 2, 8);
    got_iov("preadv64", r, iov, 2);
    r = V(preadv2)(fd, iov, 2, 16, 0);
    got_iov("preadv2", r, iov, 2);
    r = V(preadv64v2)(fd, iov, 2, 26, 0);
    got_iov("preadv64v2", r, iov, 2);
    r = read(fd, buf, sizeof buf);   /* the file position is after __read_chk's 10 bytes */
    got("read-rest", r, buf, (size_t)r);
    CHECK(close(fd) == 0, "close");

    /* block reads from a stream */
    FILE *f = reopen("input.txt");
    size_t z = V(fread)(buf, 1, 8, f);
    got("fread", (ssize_t)z, buf, z);
    z = V(__fread_chk)(buf, sizeof buf, 1, 8, f);
    got("__fread_chk", (ssize_t)z, buf, z);
    z = V(fread_unlocked)(buf, 2, 5, f);   /* 5 items of 2 bytes */
    got("fread_unlocked", (ssize_t)z, buf, z * 2);
    z = V(__fread_unlocked_chk)(buf, sizeof buf, 1, sizeof buf, f);
    got("__fread_unlocked_chk", (ssize_t)z, buf, z);
    CHECK(fclose(f) == 0, "fclose");

    /* lines and characters */
    f = reopen("input.txt");
    got_str("fgets", V(fgets)(buf, sizeof buf, f));
    got_str("__fgets_chk", V(__fgets_chk)(buf, sizeof buf, (int)sizeof buf, f));
    got_str("fgets_unlocked", V(fgets_unlocked)(buf, sizeof buf, f));
    int c = V(fgetc)(f);
    CHECK(c == 'd', "fgetc");
    printf("fgetc '%c'\n", c);
    char *line = NULL;
    size_t cap = 0;
    r = V(getline)(&line, &cap, f);
    got("getline", r, line, (size_t)r);
    r = V(getdelim)(&line, &cap, ' ', f);
    got("getdelim", r, line, (size_t)r);
    r = V(__getdelim)(&line, &cap, '\n', f);
    got("__getdelim", r, line, (size_t)r);
    free(line);
    CHECK(fclose(f) == 0, "fclose");

    /* formatted */
    f = reopen("input.txt");
    char word[32];
    int num = 0;
    int n = V(fam_fscanf)(f, "%31s %d", word, &num);
    CHECK(n == 2, "fscanf");
    printf("fscanf %d %s %d\n", n, word, num);
    n = V(__isoc99_fscanf)(f, "%31s %d", word, &num);
    CHECK(n == 2, "__isoc99_fscanf");
    printf("__isoc99_fscanf %d %s %d\n", n, word, num);
    CHECK(fclose(f) == 0, "fclose");

    /* wide characters (ASCII text: the C locale decodes it) */
    f = reopen("wide.txt");
    wchar_t wbuf[64];
    got_wstr("fgetws", V(fgetws)(wbuf, 64, f));
    got_wstr("__fgetws_chk", V(__fgetws_chk)(wbuf, 64, 64, f));
    wint_t wc = V(fgetwc)(f);
    CHECK(wc == L'x', "fgetwc");
    printf("fgetwc '%c'\n", (char)wc);
    CHECK(fclose(f) == 0, "fclose");

    /* directory entries */
    DIR *d = opendir(fam_dir);
    CHECK(d != NULL, "opendir");
    char *names[16];
    int count = 0;
    struct dirent *e;
    errno = 0;
    while ((e = V(readdir)(d)) != NULL)
        if (e->d_name[0] != '.' && count < 16)
            names[count++] = strdup(e->d_name);
    CHECK(errno == 0, "readdir");
    CHECK(closedir(d) == 0, "closedir");
    qsort(names, (size_t)count, sizeof names[0], by_name);
    printf("readdir %d:", count);
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    return 0;
}
