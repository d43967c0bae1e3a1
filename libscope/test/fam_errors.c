/* fam_errors: file calls that fail with a known errno, in DIR; prints "<function> <errno name>"
 * for each and exits 0 when every one failed as expected.  usage: fam_errors DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <fcntl.h>
#include <sys/stat.h>

#include "fam.h"

static int bad;

static void failed(const char *op, int did_fail, int want)
{
    int e = errno;
    if (!did_fail || e != want) {
        fprintf(stderr, "%s: %s, errno %s, expected %s\n", op, did_fail ? "failed" : "succeeded",
                fam_errname(e), fam_errname(want));
        bad = 1;
    }
    printf("%s %s\n", op, fam_errname(e));
}

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    char c = 0;
    struct stat st;
    int p[2];
    CHECK(mkdir(P("exists.d"), 0755) == 0, "mkdir exists.d");
    CHECK(pipe(p) == 0, "pipe");

    errno = 0;
    failed("open", V(open)(P("missing.dat"), O_RDONLY) == -1, ENOENT);
    errno = 0;
    failed("fopen", V(fopen)(P("missing.dat"), "r") == NULL, ENOENT);
    errno = 0;
    failed("read", V(read)(999, &c, 1) == -1, EBADF);
    errno = 0;
    failed("write", V(write)(999, &c, 1) == -1, EBADF);
    errno = 0;
    failed("stat", V(stat)(P("missing.dat"), &st) == -1, ENOENT);
    errno = 0;
    failed("lseek", V(lseek)(p[0], 0, SEEK_SET) == -1, ESPIPE);
    errno = 0;
    failed("unlink", V(unlink)(P("missing.dat")) == -1, ENOENT);
    errno = 0;
    failed("rename", V(rename)(P("missing.dat"), P("renamed.dat")) == -1, ENOENT);
    errno = 0;
    failed("mkdir", V(mkdir)(P("exists.d"), 0755) == -1, EEXIST);

    CHECK(close(p[0]) == 0 && close(p[1]) == 0, "close");
    return bad;
}
