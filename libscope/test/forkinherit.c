/* forkinherit: the parent opens DIR/access.log (appending) and DIR/data (reading), then forks;
 * the child writes three lines to the log and reads the data, closes both and exits; the parent
 * waits, then closes its own copies (having written and read nothing). Like an nginx master
 * whose worker writes the access log the master opened.
 * usage: forkinherit DIR */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char log[4096], data[4096];
    snprintf(log, sizeof log, "%s/access.log", argv[1]);
    snprintf(data, sizeof data, "%s/data", argv[1]);
    int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int dfd = open(data, O_RDONLY);
    if (lfd < 0 || dfd < 0)
        return 3;
    pid_t pid = fork();
    if (pid < 0)
        return 4;
    if (pid == 0) {
        char b[64];
        for (int i = 0; i < 3; i++)
            if (write(lfd, "GET / 200\n", 10) != 10)
                _exit(5);
        if (read(dfd, b, sizeof b) < 0)
            _exit(6);
        close(lfd);
        close(dfd);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    close(lfd);
    close(dfd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 7;
}
