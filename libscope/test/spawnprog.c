/* spawnprog spawn|spawnp PROG [ARG...] — starts PROG with posix_spawn (PROG a path) or posix_spawnp
 * (searched on PATH), waits for it and says "status N" (its exit code, or 128 + its signal). */
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    pid_t pid;
    int rc = !strcmp(argv[1], "spawnp") ? posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ)
                                        : posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ);
    if (rc) {
        printf("spawn failed %d\n", rc);
        return 1;
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 3;
    printf("status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}
