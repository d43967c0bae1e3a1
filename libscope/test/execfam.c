/* execfam: opens, reads and closes FILE five times, then at once becomes `cat FILE` through the
 * exec-family entry point (or spawns it) that VARIANT names. The exec'ing image's records must
 * all reach the session before cat starts. The environment given to the variants that take one
 * has no LD_PRELOAD: the new image must stay scoped anyway.
 * usage: execfam VARIANT FILE
 * VARIANT: execl execle execlp execv execvp execvpe execve fexecve execveat spawn spawnp system */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *bare_env[] = {"PATH=/usr/bin:/bin", NULL};

static int waited(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    const char *v = argv[1], *file = argv[2];
    char buf[256];
    for (int i = 0; i < 5; i++) {
        int fd = open(file, O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof buf) < 0)
            return 3;
        close(fd);
    }
    char *args[] = {"cat", (char *)file, NULL};
    if (!strcmp(v, "execl"))
        execl("/bin/cat", "cat", file, (char *)NULL);
    else if (!strcmp(v, "execle"))
        execle("/bin/cat", "cat", file, (char *)NULL, bare_env);
    else if (!strcmp(v, "execlp"))
        execlp("cat", "cat", file, (char *)NULL);
    else if (!strcmp(v, "execv"))
        execv("/bin/cat", args);
    else if (!strcmp(v, "execvp"))
        execvp("cat", args);
    else if (!strcmp(v, "execvpe"))
        execvpe("cat", args, bare_env);
    else if (!strcmp(v, "execve"))
        execve("/bin/cat", args, bare_env);
    else if (!strcmp(v, "fexecve")) {
        int fd = open("/bin/cat", O_RDONLY | O_CLOEXEC);
        fexecve(fd, args, bare_env);
    } else if (!strcmp(v, "execveat"))
        execveat(AT_FDCWD, "/bin/cat", args, bare_env, 0);
    else if (!strcmp(v, "spawn") || !strcmp(v, "spawnp")) {
        pid_t pid;
        int rc = !strcmp(v, "spawn") ? posix_spawn(&pid, "/bin/cat", NULL, NULL, args, bare_env)
                                     : posix_spawnp(&pid, "cat", NULL, NULL, args, bare_env);
        return rc ? 4 : waited(pid);
    } else if (!strcmp(v, "system")) {
        snprintf(buf, sizeof buf, "cat '%s'", file);
        int st = system(buf);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 5;
    }
    perror(v);
    return 6;
}
