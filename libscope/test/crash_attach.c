/* crash_attach: scopes itself as `scope attach` would (dlopen libscope.so, no LD_PRELOAD, then
 * scope_attach with a config file), then crashes in crash_attach_here. With "own", it first
 * installs its own SIGSEGV handler (through its patched GOT), which prints a line and _exits(3).
 *
 *   crash_attach <libscope.so> <conf> [own]
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig)
{
    (void)sig;
    static const char line[] = "own handler ran\n";
    write(1, line, sizeof line - 1);
    _exit(3);
}

__attribute__((noinline)) int crash_attach_here(volatile int *p)
{
    return *p;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    void *lib = dlopen(argv[1], RTLD_NOW);
    int (*attach)(const char *) = lib ? (int (*)(const char *))dlsym(lib, "scope_attach") : NULL;
    int rc = attach ? attach(argv[2]) : -1;
    printf("attach %d\n", rc);
    fflush(stdout);
    if (argc > 3 && !strcmp(argv[3], "own")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_segv;
        sigaction(SIGSEGV, &sa, NULL);
    }
    volatile int *volatile p = NULL;
    return crash_attach_here(p);
}
