/* A stand-in for a dynamically linked Go program, for machines without Go: `go build` marks its
 * output with a .go.buildinfo section, and that section is what libscope looks for (elfkind.c). The
 * program itself is C and does its I/O through libc, so a test can also see it is still recorded. */
#include <fcntl.h>
#include <unistd.h>

__attribute__((section(".go.buildinfo"), used)) static const char buildinfo[32] = "\xff Go buildinf:";

int main(int argc, char **argv)
{
    int fd = open(argc > 1 ? argv[1] : "/etc/hostname", O_RDONLY);
    if (fd >= 0) {
        char buf[64];
        (void)!read(fd, buf, sizeof buf);
        close(fd);
    }
    return buildinfo[0] == 0;
}
