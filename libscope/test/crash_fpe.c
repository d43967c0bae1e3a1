/* crash_fpe: an integer division by zero in crash_fpe_here. */
__attribute__((noinline)) int crash_fpe_here(volatile int a, volatile int b)
{
    return a / b;
}

int main(void)
{
    volatile int zero = 0;
    return crash_fpe_here(7, zero);
}
