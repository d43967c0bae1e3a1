/* chdirsig DIR N: in DIR (which holds a directory a), opens "f" (relative, made if missing) N times
 * while a SIGALRM handler, fired every 200 µs, moves the process between DIR and DIR/a with chdir:
 * the handler often runs while the main thread is inside libscope's open or close wrapper. After
 * each open the program tells from the descriptor's inode which f it opened, and prints one line
 * per open, in order: "<i> top|a clean|raced", raced when the handler ran during the open call
 * (then the change may be recorded before or after the open: which one is not knowable). Exits 0
 * when every open worked. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t in_a, flips;

static void flip(int sig)
{
    (void)sig;
    int saved = errno;
    if (chdir(in_a ? ".." : "a") == 0)
        in_a = !in_a;
    flips++;
    errno = saved;
}

int main(int argc, char **argv)
{
    if (argc != 3 || chdir(argv[1]) != 0) {
        fprintf(stderr, "usage: chdirsig DIR N (DIR holding a directory a)\n");
        return 2;
    }
    long n = atol(argv[2]);
    struct stat top, sub;
    int fd = open("f", O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || fstat(fd, &top) != 0 || close(fd) != 0)
        return 1;
    fd = open("a/f", O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || fstat(fd, &sub) != 0 || close(fd) != 0)
        return 1;
    struct sigaction sa = {0};
    sa.sa_handler = flip;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (long i = 0; i < n; i++) {
        struct stat st;
        sig_atomic_t before = flips;
        fd = open("f", O_WRONLY);
        sig_atomic_t after = flips;
        if (fd < 0 || fstat(fd, &st) != 0)
            return 1;
        printf("%ld %s %s\n", i, st.st_ino == sub.st_ino ? "a" : st.st_ino == top.st_ino ? "top" : "?",
               before == after ? "clean" : "raced");
        close(fd);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    return 0;
}
