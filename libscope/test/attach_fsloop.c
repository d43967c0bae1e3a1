/* attach_fsloop: every 100 ms opens, reads and closes the file named by argv[1] and prints
 * "read <n>", for the attach tests of a process that runs as another user (its fs events must reach
 * a session it cannot open itself). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: attach_fsloop FILE\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    for (unsigned long n = 1;; n++) {
        char buf[256];
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0) {
            perror(argv[1]);
            return 1;
        }
        while (read(fd, buf, sizeof buf) > 0)
            ;
        close(fd);
        printf("read %lu\n", n);
        struct timespec req = {0, 100 * 1000 * 1000};
        while (nanosleep(&req, &req) != 0 && errno == EINTR)
            ;
    }
}
