/* reaper: children ended in every way, reaped by every function of the wait family, for
 * proc.exit. Each child exits with its own code (or is killed); the parent prints "<fn> <pid>" for
 * each so the test can match the records. waitid is asked once with WNOWAIT first (nothing
 * reaped: no record), then for real. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child(int code)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        if (code < 0)
            raise(-code);
        _exit(code);
    }
    return pid;
}

int main(void)
{
    int st;
    struct rusage ru;
    siginfo_t si;
    pid_t p;

    p = child(11);
    if (wait(NULL) != p)
        return 1;
    printf("wait %d\n", p);
    p = child(12);
    if (waitpid(p, &st, 0) != p || WEXITSTATUS(st) != 12)
        return 1;
    printf("waitpid %d\n", p);
    p = child(13);
    if (wait3(&st, 0, &ru) != p || WEXITSTATUS(st) != 13)
        return 1;
    printf("wait3 %d\n", p);
    p = child(-SIGTERM);
    if (wait4(p, &st, 0, &ru) != p || !WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
        return 1;
    printf("wait4 %d\n", p);
    p = child(14);
    if (waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT) != 0 || si.si_status != 14)
        return 1;
    if (waitid(P_PID, (id_t)p, &si, WEXITED) != 0 || si.si_status != 14)
        return 1;
    printf("waitid %d\n", p);
    /* nothing left: ECHILD, not an error record */
    if (waitpid(-1, &st, WNOHANG) != -1)
        return 1;
    return 0;
}
