/* attach_chaos: a long-running program that, each time a line arrives on stdin, does to its
 * descriptors everything an app may do to descriptors it believes are all its own — closes 3..1023
 * one by one, close_range(3, ~0U, 0), dup2()s one file onto every descriptor 3..63 and writes
 * through each — with file I/O between the steps, then writes DIR/done-<round> ("files=N"). For
 * checking that an attached libscope survives it (its descriptors are its reporting thread's own).
 * usage: attach_chaos DIR; prints "ready" first and "done <round>" after each round. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *dir;
static int files;

static int make(const char *name, int round, int i)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%d-%d", dir, name, round, i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    if (write(fd, "chaos\n", 6) != 6)
        return -1;
    files++;
    return fd;
}

static int chaos(int round)
{
    for (int fd = 3; fd <= 1023; fd++)
        close(fd);
    for (int i = 0; i < 4; i++) {
        int fd = make("after-close", round, i);
        if (fd < 0)
            return 1;
        close(fd);
    }
    syscall(SYS_close_range, 3U, ~0U, 0U);
    int fd = make("dup-source", round, 0);
    if (fd < 0)
        return 1;
    for (int target = 3; target <= 63; target++) {
        if (target == fd)
            continue;
        if (dup2(fd, target) != target || write(target, "x", 1) != 1)
            return 1;
    }
    for (int target = 3; target <= 63; target++)
        close(target);
    for (int i = 0; i < 4; i++) {
        int f = make("after-dup", round, i);
        if (f < 0)
            return 1;
        close(f);
    }
    char path[4096], line[64];
    snprintf(path, sizeof path, "%s/done-%d", dir, round);
    int d = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int n = snprintf(line, sizeof line, "files=%d\n", files);
    if (d < 0 || write(d, line, (size_t)n) != n)
        return 1;
    close(d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    dir = argv[1];
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("ready\n");
    char buf[256];
    int round = 0;
    while (read(0, buf, sizeof buf) > 0) {
        round++;
        if (chaos(round) != 0) {
            printf("failed %d\n", round);
            return 1;
        }
        printf("done %d\n", round);
    }
    return 0;
}
