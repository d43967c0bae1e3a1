/* fdchaos: everything an app may do to descriptors it believes are all its own, with file I/O
 * between each step: closes 0..1023 one by one; opens and writes files (they get 0, 1, 2, …);
 * close_range(3, ~0U, 0); dup2()s one file onto every descriptor 3..63 and writes through each;
 * then opens, writes and closes files again. Writes DIR/done with the number of files written
 * ("files=16\n"); prints nothing (its stdout is closed). Exit status 0 when all went as expected.
 * usage: fdchaos DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *dir;
static int files;

static int make(const char *name, int i)
{
    char path[4096], line[64];
    snprintf(path, sizeof path, "%s/%s-%d", dir, name, i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int n = snprintf(line, sizeof line, "%s %d on fd %d\n", name, i, fd);
    if (write(fd, line, (size_t)n) != n)
        return -1;
    files++;
    return fd;
}

static int closerange(unsigned first, unsigned last)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    return close_range(first, last, 0);
#else
    return (int)syscall(SYS_close_range, first, last, 0);
#endif
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    dir = argv[1];
    for (int fd = 0; fd <= 1023; fd++)
        close(fd);

    /* phase 1: 0..4, phase 2: 5..9 */
    for (int i = 0; i < 5; i++)
        if (make("p1", i) != i)
            return 10;
    for (int i = 0; i < 5; i++)
        if (make("p2", i) != 5 + i)
            return 11;
    if (closerange(3, ~0U) != 0)
        return 12;
    for (int fd = 0; fd < 3; fd++)   /* 0..2 survive close_range */
        if (write(fd, "still open\n", 11) != 11)
            return 13;
    if (write(3, "x", 1) != -1)
        return 14;

    /* phase 3: one file behind every descriptor 3..63 */
    int src = make("p3", 0);
    if (src != 3)
        return 15;
    for (int fd = 4; fd <= 63; fd++)
        if (dup2(src, fd) != fd)
            return 16;
    for (int fd = 3; fd <= 63; fd++) {
        char line[32];
        int n = snprintf(line, sizeof line, "via %d\n", fd);
        if (write(fd, line, (size_t)n) != n)
            return 17;
    }
    for (int fd = 0; fd <= 63; fd++)
        if (close(fd) != 0)
            return 18;

    /* phase 4: open, write, close as if nothing happened */
    for (int i = 0; i < 5; i++) {
        int fd = make("p4", i);
        if (fd != 0 || close(fd) != 0)
            return 19;
    }

    char path[4096], line[32];
    snprintf(path, sizeof path, "%s/done", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int n = snprintf(line, sizeof line, "files=%d\n", files);
    if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd) != 0)
        return 20;
    return 0;
}
