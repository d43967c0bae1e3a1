/* A static executable (linked with -static): no dynamic loader, so LD_PRELOAD never loads libscope
 * into it. Exec'd by a scoped shell, it must leave a notice in the session (elfkind.c). */
#include <unistd.h>

int main(void)
{
    static const char msg[] = "static hello\n";
    return write(1, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1) ? 0 : 1;
}
