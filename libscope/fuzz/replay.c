/* replay — a fuzz target's entry point run once over each file named on the command line, without
 * libFuzzer: the regression test (test/fuzzcorpus.test.ts) replays every corpus file through the
 * normal (gcc) build this way, so a crash once found stays fixed without clang. */
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        unsigned char *buf = NULL;
        size_t len = 0, cap = 0, got;
        do {
            if (len == cap) {
                unsigned char *b = realloc(buf, cap = cap ? 2 * cap : 65536);
                if (!b) {
                    fclose(f);
                    free(buf);
                    return 2;
                }
                buf = b;
            }
            got = fread(buf + len, 1, cap - len, f);
            len += got;
        } while (got > 0);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    printf("replayed %d\n", argc - 1);
    return 0;
}
