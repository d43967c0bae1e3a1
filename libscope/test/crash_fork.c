/* crash_fork: a forked child (no exec) dereferences null in crash_fork_child_here; the parent
 * prints "child <pid> signal <n>" and exits 0. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int crash_fork_child_here(volatile int *p)
{
    return *p;
}

int main(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        volatile int *volatile p = NULL;
        _exit(crash_fork_child_here(p));
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child %d signal %d\n", (int)pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}
