/* static_tree DIR PROG PORT [kill] — a static executable (no libc for libscope to interpose) doing
 * a little of everything the supervisor (libscope/supervise/) must follow: files made, opened,
 * missed, renamed, deleted; names relative to the working directory (DIR, after a chdir) and to a
 * directory descriptor; a directory made; a thread that opens a file; a forked child that opens a
 * file and execs PROG; a signal handled; a refused connect (port 1), and a connect to 127.0.0.1:PORT
 * unless PORT is 0. Exits 5, or with "kill" ends by SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;
static volatile sig_atomic_t handled;

static void in_dir(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static void *thread_main(void *arg)
{
    (void)arg;
    char p[4096];
    in_dir(p, sizeof p, "by-thread");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void on_usr1(int sig) { handled = sig; }

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: static_tree DIR PROG PORT [kill]\n");
        return 2;
    }
    dir = argv[1];
    char a[4096], b[4096], sub[4096], missing[4096], child[4096];
    in_dir(a, sizeof a, "made");
    in_dir(b, sizeof b, "renamed");
    in_dir(sub, sizeof sub, "subdir");
    in_dir(missing, sizeof missing, "missing");
    in_dir(child, sizeof child, "by-child");
    int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x\n", 2) != 2 || close(fd) != 0)
        return perror("static_tree: made"), 1;
    if (open(missing, O_RDONLY) >= 0 || errno != ENOENT)
        return fprintf(stderr, "static_tree: %s exists\n", missing), 1;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0)
        return fprintf(stderr, "static_tree: thread\n"), 1;
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open(child, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (cfd >= 0)
            close(cfd);
        execl(argv[2], argv[2], (char *)NULL);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return fprintf(stderr, "static_tree: child\n"), 1;
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    if (handled != SIGUSR1)
        return fprintf(stderr, "static_tree: SIGUSR1 not handled\n"), 1;
    printf("handled SIGUSR1\n");
    fflush(stdout);
    if (rename(a, b) != 0 || unlink(b) != 0 || mkdir(sub, 0755) != 0)
        return perror("static_tree: rename/unlink/mkdir"), 1;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof sin) == 0)
        return fprintf(stderr, "static_tree: connect to port 1 succeeded\n"), 1;
    close(s);
    int port = atoi(argv[3]);
    if (port > 0) {
        s = socket(AF_INET, SOCK_STREAM, 0);
        sin.sin_port = htons((unsigned short)port);
        if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof sin) != 0)
            return perror("static_tree: connect"), 1;
        close(s);
    }
    if (chdir(dir) != 0)
        return perror("static_tree: chdir"), 1;
    int rel = open("relative", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int dfd = open(sub, O_RDONLY | O_DIRECTORY);
    int at = dfd < 0 ? -1 : openat(dfd, "at-dirfd", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (rel < 0 || at < 0 || close(rel) != 0 || close(at) != 0 || close(dfd) != 0)
        return perror("static_tree: relative names"), 1;
    if (argc > 4 && !strcmp(argv[4], "kill"))
        raise(SIGTERM);
    return 5;
}
