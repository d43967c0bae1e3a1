/* reopenmode FILE ROUNDS BURST — one name opened over and over while its mode changes.
 *
 * Round i sets FILE's mode to 0600 | (i + 1), then opens and closes it BURST times, then sleeps
 * 150 ms (longer than the reporting thread's nap, so it reports the round before the next chmod).
 * The descriptor is closed before the record is reported, so fs.open's file_perms come from looking
 * the name up; a lookup may serve later records of the same name only when it was made after them
 * (libscope/src/report/events.c, name_stat). An event of round i must therefore show the mode of
 * round i or of a later one, never an earlier one. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: reopenmode FILE ROUNDS BURST\n");
        return 2;
    }
    int rounds = atoi(argv[2]), burst = atoi(argv[3]);
    if (rounds < 1 || rounds > 63 || burst < 1) {
        fprintf(stderr, "reopenmode: ROUNDS 1-63, BURST at least 1\n");
        return 2;
    }
    for (int i = 0; i < rounds; i++) {
        if (chmod(argv[1], (mode_t)(0600 | (i + 1))) != 0) {
            perror("reopenmode: chmod");
            return 1;
        }
        for (int k = 0; k < burst; k++) {
            int fd = open(argv[1], O_RDONLY);
            if (fd < 0 || close(fd) != 0) {
                perror("reopenmode: open/close");
                return 1;
            }
        }
        struct timespec ts = {0, 150 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}
