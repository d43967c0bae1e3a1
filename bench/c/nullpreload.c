/* The floor under any LD_PRELOAD interposer: read, write, open and close wrapped by functions that
 * do nothing but call libc's (found once with dlsym(RTLD_NEXT)). The percall part runs its loops
 * under this too, so "added per call" can be read beside what the extra call layer alone costs on
 * this machine (an indirect call after each system call, whose branch history the kernel entry and
 * exit may have flushed). Built by the bench: cc -O2 -shared -fPIC. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include "openmode.h"
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>
#include <unistd.h>

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_open)(const char *, int, ...);
static int (*real_close)(int);

__attribute__((constructor)) static void find_real(void)
{
    real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
}

ssize_t read(int fd, void *buf, size_t n) { return real_read(fd, buf, n); }
ssize_t write(int fd, const void *buf, size_t n) { return real_write(fd, buf, n); }
int close(int fd) { return real_close(fd); }
int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    return real_open(path, flags, mode);
}
