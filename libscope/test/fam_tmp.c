/* fam_tmp: the libc functions that create and open a file themselves (the mkstemp family,
 * tmpfile, tmpfile64) and mkdtemp, each once in DIR, plus a mkstemp that fails (a template
 * without XXXXXX: EINVAL). Each prints "<function> fd=<n> file=<the name it made>" (tmpfile:
 * "file=" and the kernel's name of its descriptor) and writes "<function>\n" into its file.
 * usage: fam_tmp DIR */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <fcntl.h>
#include <stdlib.h>

#include "fam.h"

static void made(const char *op, int fd, const char *name)
{
    CHECK(fd >= 0, op);
    size_t n = strlen(op);
    CHECK(write(fd, op, n) == (ssize_t)n && write(fd, "\n", 1) == 1, op);
    printf("%s fd=%d file=%s\n", op, fd, name);
    CHECK(close(fd) == 0, op);
}

static char *tmpl(const char *op, const char *suffix)
{
    static char bufs[16][4096];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s-XXXXXX%s", fam_dir, op, suffix);
    return b;
}

static void streamed(const char *op, FILE *f)
{
    CHECK(f != NULL, op);
    char link[64], name[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fileno(f));
    ssize_t n = readlink(link, name, sizeof name - 1);
    CHECK(n > 0, "readlink");
    name[n] = 0;
    CHECK(fprintf(f, "%s\n", op) > 0, op);
    printf("%s fd=%d file=%s\n", op, fileno(f), name);
    CHECK(fclose(f) == 0, op);
}

int main(int argc, char **argv)
{
    fam_init(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char *t;

    t = tmpl("mkstemp", "");
    made("mkstemp", V(mkstemp)(t), t);
    t = tmpl("mkstemp64", "");
    made("mkstemp64", V(mkstemp64)(t), t);
    t = tmpl("mkostemp", "");
    made("mkostemp", V(mkostemp)(t, O_APPEND | O_CLOEXEC), t);
    t = tmpl("mkostemp64", "");
    made("mkostemp64", V(mkostemp64)(t, O_CLOEXEC), t);
    t = tmpl("mkstemps", ".sfx");
    made("mkstemps", V(mkstemps)(t, 4), t);
    t = tmpl("mkstemps64", ".sfx");
    made("mkstemps64", V(mkstemps64)(t, 4), t);
    t = tmpl("mkostemps", ".sfx");
    made("mkostemps", V(mkostemps)(t, 4, O_CLOEXEC), t);
    t = tmpl("mkostemps64", ".sfx");
    made("mkostemps64", V(mkostemps64)(t, 4, O_CLOEXEC), t);

    streamed("tmpfile", V(tmpfile)());
    streamed("tmpfile64", V(tmpfile64)());

    t = tmpl("mkdtemp", "");
    CHECK(V(mkdtemp)(t) == t, "mkdtemp");
    printf("mkdtemp file=%s\n", t);

    char bad[4096];
    snprintf(bad, sizeof bad, "%s/no-template", fam_dir);
    errno = 0;
    CHECK(V(mkstemp)(bad) == -1 && errno == EINVAL, "mkstemp without XXXXXX fails with EINVAL");
    printf("mkstemp-bad file=%s\n", bad);
    return 0;
}
