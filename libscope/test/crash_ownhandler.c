/* crash_ownhandler: installs its own SIGSEGV handler (after libscope started), which prints a line
 * and exits with 3; then dereferences null in crash_own_here. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig)
{
    (void)sig;
    static const char line[] = "own handler ran\n";
    write(1, line, sizeof line - 1);
    _exit(3);
}

__attribute__((noinline)) int crash_own_here(volatile int *p)
{
    return *p;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    volatile int *volatile p = NULL;
    return crash_own_here(p);
}
