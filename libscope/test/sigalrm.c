/* sigalrm: a SIGALRM every 50 µs whose handler write()s "tick\n" to fd 1, while the main thread
 * keeps opening, reading and closing a file in DIR (plain and stdio) — interposed calls
 * interrupted by a handler that makes another one. Stops after exactly TICKS handler writes,
 * waits 1.2 s (past any per-second event rate limit the storm ran into), then opens
 * DIR/after-ticks once more, prints "ticks=<n>" and exits 0.
 * usage: sigalrm DIR [TICKS]  (default 100000) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks, failed;
static long limit = 100000;

static void on_alarm(int sig)
{
    (void)sig;
    if (ticks >= limit)
        return;
    int saved = errno;
    if (write(1, "tick\n", 5) != 5)
        failed = 1;
    ticks++;
    errno = saved;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (argc > 2)
        limit = atol(argv[2]);
    char path[4096], after[4096], buf[64];
    snprintf(path, sizeof path, "%s/ticking", argv[1]);
    snprintf(after, sizeof after, "%s/after-ticks", argv[1]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "some text\nmore text\n", 20) != 20 || close(fd) != 0) {
        perror(path);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0)
        return 1;
    struct itimerval it = {{0, 50}, {0, 50}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) {
        perror("setitimer");
        return 1;
    }

    for (long i = 0; ticks < limit; i++) {
        if (i % 2) {
            fd = open(path, O_RDONLY);
            if (fd < 0 || read(fd, buf, sizeof buf) != 20 || close(fd) != 0) {
                perror("open/read/close");
                return 1;
            }
        } else {
            FILE *f = fopen(path, "r");
            if (!f || !fgets(buf, sizeof buf, f) || strcmp(buf, "some text\n") != 0 || fclose(f) != 0) {
                perror("fopen/fgets/fclose");
                return 1;
            }
        }
    }

    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    if (failed) {
        fprintf(stderr, "a handler write failed\n");
        return 1;
    }
    struct timespec rest = {1, 200000000};
    while (nanosleep(&rest, &rest) != 0)
        ;
    fd = open(after, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "done\n", 5) != 5 || close(fd) != 0) {
        perror(after);
        return 1;
    }
    printf("ticks=%ld\n", (long)ticks);
    return 0;
}
