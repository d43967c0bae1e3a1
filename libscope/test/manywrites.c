/* manywrites: N one-byte writes to stdout (default 1000000), to overflow libscope's queue.
 * usage: manywrites [N] */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    for (long i = 0; i < n; i++) {
        char c = (char)('a' + i % 26);
        if (i % 64 == 63)
            c = '\n';
        if (write(1, &c, 1) != 1)
            return 1;
    }
    return 0;
}
