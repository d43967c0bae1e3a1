/* fdcount — opens 7 files, counts its own descriptors (/proc/self/fd without the directory's own),
 * prints the count, and keeps them all open for 1.5 s: longer than a 1 s summary period, so
 * libscope reports proc.fd at least once while the count holds, and again at the exit. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    for (int i = 0; i < 7; i++)
        if (open("/dev/null", O_RDONLY) < 0)
            return 1;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    printf("%d\n", n - 1);
    fflush(stdout);
    struct timespec ts = {1, 500 * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}
