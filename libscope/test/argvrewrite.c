/* argvrewrite: rewrites its whole argv area at start, as nginx, postgres and sshd do to set a
 * process title (nginx -g 'daemon off;' shows " -g daemon off;"), then does some file I/O. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
    memset(start, 0, (size_t)(end - start));
    strcpy(start, "worker: title -g daemon off;");
    char buf[256];
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd < 0)
        return 1;
    while (read(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    return 0;
}
