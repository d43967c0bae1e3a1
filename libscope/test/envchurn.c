/* envchurn: replaces its environment the way bash does before each command (a new array, the old
 * one gone) while its opens of a missing file fail, for argv[1] seconds. The old array is made
 * unreadable rather than freed (two regions holding the same variables, taking turns), so a thread
 * of libscope still walking it faults at once instead of reading stale memory. Under a non-C locale, as an app that called
 * setlocale would be. Its environment is long (a getenv walking it takes a while). Prints the rounds made; status 0 unless something here failed. */
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { REGION = 1 << 17, MAXVARS = 1024, PAD = 800 };

/* A copy of from in region; the first copy also gets PAD variables of its own, so a walk over the
 * array (getenv's) takes long enough to be caught in the middle. */
static char **fill(char *region, char **from, int pad)
{
    char **arr = (char **)region;
    char *text = region + MAXVARS * sizeof(char *);
    size_t i = 0;
    for (; pad > 0 && i < MAXVARS - 1; pad--, i++) {
        arr[i] = text;
        text += sprintf(text, "ENVCHURN_%d=x", pad) + 1;
    }
    for (; *from && i < MAXVARS - 1; from++, i++) {
        size_t n = strlen(*from) + 1;
        if (text + n > region + REGION)
            break;
        memcpy(text, *from, n);
        arr[i] = text;
        text += n;
    }
    arr[i] = NULL;
    return arr;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1;
    const char *missing = argc > 2 ? argv[2] : "/nonexistent/envchurn";
    if (!setlocale(LC_ALL, "C.UTF-8"))
        fprintf(stderr, "envchurn: no C.UTF-8 locale; going on in C\n");
    char *r[2];
    for (int i = 0; i < 2; i++)
        if ((r[i] = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
            perror("envchurn: mmap");
            return 1;
        }
    char **orig = environ;
    char **env[2] = {fill(r[0], orig, PAD), fill(r[1], orig, PAD)};
    environ = env[0];
    if (mprotect(r[1], REGION, PROT_NONE) != 0) {
        perror("envchurn: mprotect");
        return 1;
    }
    int cur = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long rounds = 0;
    do {
        int next = 1 - cur;
        if (mprotect(r[next], REGION, PROT_READ) != 0) {
            perror("envchurn: mprotect");
            return 1;
        }
        environ = env[next];
        if (mprotect(r[cur], REGION, PROT_NONE) != 0) {
            perror("envchurn: mprotect");
            return 1;
        }
        cur = next;
        if (open(missing, O_RDONLY) >= 0) {
            fprintf(stderr, "envchurn: %s exists\n", missing);
            return 1;
        }
        rounds++;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
    printf("%ld\n", rounds);
    return 0;
}
