/* dirreuse DIR N — relative names against a directory descriptor whose number is reused.
 *
 * N rounds, in DIR: a<i> is opened by the raw system call (libscope never sees it made), f<i> is
 * created relative to it with openat, both are closed, and b<i> is opened (through libc) under the
 * number a<i> had. The b<i> stay open to the end, so each round reuses a new number. The reporting
 * thread gets to the f<i> records later, when the number already holds b<i>: asked then, the
 * kernel names b<i>, which is not where f<i> was made.
 * Exit 3 when a round did not reuse the number (the test is then void, and says so). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3 || chdir(argv[1]) != 0) {
        fprintf(stderr, "usage: dirreuse DIR N\n");
        return 2;
    }
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) {
        char a[32], b[32], f[32];
        snprintf(a, sizeof a, "a%d", i);
        snprintf(b, sizeof b, "b%d", i);
        snprintf(f, sizeof f, "f%d", i);
        if (mkdir(a, 0700) != 0 || mkdir(b, 0700) != 0) {
            perror("dirreuse: mkdir");
            return 1;
        }
        int dfd = (int)syscall(SYS_openat, AT_FDCWD, a, O_RDONLY | O_DIRECTORY);
        int fd = openat(dfd, f, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (dfd < 0 || fd < 0) {
            perror("dirreuse: open");
            return 1;
        }
        close(fd);
        close(dfd);
        int bfd = open(b, O_RDONLY | O_DIRECTORY);
        if (bfd != dfd) {
            fprintf(stderr, "dirreuse: b%d got descriptor %d, not %d\n", i, bfd, dfd);
            return 3;
        }
    }
    struct timespec t = {0, 300 * 1000 * 1000};
    nanosleep(&t, NULL);
    return 0;
}
