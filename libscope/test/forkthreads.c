/* forkthreads: forks 100 children and runs 8 threads, each writing its own file in DIR with
 * write() or fwrite(), so a test can check every byte count libscope reports.
 * usage: forkthreads DIR — prints one summary line, exits 3. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 100
#define THREADS 8

static const char *dir;

static void *thread_main(void *arg)
{
    long t = (long)arg;
    char path[4096], buf[1000];
    memset(buf, 'a' + (int)t, sizeof buf);
    snprintf(path, sizeof path, "%s/thread-%ld", dir, t);
    /* thread t writes (t + 1) * 100 chunks of (t + 1) * 10 bytes; odd threads through stdio */
    size_t chunk = (size_t)(t + 1) * 10;
    if (t % 2) {
        FILE *f = fopen(path, "w");
        if (!f)
            exit(10);
        for (int i = 0; i < (t + 1) * 100; i++)
            fwrite(buf, 1, chunk, f);
        fclose(f);
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            exit(11);
        for (int i = 0; i < (t + 1) * 100; i++)
            if (write(fd, buf, chunk) != (ssize_t)chunk)
                exit(12);
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    dir = argv[1];
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, thread_main, (void *)t);
    for (int c = 0; c < CHILDREN; c++) {
        pid_t pid = fork();
        if (pid < 0)
            return 13;
        if (pid == 0) {
            char path[4096], buf[200];
            memset(buf, 'x', sizeof buf);
            snprintf(path, sizeof path, "%s/child-%d", dir, c);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            /* child c writes c + 1 bytes; half leave with _exit, half with exit */
            if (fd < 0 || write(fd, buf, (size_t)c + 1) != c + 1)
                _exit(14);
            close(fd);
            if (c % 2)
                _exit(0);
            exit(0);
        }
    }
    int failed = 0;
    for (int c = 0; c < CHILDREN; c++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    printf("children=%d failed=%d threads=%d\n", CHILDREN, failed, THREADS);
    return 3;
}
