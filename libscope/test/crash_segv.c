/* crash_segv: a null dereference in crash_segv_here. */
#include <stdio.h>

__attribute__((noinline)) int crash_segv_here(volatile int *p)
{
    return *p + 1;
}

int main(void)
{
    volatile int *volatile p = NULL;
    printf("start\n");
    fflush(stdout);
    return crash_segv_here(p);
}
