/* crash_overflow: unbounded recursion in crash_overflow_here until the stack runs out (the stop
 * condition depends on a volatile the program never changes, so the compiler keeps the calls). */
static volatile int limit = -1;

__attribute__((noinline)) int crash_overflow_here(int depth)
{
    volatile char pad[256];
    pad[depth % 256] = (char)depth;
    if (depth == limit)
        return 0;
    return crash_overflow_here(depth + 1) + pad[(depth + 1) % 256];
}

int main(void)
{
    return crash_overflow_here(0);
}
