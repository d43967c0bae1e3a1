/* execvpunset: removes LD_PRELOAD from its own environment, then execvp's PROG ARGS... through a
 * PATH search; libscope must keep the new image scoped.  usage: execvpunset PROG [ARGS...] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    unsetenv("LD_PRELOAD");
    execvp(argv[1], argv + 1);
    perror("execvp");
    return 127;
}
