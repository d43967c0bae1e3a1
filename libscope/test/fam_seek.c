/* fam_seek: every seek and position function, each at least once, on DIR/seek.dat (100 bytes,
 * "0123456789" ten times); prints each resulting position and the byte found there.
 * usage: fam_seek DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <fcntl.h>

#include "fam.h"

static void at_fd(const char *op, off64_t pos, int fd)
{
    CHECK(pos >= 0, op);
    char c;
    CHECK(read(fd, &c, 1) == 1, op);
    printf("%s %lld '%c'\n", op, (long long)pos, c);
}

static void at_file(const char *op, long long pos, FILE *f)
{
    CHECK(pos >= 0, op);
    int c = fgetc(f);
    CHECK(c != EOF, op);
    printf("%s %lld '%c'\n", op, pos, c);
}

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    char data[101];
    for (int i = 0; i < 100; i++)
        data[i] = (char)('0' + i % 10);
    data[100] = 0;
    fam_mkfile("seek.dat", data);

    int fd = open(P("seek.dat"), O_RDONLY);
    CHECK(fd >= 0, "open");
    at_fd("lseek", V(lseek)(fd, 13, SEEK_SET), fd);
    at_fd("lseek64", V(lseek64)(fd, -5, SEEK_END), fd);
    CHECK(close(fd) == 0, "close");

    FILE *f = fopen(P("seek.dat"), "r");
    CHECK(f != NULL, "fopen");
    CHECK(V(fseek)(f, 21, SEEK_SET) == 0, "fseek");
    at_file("fseek+ftell", V(ftell)(f), f);
    CHECK(V(fseeko)(f, 10, SEEK_CUR) == 0, "fseeko");
    at_file("fseeko+ftello", V(ftello)(f), f);
    CHECK(V(fseeko64)(f, -40, SEEK_END) == 0, "fseeko64");
    at_file("fseeko64+ftello64", V(ftello64)(f), f);

    fpos_t pos;
    CHECK(V(fgetpos)(f, &pos) == 0, "fgetpos");
    V(rewind)(f);
    at_file("rewind", ftell(f), f);
    CHECK(V(fsetpos)(f, &pos) == 0, "fsetpos");
    at_file("fgetpos+fsetpos", ftell(f), f);

    fpos64_t pos64;
    CHECK(fseek(f, 77, SEEK_SET) == 0, "fseek");
    CHECK(V(fgetpos64)(f, &pos64) == 0, "fgetpos64");
    rewind(f);
    CHECK(V(fsetpos64)(f, &pos64) == 0, "fsetpos64");
    at_file("fgetpos64+fsetpos64", ftell(f), f);
    CHECK(fclose(f) == 0, "fclose");
    return 0;
}
