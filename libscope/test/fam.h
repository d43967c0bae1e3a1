/* fam.h — shared by the fam_*.c programs, which call every libc function of one family so a test
 * can check the record libscope gives for each (families.test.ts).
 *
 * Every call under test goes through V(fn): an address the compiler cannot see through, so it
 * neither inlines the function (with optimisation bits/stdio.h turns getline into __getdelim,
 * putchar into putc, fputc_unlocked into a macro body that never calls libc) nor replaces it with
 * another one (printf("x\n") → puts, fputs("x", f) → fwrite, fprintf(f, "%s", s) → fputs). Each
 * program undefines _FORTIFY_SOURCE before any include for the same reason: a plain open() must
 * reach the symbol open, not __open_2. The __*_chk, __*_2 and __*xstat* symbols are declared here
 * by hand, so they are called whatever the compile flags. */
#ifndef FAM_H
#define FAM_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static inline void *fam_opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}
#define V(fn) ((__typeof__(&(fn)))fam_opaque((void *)&(fn)))

/* Failure: a message on stderr and exit status 1. */
#define FAIL(...)                                                                             \
    do {                                                                                      \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                       \
        fprintf(stderr, __VA_ARGS__);                                                         \
        fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));                         \
        exit(1);                                                                              \
    } while (0)
#define CHECK(cond, what)                                                                     \
    do {                                                                                      \
        if (!(cond))                                                                          \
            FAIL("%s: %s", what, #cond);                                                      \
    } while (0)

/* The directory the program works in (argv[1]) and paths in it. */
static const char *fam_dir;

static inline const char *P(const char *name)
{
    static char bufs[8][4096];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", fam_dir, name);
    return b;
}

static inline void fam_init(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        exit(2);
    }
    fam_dir = argv[1];
}

/* A file with the given content, made with open/write/close (the plain calls). */
static inline void fam_mkfile(const char *name, const char *content)
{
    int fd = open(P(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, name);
    size_t n = strlen(content);
    CHECK(write(fd, content, n) == (ssize_t)n, name);
    CHECK(close(fd) == 0, name);
}

/* Data as one printable line: newlines and other control bytes escaped. */
static inline const char *fam_show(const void *data, size_t n)
{
    static char out[4096];
    const unsigned char *p = data;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < sizeof out; i++) {
        if (p[i] == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (p[i] < 0x20 || p[i] >= 0x7f) {
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", p[i]);
        } else {
            out[o++] = (char)p[i];
        }
    }
    out[o] = 0;
    return out;
}

static inline const char *fam_errname(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ESPIPE: return "ESPIPE";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    default: return "E?";
    }
}

#endif
