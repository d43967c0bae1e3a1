/* scope-supervise — the tracer (tracer.h) under a program: for now it writes what it saw, one JSON
 * line a call or process event, for its tests (libscope/test/supervise.test.ts); the records
 * libscope makes come next (issue "beyond libc").
 *
 *   scope-supervise --calls FILE -- PROG [ARG…]
 *
 * Exits with PROG's status (a shell's: 128 + N when killed by signal N), 126/127 when PROG could not
 * be run, 125 when tracing could not begin. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracer.h"

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void on_call(void *ctx, const struct sup_call *c)
{
    FILE *f = ctx;
    fprintf(f, "{\"pid\":%d,\"tid\":%d,\"call\":\"%s\",\"ret\":%lld", (int)c->pid, (int)c->tid,
            sup_call_name(c->nr), (long long)c->ret);
    if (c->path[0]) {
        fputs(",\"path\":", f);
        json_str(f, c->path);
    }
    if (c->path2[0]) {
        fputs(",\"path2\":", f);
        json_str(f, c->path2);
    }
    const char *const extra[][2] = {{"abs", c->abs}, {"abs2", c->abs2}, {"local", c->local}, {"peer", c->peer}};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (extra[i][1][0]) {
            fprintf(f, ",\"%s\":", extra[i][0]);
            json_str(f, extra[i][1]);
        }
    fprintf(f, ",\"arg0\":%lld}\n", (long long)c->args[0]);
    fflush(f);
}

static void on_proc(void *ctx, enum sup_event e, pid_t pid, long other)
{
    FILE *f = ctx;
    static const char *const names[] = {"fork", "thread", "exec", "exit"};
    fprintf(f, "{\"pid\":%d,\"event\":\"%s\",\"other\":%ld}\n", (int)pid, names[e], other);
    fflush(f);
}

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[1], "--calls") || strcmp(argv[3], "--")) {
        fprintf(stderr, "usage: scope-supervise --calls FILE -- PROG [ARG...]\n");
        return 2;
    }
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        fprintf(stderr, "scope-supervise: %s: %s\n", argv[2], strerror(errno));
        return 125;
    }
    struct sup_hooks h = {f, on_call, on_proc};
    char why[512] = "";
    int rc = sup_run(argv + 4, &h, why, sizeof why);
    fclose(f);
    if (rc < 0) {
        fprintf(stderr, "scope-supervise: %s\n", why);
        return 125;
    }
    if (why[0])
        fprintf(stderr, "scope-supervise: %s\n", why);
    return rc;
}
