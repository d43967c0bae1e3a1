/* ident.c — the process identity (pid, names, command line, id) read by the reporting thread
 * from /proc and /etc rather than NSS, so no module gets loaded into the app behind its back. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ident.h"

struct scope_ident scope_id;

/* Bounded copy that always terminates (and truncation is expected, not an error). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

/* name of id in an /etc/passwd-style file (name:x:id:...), or the number itself */
static void name_of(const char *file, unsigned id, char *out, size_t cap)
{
    snprintf(out, cap, "%u", id);
    FILE *f = fopen(file, "re");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || strtoul(c2 + 1, NULL, 10) != id || c2[1] == ':')
            continue;
        *c1 = 0;
        copy_str(out, cap, line);
        break;
    }
    fclose(f);
}

void scope_ident_load(void)
{
    struct scope_ident *p = &scope_id;
    p->pid = getpid();
    p->ppid = getppid();
    p->uid = getuid();
    p->gid = getgid();
    name_of("/etc/passwd", p->uid, p->user, sizeof p->user);
    name_of("/etc/group", p->gid, p->group, sizeof p->group);
    if (gethostname(p->host, sizeof p->host) != 0)
        strcpy(p->host, "unknown");
    p->host[sizeof p->host - 1] = 0;

    ssize_t n = slurp("/proc/self/cmdline", p->cmd, sizeof p->cmd);
    if (n > 0) {
        const char *argv0 = p->cmd;
        const char *base = strrchr(argv0, '/');
        copy_str(p->proc, sizeof p->proc, base ? base + 1 : argv0);
        while (n > 0 && p->cmd[n - 1] == 0)
            n--;
        for (ssize_t i = 0; i < n; i++)   /* arguments joined by one space */
            if (p->cmd[i] == 0)
                p->cmd[i] = ' ';
        p->cmd[n] = 0;
    }
    if (!p->proc[0]) {
        slurp("/proc/self/comm", p->proc, sizeof p->proc);
        p->proc[strcspn(p->proc, "\n")] = 0;
    }
    if (!p->cmd[0])
        copy_str(p->cmd, sizeof p->cmd, p->proc);

    /* id: <host>-<proc>-<last 32 bytes of cmd>, not starting inside a UTF-8 sequence */
    size_t cl = strlen(p->cmd), from = cl > 32 ? cl - 32 : 0;
    while (from < cl && ((unsigned char)p->cmd[from] & 0xC0) == 0x80)
        from++;
    size_t hl = strnlen(p->host, 255), pl = strnlen(p->proc, 255);
    memcpy(p->id, p->host, hl);
    p->id[hl] = '-';
    memcpy(p->id + hl + 1, p->proc, pl);
    p->id[hl + 1 + pl] = '-';
    copy_str(p->id + hl + pl + 2, sizeof p->id - hl - pl - 2, p->cmd + from);

    p->cgroup[0] = 0;
    if (slurp("/proc/self/cgroup", p->cgroup, sizeof p->cgroup) > 0)
        p->cgroup[strcspn(p->cgroup, "\n")] = 0;
}
