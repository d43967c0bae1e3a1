/* execempty: replaces itself with PROG ARGS... under an empty environment, the way some
 * launchers do; libscope must keep the new image scoped.  usage: execempty PROG [ARGS...] */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char *empty[] = {NULL};
    execve(argv[1], argv + 1, empty);
    perror("execve");
    return 127;
}
