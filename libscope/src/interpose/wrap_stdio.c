/* wrap_stdio.c — reads and writes through FILE streams. glibc's stdio reaches the kernel through
 * its own internal write and read, which no interposer sees, so these wrappers are where stream
 * I/O is counted and where text printed to stdout, stderr or a log file is copied. The text is
 * marked as joinable: the reporting thread joins what one stream wrote piecemeal (putchar by
 * putchar) into one event, as a stream's buffer joins it into one write. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "interpose/wrap.h"

/* A stream's read or write: bytes counted, an error only when the stream says so (a short count
 * is also how end of file looks). Writes hand their text to the capture. */
static inline void stream_read(struct scope_call *sc, FILE *fp, int fd, ssize_t n, bool short_)
{
    int err = errno;
    scope_io_end(sc, fd, false, n, short_ && fp && ferror_unlocked(fp), err);
    errno = err;
}

static inline void stream_write(struct scope_call *sc, FILE *fp, int fd, const void *buf, ssize_t n,
                                bool short_)
{
    int err = errno;
    scope_io_end(sc, fd, true, n, short_ && fp && ferror_unlocked(fp), err);
    scope_text_if(fd, buf, n, SCOPE_TEXT_STDIO);
    errno = err;
}

#define FREAD(name, call, size, n, fp)                                                        \
    WRAP_BEGIN(name, 0, call);                                                                \
    size_t r = scope_real_##name call;                                                        \
    stream_read(&sc_, fp, scope_fileno(fp), (ssize_t)(r * (size)), r < (n));                  \
    scope_leave();                                                                            \
    return r;

SCOPE_API size_t fread(void *ptr, size_t size, size_t n, FILE *fp) { FREAD(fread, (ptr, size, n, fp), size, n, fp) }
SCOPE_API size_t __fread_chk(void *ptr, size_t ptrlen, size_t size, size_t n, FILE *fp)
{
    FREAD(__fread_chk, (ptr, ptrlen, size, n, fp), size, n, fp)
}
SCOPE_API size_t fread_unlocked(void *ptr, size_t size, size_t n, FILE *fp)
{
    FREAD(fread_unlocked, (ptr, size, n, fp), size, n, fp)
}
SCOPE_API size_t __fread_unlocked_chk(void *ptr, size_t ptrlen, size_t size, size_t n, FILE *fp)
{
    FREAD(__fread_unlocked_chk, (ptr, ptrlen, size, n, fp), size, n, fp)
}

#define FGETS(name, type, call, fp, len)                                                      \
    WRAP_BEGIN(name, NULL, call);                                                             \
    type *r = scope_real_##name call;                                                         \
    stream_read(&sc_, fp, scope_fileno(fp), r ? (ssize_t)len(r) : 0, !r);                     \
    scope_leave();                                                                            \
    return r;

SCOPE_API char *fgets(char *s, int n, FILE *fp) { FGETS(fgets, char, (s, n, fp), fp, strlen) }
SCOPE_API char *__fgets_chk(char *s, size_t size, int n, FILE *fp)
{
    FGETS(__fgets_chk, char, (s, size, n, fp), fp, strlen)
}
SCOPE_API char *fgets_unlocked(char *s, int n, FILE *fp) { FGETS(fgets_unlocked, char, (s, n, fp), fp, strlen) }
/* Wide reads count characters: the bytes they decoded are the stream's business. */
SCOPE_API wchar_t *fgetws(wchar_t *s, int n, FILE *fp) { FGETS(fgetws, wchar_t, (s, n, fp), fp, wcslen) }
SCOPE_API wchar_t *__fgetws_chk(wchar_t *s, size_t size, int n, FILE *fp)
{
    FGETS(__fgetws_chk, wchar_t, (s, size, n, fp), fp, wcslen)
}

/* One character (end of file reads none). */
#define FGETC(name, type, eof, call, fp)                                                      \
    WRAP_BEGIN(name, eof, call);                                                              \
    type r = scope_real_##name call;                                                          \
    stream_read(&sc_, fp, scope_fileno(fp), r == (eof) ? 0 : 1, r == (eof));                  \
    scope_leave();                                                                            \
    return r;

SCOPE_API int fgetc(FILE *fp) { FGETC(fgetc, int, EOF, (fp), fp) }
SCOPE_API int getc(FILE *fp) { FGETC(getc, int, EOF, (fp), fp) }
SCOPE_API int getchar(void) { FGETC(getchar, int, EOF, (), stdin) }
SCOPE_API wint_t fgetwc(FILE *fp) { FGETC(fgetwc, wint_t, WEOF, (fp), fp) }

#define GETDELIM(name, call, fp)                                                              \
    WRAP_BEGIN(name, -1, call);                                                               \
    ssize_t r = scope_real_##name call;                                                       \
    stream_read(&sc_, fp, scope_fileno(fp), r < 0 ? 0 : r, r < 0);                            \
    scope_leave();                                                                            \
    return r;

SCOPE_API ssize_t getline(char **line, size_t *cap, FILE *fp) { GETDELIM(getline, (line, cap, fp), fp) }
SCOPE_API ssize_t getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
    GETDELIM(getdelim, (line, cap, delim, fp), fp)
}
SCOPE_API ssize_t __getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
    GETDELIM(__getdelim, (line, cap, delim, fp), fp)
}

/* scanf consumes what the stream position moved by. */
static int scanned(enum scope_fn fn, int (*real)(FILE *, const char *, va_list), FILE *fp,
                   const char *fmt, va_list ap)
{
    if (!scope_enter())
        return real(fp, fmt, ap);
    struct scope_call sc;
    scope_call_begin(&sc, fn);
    int saved_errno = errno;
    off64_t before = scope_real_ftello64(fp);
    errno = saved_errno;
    int r = real(fp, fmt, ap);
    int err = errno;
    off64_t after = scope_real_ftello64(fp);
    errno = err;
    stream_read(&sc, fp, scope_fileno(fp), before >= 0 && after > before ? after - before : 0, r == EOF);
    scope_leave();
    return r;
}

#define SCANF(name, vreal, fp, fmt)                                                           \
    SCOPE_NEED_REAL(vreal, EOF);                                                              \
    va_list ap;                                                                               \
    va_start(ap, fmt);                                                                        \
    int r = scanned(SCOPE_FN_##name, scope_real_##vreal, fp, fmt, ap);                        \
    va_end(ap);                                                                               \
    return r;

/* <stdio.h> renames fscanf and vfscanf to their __isoc99_ forms for C99 code, so the plain
 * symbols (what older binaries call) are defined under names of our own. */
SCOPE_API int scope_fscanf_(FILE *fp, const char *fmt, ...) __asm__("fscanf");
SCOPE_API int scope_vfscanf_(FILE *fp, const char *fmt, va_list ap) __asm__("vfscanf");
SCOPE_API int scope_fscanf_(FILE *fp, const char *fmt, ...) { SCANF(fscanf, vfscanf, fp, fmt) }
SCOPE_API int __isoc99_fscanf(FILE *fp, const char *fmt, ...) { SCANF(__isoc99_fscanf, __isoc99_vfscanf, fp, fmt) }
SCOPE_API int scope_vfscanf_(FILE *fp, const char *fmt, va_list ap)
{
    SCOPE_NEED_REAL(vfscanf, EOF);
    return scanned(SCOPE_FN_vfscanf, scope_real_vfscanf, fp, fmt, ap);
}
SCOPE_API int __isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
    SCOPE_NEED_REAL(__isoc99_vfscanf, EOF);
    return scanned(SCOPE_FN___isoc99_vfscanf, scope_real___isoc99_vfscanf, fp, fmt, ap);
}

/* readdir counts the bytes of the entries it hands out. */
#define READDIR(name, type, dir)                                                              \
    WRAP_BEGIN(name, NULL, (dir));                                                            \
    type *e = scope_real_##name(dir);                                                         \
    stream_read(&sc_, NULL, scope_dirfd(dir), e ? e->d_reclen : 0, false);               \
    scope_leave();                                                                            \
    return e;

SCOPE_API struct dirent *readdir(DIR *dir) { READDIR(readdir, struct dirent, dir) }
SCOPE_API struct dirent64 *readdir64(DIR *dir) { READDIR(readdir64, struct dirent64, dir) }

#define FWRITE(name, call, ptr, size, n, fp)                                                  \
    WRAP_BEGIN(name, 0, call);                                                                \
    size_t r = scope_real_##name call;                                                        \
    stream_write(&sc_, fp, scope_fileno(fp), ptr, (ssize_t)(r * (size)), r < (n));            \
    scope_leave();                                                                            \
    return r;

SCOPE_API size_t fwrite(const void *ptr, size_t size, size_t n, FILE *fp)
{
    FWRITE(fwrite, (ptr, size, n, fp), ptr, size, n, fp)
}
SCOPE_API size_t fwrite_unlocked(const void *ptr, size_t size, size_t n, FILE *fp)
{
    FWRITE(fwrite_unlocked, (ptr, size, n, fp), ptr, size, n, fp)
}

#define FPUTS(name, call, s, fp)                                                              \
    WRAP_BEGIN(name, EOF, call);                                                              \
    int r = scope_real_##name call;                                                           \
    stream_write(&sc_, fp, scope_fileno(fp), s, r == EOF ? 0 : (ssize_t)strlen(s), r == EOF); \
    scope_leave();                                                                            \
    return r;

SCOPE_API int fputs(const char *s, FILE *fp) { FPUTS(fputs, (s, fp), s, fp) }
SCOPE_API int fputs_unlocked(const char *s, FILE *fp) { FPUTS(fputs_unlocked, (s, fp), s, fp) }

SCOPE_API int puts(const char *s)
{
    WRAP_BEGIN(puts, EOF, (s));
    int r = scope_real_puts(s);
    int err = errno, fd = scope_fileno(stdout);
    ssize_t n = r == EOF ? 0 : (ssize_t)strlen(s);
    /* the bytes include the newline puts adds; the text is the string, then the newline */
    scope_io_end(&sc_, fd, true, n ? n + 1 : 0, r == EOF && ferror_unlocked(stdout), err);
    scope_text_if(fd, s, n, SCOPE_TEXT_STDIO);
    scope_text_if(fd, "\n", n ? 1 : 0, SCOPE_TEXT_STDIO);
    errno = err;
    scope_leave();
    return r;
}

#define FPUTC(name, call, c, fp)                                                              \
    WRAP_BEGIN(name, EOF, call);                                                              \
    int r = scope_real_##name call;                                                           \
    unsigned char ch = (unsigned char)(c);                                                    \
    stream_write(&sc_, fp, scope_fileno(fp), &ch, r == EOF ? 0 : 1, r == EOF);                \
    scope_leave();                                                                            \
    return r;

SCOPE_API int fputc(int c, FILE *fp) { FPUTC(fputc, (c, fp), c, fp) }
SCOPE_API int fputc_unlocked(int c, FILE *fp) { FPUTC(fputc_unlocked, (c, fp), c, fp) }
SCOPE_API int putchar(int c) { FPUTC(putchar, (c), c, stdout) }
SCOPE_API int putc(int c, FILE *fp) { FPUTC(putc, (c, fp), c, fp) }

/* A wide character's text is its UTF-8 form, whatever the stream's locale turns it into. */
static size_t utf8(wchar_t wc, unsigned char *o)
{
    uint32_t c = (uint32_t)wc;
    if (c < 0x80) {
        o[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (unsigned char)(0xc0 | c >> 6);
        o[1] = (unsigned char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (unsigned char)(0xe0 | c >> 12);
        o[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
        o[2] = (unsigned char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (c >> 18 & 0x07));
    o[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
    o[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
    o[3] = (unsigned char)(0x80 | (c & 0x3f));
    return 4;
}

#define FPUTWC(name, c, fp)                                                                   \
    WRAP_BEGIN(name, WEOF, (c, fp));                                                          \
    wint_t r = scope_real_##name(c, fp);                                                      \
    unsigned char o[4];                                                                       \
    size_t n = utf8(c, o);                                                                    \
    stream_write(&sc_, fp, scope_fileno(fp), o, r == WEOF ? 0 : (ssize_t)n, r == WEOF);       \
    scope_leave();                                                                            \
    return r;

SCOPE_API wint_t fputwc(wchar_t c, FILE *fp) { FPUTWC(fputwc, c, fp) }
SCOPE_API wint_t putwc(wchar_t c, FILE *fp) { FPUTWC(putwc, c, fp) }

/* printf and friends: the real function prints; when the stream's text is wanted it is formatted
 * a second time into a buffer of ours (text past 4 KiB is cut), which leaves the app's output and
 * return value exactly what glibc makes them. flag < 0: vfprintf, else __vfprintf_chk. */
#define PRINTED_TEXT 4096
static int printed(enum scope_fn fn, FILE *fp, int flag, const char *fmt, va_list ap)
{
    enum scope_fn real = flag < 0 ? SCOPE_FN_vfprintf : SCOPE_FN___vfprintf_chk;
    if (!*scope_hooks[real].real && !scope_resolve(real)) {
        errno = ENOSYS;
        return -1;
    }
    if (!scope_enter())
        return flag < 0 ? scope_real_vfprintf(fp, fmt, ap) : scope_real___vfprintf_chk(fp, flag, fmt, ap);
    int fd = scope_fileno(fp);
    bool text = scope_wants_text(fd);
    char buf[PRINTED_TEXT];
    int len = 0;
    if (text) {
        int saved_errno = errno;
        va_list cp;
        va_copy(cp, ap);
        len = vsnprintf(buf, sizeof buf, fmt, cp);
        va_end(cp);
        errno = saved_errno;
    }
    struct scope_call sc;
    scope_call_begin(&sc, fn);
    int r = flag < 0 ? scope_real_vfprintf(fp, fmt, ap) : scope_real___vfprintf_chk(fp, flag, fmt, ap);
    int err = errno;
    scope_io_end(&sc, fd, true, r, r < 0, err);
    if (text && r > 0 && len > 0) {
        size_t n = (size_t)(len < r ? len : r);
        scope_text(fd, buf, n < sizeof buf ? n : sizeof buf - 1, SCOPE_TEXT_STDIO);
    }
    errno = err;
    scope_leave();
    return r;
}

#define PRINTF_VA(name, fp, flag, fmt)                                                        \
    va_list ap;                                                                               \
    va_start(ap, fmt);                                                                        \
    int r = printed(SCOPE_FN_##name, fp, flag, fmt, ap);                                      \
    va_end(ap);                                                                               \
    return r;

/* The fortify level is passed on as given; a negative one means the plain function here. */
#define CHK(flag) ((flag) < 0 ? 0 : (flag))

SCOPE_API int fprintf(FILE *fp, const char *fmt, ...) { PRINTF_VA(fprintf, fp, -1, fmt) }
SCOPE_API int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...) { PRINTF_VA(__fprintf_chk, fp, CHK(flag), fmt) }
SCOPE_API int printf(const char *fmt, ...) { PRINTF_VA(printf, stdout, -1, fmt) }
SCOPE_API int __printf_chk(int flag, const char *fmt, ...) { PRINTF_VA(__printf_chk, stdout, CHK(flag), fmt) }
SCOPE_API int vfprintf(FILE *fp, const char *fmt, va_list ap) { return printed(SCOPE_FN_vfprintf, fp, -1, fmt, ap); }
SCOPE_API int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
    return printed(SCOPE_FN___vfprintf_chk, fp, CHK(flag), fmt, ap);
}
SCOPE_API int vprintf(const char *fmt, va_list ap) { return printed(SCOPE_FN_vprintf, stdout, -1, fmt, ap); }
SCOPE_API int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
    return printed(SCOPE_FN___vprintf_chk, stdout, CHK(flag), fmt, ap);
}
