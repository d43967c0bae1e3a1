/* The syscall-heavy workload of DESIGN's budget: N tiny reads and N tiny writes, nothing else. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int in = open("/dev/zero", O_RDONLY);
    int out = open("/dev/null", O_WRONLY);
    if (in < 0 || out < 0) {
        perror("open");
        return 1;
    }
    char c = 0;
    for (long i = 0; i < n; i++) {
        if (read(in, &c, 1) != 1 || write(out, &c, 1) != 1) {
            perror("io");
            return 1;
        }
    }
    close(in);
    close(out);
    return 0;
}
