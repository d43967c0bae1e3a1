/* crash_disp: prints, for SIGSEGV SIGBUS SIGILL SIGFPE SIGABRT, the kernel's disposition (raw
 * rt_sigaction: "dfl" or "set") and what sigaction() tells the app, then whether the main thread
 * has an alternate stack. */
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ksa {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

int main(void)
{
    const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (int i = 0; i < 5; i++) {
        struct ksa k;
        struct sigaction a;
        syscall(SYS_rt_sigaction, sigs[i], NULL, &k, 8);
        sigaction(sigs[i], NULL, &a);
        printf("%d kernel=%s app=%s\n", sigs[i], k.handler == (void *)SIG_DFL ? "dfl" : "set",
               a.sa_handler == SIG_DFL ? "dfl" : "set");
    }
    stack_t ss;
    sigaltstack(NULL, &ss);
    printf("altstack=%s\n", ss.ss_flags & SS_DISABLE ? "none" : "set");
    return 0;
}
