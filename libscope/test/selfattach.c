/* selfattach — a program that scopes itself the way `scope attach` scopes a running process:
 * dlopen libscope.so (RTLD_NOW, no LD_PRELOAD), then call scope_attach with a config file on its
 * main thread while it goes on with its work. Its work, every 20 ms: open, write and close
 * <dir>/loop.txt through the PLT, and <dir>/pointer.txt through a function pointer loaded from
 * the GOT at each call (a GLOB_DAT slot, on a read-only RELRO page).
 *
 *   selfattach <libscope.so> <dir>
 *
 * Commands on stdin, one a line, each answered by one line on stdout:
 *   load [setenv]   dlopen the library (setenv: first put it in this process's LD_PRELOAD, as an
 *                   app that scopes its own children would) → "load ok" | "load error <why>"
 *   attach <conf>   → "attach <scope_attach's return value>"
 *   fds             → "fds <every descriptor in /proc/self/fd>"
 *   tasks           → "tasks <threads>"
 *   zlib <path>     dlopen libz.so.1 now and write <path> with gzopen/gzwrite/gzclose → "zlib ok"
 *   fork <ms>       a child that opens <dir>/child.txt every 20 ms for <ms>, then _exit → "fork <pid>"
 *   exec <path>     a child that execvp's cat <path> (its output to /dev/null) → "exec <pid>"
 *   call <lib> <fn> <arg>   dlopen <lib> now and call int <fn>(const char *<arg>) → "call <result>"
 *   undump          prctl(PR_SET_DUMPABLE, 0), as a daemon that dropped privileges is → "undump 0"
 *   quit            exit(0)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *lib, *dir;
static void *handle;

static void say(const char *fmt, const char *a, long n)
{
    char line[4200];
    int len = a ? snprintf(line, sizeof line, fmt, a) : snprintf(line, sizeof line, fmt, n);
    if (len > 0 && write(1, line, (size_t)len) < 0)
        exit(3);
}

static void put(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, "x", 1) != 1)
            exit(4);
        close(fd);
    }
}

/* open's address read from the GOT at each call, after the attach too */
__attribute__((noinline)) static void put_via_pointer(void)
{
    int (*volatile op)(const char *, int, ...) = open;
    char path[4096];
    snprintf(path, sizeof path, "%s/pointer.txt", dir);
    int fd = op(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void fds(void)
{
    char line[4096] = "fds";
    size_t len = 3;
    DIR *d = opendir("/proc/self/fd");
    int own = d ? dirfd(d) : -1;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != own && len + strlen(e->d_name) + 2 < sizeof line)
            len += (size_t)snprintf(line + len, sizeof line - len, " %s", e->d_name);
    if (d)
        closedir(d);
    say("%s\n", line, 0);
}

static void tasks(void)
{
    long n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    say("tasks %ld\n", NULL, n);
}

static void zlib(const char *path)
{
    void *z = dlopen("libz.so.1", RTLD_NOW);
    void *(*gzopen)(const char *, const char *) = z ? (void *(*)(const char *, const char *))dlsym(z, "gzopen") : NULL;
    int (*gzwrite)(void *, const void *, unsigned) = z ? (int (*)(void *, const void *, unsigned))dlsym(z, "gzwrite") : NULL;
    int (*gzclose)(void *) = z ? (int (*)(void *))dlsym(z, "gzclose") : NULL;
    void *f = gzopen && gzwrite && gzclose ? gzopen(path, "wb") : NULL;
    if (!f) {
        say("zlib error %s\n", z ? "gzopen" : dlerror(), 0);
        return;
    }
    gzwrite(f, "compressed\n", 11);
    gzclose(f);
    say("zlib ok\n", "", 0);
}

static void child(long ms)
{
    for (long t = 0; t < ms; t += 20) {
        put("child.txt");
        nap_ms(20);
    }
    _exit(0);
}

static void call(char *args)
{
    char *fn = strchr(args, ' '), *arg = fn ? strchr(fn + 1, ' ') : NULL;
    if (!arg) {
        say("call usage\n", "", 0);
        return;
    }
    *fn++ = 0;
    *arg++ = 0;
    void *h = dlopen(args, RTLD_NOW);
    int (*f)(const char *) = h ? (int (*)(const char *))dlsym(h, fn) : NULL;
    if (!f)
        say("call error %s\n", dlerror(), 0);
    else
        say("call %ld\n", NULL, (long)f(arg));
}

static void command(char *line)
{
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = 0;
    if (!strcmp(line, "load")) {
        if (arg && !strcmp(arg, "setenv")) {
            /* after what it was started with (the ASan runtime, in the sanitized test run) */
            const char *was = getenv("LD_PRELOAD");
            char both[8192];
            snprintf(both, sizeof both, "%s%s%s", was ? was : "", was && *was ? " " : "", lib);
            setenv("LD_PRELOAD", both, 1);
        }
        handle = dlopen(lib, RTLD_NOW);
        if (handle)
            say("load ok\n", "", 0);
        else
            say("load error %s\n", dlerror(), 0);
    } else if (!strcmp(line, "attach") && arg) {
        int (*attach)(const char *) = handle ? (int (*)(const char *))dlsym(handle, "scope_attach") : NULL;
        say("attach %ld\n", NULL, attach ? attach(arg) : -9999);
    } else if (!strcmp(line, "fds")) {
        fds();
    } else if (!strcmp(line, "tasks")) {
        tasks();
    } else if (!strcmp(line, "zlib") && arg) {
        zlib(arg);
    } else if (!strcmp(line, "fork") && arg) {
        pid_t pid = fork();
        if (pid == 0)
            child(atol(arg));
        say("fork %ld\n", NULL, (long)pid);
    } else if (!strcmp(line, "exec") && arg) {
        pid_t pid = fork();
        if (pid == 0) {
            char *argv[] = {"cat", arg, NULL};
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            execvp("cat", argv);
            _exit(127);
        }
        say("exec %ld\n", NULL, (long)pid);
    } else if (!strcmp(line, "call") && arg) {
        call(arg);
    } else if (!strcmp(line, "undump")) {
        say("undump %ld\n", NULL, (long)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    } else if (!strcmp(line, "quit")) {
        exit(0);
    } else {
        say("unknown %s\n", line, 0);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: selfattach <libscope.so> <dir>\n");
        return 2;
    }
    lib = argv[1];
    dir = argv[2];
    say("ready %ld\n", NULL, (long)getpid());
    char buf[8192];
    size_t have = 0;
    for (;;) {
        put("loop.txt");
        put_via_pointer();
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        struct pollfd p = {.fd = 0, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        ssize_t n = read(0, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            return 0;   /* stdin closed: the test is gone */
        have += (size_t)n;
        buf[have] = 0;
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = 0;
            command(buf);
            have -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, have + 1);
        }
    }
}
