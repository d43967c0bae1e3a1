/* crash_abort: abort() from crash_abort_here. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void crash_abort_here(int why)
{
    if (why)
        abort();
    printf("not reached\n");
}

int main(int argc, char **argv)
{
    (void)argv;
    crash_abort_here(argc);
    return 0;
}
