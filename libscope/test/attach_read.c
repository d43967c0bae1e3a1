/* attach_read: a program blocked in read(2) on stdin, for the injection tests (inject.test.ts).
 * Prints "ready", then "echo: <line>" for each line read. A read that fails with EINTR prints
 * "read: EINTR": an injection must restart the read, never let the program see one. SIGUSR1 (with
 * SA_RESTART) prints "usr1 <CLOCK_MONOTONIC ns>", so a test can tell when it was delivered. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void say(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3);
        s += w;
        n -= (size_t)w;
    }
}

static void on_usr1(int sig)
{
    (void)sig;
    int saved = errno;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long ns = (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
    char buf[32], *p = buf + sizeof buf;
    *--p = '\n';
    do
        *--p = (char)('0' + ns % 10);
    while ((ns /= 10) > 0);
    *--p = ' ';
    say("usr1", 4);
    say(p, (size_t)(buf + sizeof buf - p));
    errno = saved;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    say("ready\n", 6);
    char line[4096];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(0, line + have, sizeof line - have);
        if (n < 0 && errno == EINTR) {
            say("read: EINTR\n", 12);
            continue;
        }
        if (n < 0) {
            perror("read");
            return 1;
        }
        if (n == 0)
            return 0;
        have += (size_t)n;
        char *nl;
        while ((nl = memchr(line, '\n', have)) != NULL) {
            size_t len = (size_t)(nl - line) + 1;
            say("echo: ", 6);
            say(line, len);
            memmove(line, line + len, have - len);
            have -= len;
        }
        if (have == sizeof line)
            have = 0;
    }
}
