/* tornwriter: N lines of about SIZE bytes to stdout, each "<TAG>:<seq>:" then padding, so that the
 * stdout events of several writers sharing one events file can be told apart and counted; a pause
 * of 200 µs every 16 lines keeps libscope's queue from overflowing (loss is not what is tested).
 * usage: tornwriter TAG N SIZE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tornwriter TAG N SIZE\n");
        return 2;
    }
    long n = atol(argv[2]), size = atol(argv[3]);
    static char line[65536];
    if (size < 32 || size >= (long)sizeof line)
        return 2;
    for (long i = 0; i < n; i++) {
        int k = snprintf(line, sizeof line, "%s:%ld:", argv[1], i);
        /* lengths vary so that records end anywhere in a page */
        long len = size / 2 + (long)((unsigned)(i * 2654435761u) % (unsigned)size);
        memset(line + k, 'a' + (int)(i % 26), (size_t)(len - k - 1));
        line[len - 1] = '\n';
        if (write(1, line, (size_t)len) != len)
            return 1;
        if (i % 16 == 15) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}
