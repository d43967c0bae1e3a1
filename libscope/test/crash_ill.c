/* crash_ill: an illegal instruction (ud2 from __builtin_trap on x86-64) in crash_ill_here. */
__attribute__((noinline)) int crash_ill_here(volatile int x)
{
    if (x)
        __builtin_trap();
    return x;
}

int main(int argc, char **argv)
{
    (void)argv;
    return crash_ill_here(argc);
}
