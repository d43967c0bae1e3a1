/* attach_sigsuspend: waits for SIGUSR1 in sigsuspend(2), with SIGUSR1 blocked outside it, for the
 * injection tests (inject.test.ts). Prints "ready", then for each SIGUSR1 "woke <n> blocked=<0|1>":
 * blocked=1 when SIGUSR1 is blocked again after sigsuspend returned — the real mask, which the
 * kernel puts back on the way out of sigsuspend and an injection must not lose. A sigsuspend that
 * returns without the signal prints "spurious". */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
    (void)sig;
    got = 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, none, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    printf("ready\n");
    for (int n = 1;;) {
        sigsuspend(&none);
        if (!got) {
            printf("spurious\n");
            continue;
        }
        got = 0;
        sigprocmask(SIG_BLOCK, NULL, &now);
        printf("woke %d blocked=%d\n", n++, sigismember(&now, SIGUSR1));
    }
}
