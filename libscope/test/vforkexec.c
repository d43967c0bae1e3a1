/* vforkexec: three vfork children — one execve's /bin/sh -c 'echo child $0' vforked-sh, one
 * execv's /bin/echo, one _exit(7)s without exec — the parent waits for each and prints its status,
 * then opens DIR/after-vfork (records must keep coming after the children).
 * usage: vforkexec DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* not a local: a vfork child shares the parent's stack frame */
static int bad;

static int status_of(const char *what, pid_t pid)
{
    int st;
    if (pid < 0) {
        perror(what);
        return -1;
    }
    if (waitpid(pid, &st, 0) != pid) {
        perror("waitpid");
        return -1;
    }
    if (WIFEXITED(st))
        printf("%s exited %d\n", what, WEXITSTATUS(st));
    else
        printf("%s killed by signal %d\n", what, WTERMSIG(st));
    fflush(stdout);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0) {
        char *args[] = {"/bin/sh", "-c", "echo child $0", "vforked-sh", NULL};
        execve(args[0], args, environ);
        _exit(127);
    }
    bad = status_of("execve /bin/sh", pid) != 0;

    pid = vfork();
    if (pid == 0) {
        char *args[] = {"/bin/echo", "child echo", NULL};
        execv(args[0], args);
        _exit(127);
    }
    bad |= status_of("execv /bin/echo", pid) != 0;

    pid = vfork();
    if (pid == 0)
        _exit(7);
    bad |= status_of("_exit", pid) != 7;

    char path[4096];
    snprintf(path, sizeof path, "%s/after-vfork", argv[1]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "parent\n", 7) != 7 || close(fd) != 0) {
        perror(path);
        return 1;
    }
    return bad;
}
