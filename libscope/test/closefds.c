/* closefds: closes the descriptors an app might think it owns, then does file I/O and exits.
 * usage: closefds std|all DIR — "std" closes 1 and 2, "all" closes 0..1023. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int all = strcmp(argv[1], "all") == 0;
    for (int fd = all ? 0 : 1; fd <= (all ? 1023 : 2); fd++)
        close(fd);
    char path[4096];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/after-close-%d", argv[2], i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            return 3;
        if (write(fd, "hello, world\n", 13) != 13)
            return 4;
        close(fd);
    }
    return 0;
}
