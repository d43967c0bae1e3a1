/* static_exec thread PROG | static_exec wait — two things a supervisor must get right that a
 * single-threaded program never does (libscope/supervise/). "thread": a second thread execs PROG
 * while the first sleeps (the exec'ing thread takes the process's id, the other thread is gone).
 * "wait": says "waiting", then waits for SIGTERM; its handler says "term" and exits 9. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *prog;

static void *exec_it(void *arg)
{
    (void)arg;
    execl(prog, prog, (char *)NULL);
    perror("static_exec: execl");
    _exit(1);
}

static void on_term(int sig)
{
    (void)sig;
    static const char msg[] = "term\n";
    if (write(1, msg, sizeof msg - 1) < 0) { /* the status says it anyway */ }
    _exit(9);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "thread")) {
        prog = argv[2];
        pthread_t t;
        if (pthread_create(&t, NULL, exec_it, NULL) != 0)
            return 1;
        for (;;)
            pause();
    }
    if (argc == 2 && !strcmp(argv[1], "wait")) {
        signal(SIGTERM, on_term);
        printf("waiting\n");
        fflush(stdout);
        for (;;)
            pause();
    }
    fprintf(stderr, "usage: static_exec thread PROG | static_exec wait\n");
    return 2;
}
