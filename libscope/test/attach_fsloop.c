/* attach_fsloop: every 100 ms opens, reads and closes the file named by argv[1] and prints
 * "read <n>", for the attach tests of a process that runs as another user (its fs events must reach
 * a session it cannot open itself). With "fork" as argv[2], a forked child does the reading (a
 * postmaster's backend, say), and its records must reach the session too.
 * usage: attach_fsloop FILE [fork] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || (argc == 3 && strcmp(argv[2], "fork")) || argc > 3) {
        fprintf(stderr, "usage: attach_fsloop FILE [fork]\n");
        return 2;
    }
    int forking = argc == 3;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (unsigned long n = 1;; n++) {
        char buf[256];
        pid_t child = forking ? fork() : 0;
        if (child > 0) {
            waitpid(child, NULL, 0);
            printf("read %lu\n", n);
            struct timespec req = {0, 100 * 1000 * 1000};
            while (nanosleep(&req, &req) != 0 && errno == EINTR)
                ;
            continue;
        }
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0) {
            perror(argv[1]);
            return 1;
        }
        while (read(fd, buf, sizeof buf) > 0)
            ;
        close(fd);
        if (forking)
            _exit(0);
        printf("read %lu\n", n);
        struct timespec req = {0, 100 * 1000 * 1000};
        while (nanosleep(&req, &req) != 0 && errno == EINTR)
            ;
    }
}
