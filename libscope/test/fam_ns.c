/* fam_ns: every function that changes names in a directory, each at least once, in DIR:
 * mkdir mkdir.d, mkdirat mkdirat.d; rename/renameat/renameat2 <fn>.old → <fn>.new; unlink
 * unlink.dat, unlinkat unlinkat.dat, rmdir rmdir.d. Prints each return value, then what DIR holds.
 * usage: fam_ns DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fam.h"

static void did(const char *op, int r)
{
    CHECK(r == 0, op);
    printf("%s %d\n", op, r);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    int dfd = open(fam_dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0, "open DIR");

    did("mkdir", V(mkdir)(P("mkdir.d"), 0755));
    did("mkdirat", V(mkdirat)(dfd, "mkdirat.d", 0755));

    fam_mkfile("rename.old", "rename\n");
    fam_mkfile("renameat.old", "renameat\n");
    fam_mkfile("renameat2.old", "renameat2\n");
    did("rename", V(rename)(P("rename.old"), P("rename.new")));
    did("renameat", V(renameat)(dfd, "renameat.old", dfd, "renameat.new"));
    did("renameat2", V(renameat2)(dfd, "renameat2.old", dfd, "renameat2.new", RENAME_NOREPLACE));

    fam_mkfile("unlink.dat", "unlink\n");
    fam_mkfile("unlinkat.dat", "unlinkat\n");
    CHECK(mkdir(P("rmdir.d"), 0755) == 0, "mkdir rmdir.d");
    did("unlink", V(unlink)(P("unlink.dat")));
    did("unlinkat", V(unlinkat)(dfd, "unlinkat.dat", 0));
    did("rmdir", V(rmdir)(P("rmdir.d")));
    CHECK(close(dfd) == 0, "close DIR");

    DIR *d = opendir(fam_dir);
    CHECK(d != NULL, "opendir");
    char *names[16];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && count < 16)
            names[count++] = strdup(e->d_name);
    CHECK(closedir(d) == 0, "closedir");
    qsort(names, (size_t)count, sizeof names[0], by_name);
    printf("left:");
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    return 0;
}
