/* destload: a deterministic workload for the destination tests: N files opened, written (one
 * 16-byte write each) and closed in DIR, one every INTERVAL_MS milliseconds (0: no pause). With
 * "fork", a child forked first does the same in DIR/child-* files, and the parent waits for it.
 * usage: destload N INTERVAL_MS DIR [fork] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: destload N INTERVAL_MS DIR [fork]\n");
        return 2;
    }
    long n = atol(argv[1]), ms = atol(argv[2]);
    pid_t child = argc == 5 ? fork() : -1;
    const char *name = child == 0 ? "child-f" : "f";
    for (long i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s%ld", argv[3], name, i % 50);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16 || close(fd) != 0)
            return 1;
        if (ms > 0) {
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    int st = 0;
    if (child > 0 && (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
        return 1;
    return 0;
}
