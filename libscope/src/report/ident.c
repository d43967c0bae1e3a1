/* ident.c — the process identity (pid, names, command line, id, executable, container and
 * namespaces) read from /proc and /etc rather than NSS, so no module gets loaded into the app
 * behind its back. Read by the reporting thread, or at init when SCOPE_FILTER needs it first;
 * the command line alone is read at libscope's start, before main can rewrite argv. */
#include <ctype.h>
#include <sys/random.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libc/libc.h"
#include "config/config.h"
#include "report/ident.h"
#include "report/redact.h"
#include "util/json.h"

struct scope_ident scope_id;
unsigned scope_ident_gen;

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = scope_real_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = scope_real_read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    scope_real_close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

/* name of id in an /etc/passwd-style file (name:x:id:...), or the number itself */
static void name_of(const char *file, unsigned id, char *out, size_t cap)
{
    snprintf(out, cap, "%u", id);
    FILE *f = scope_real_fopen(file, "re");
    if (!f)
        return;
    char line[1024];
    while (scope_real_fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || strtoul(c2 + 1, NULL, 10) != id || c2[1] == ':')
            continue;
        *c1 = 0;
        scope_str_copy(out, cap, line);
        break;
    }
    scope_real_fclose(f);
}

/* The container id: the first run of exactly 64 lowercase hex digits standing alone between
 * separators, which is how docker (docker-<id>.scope, /docker/<id>), containerd
 * (cri-containerd-<id>), cri-o (crio-<id>), podman (libpod-<id>) and kubernetes
 * (/kubepods/.../<id>) name a container's cgroup. */
static void container_id(const char *s, size_t n, char out[65])
{
    out[0] = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && (isdigit((unsigned char)s[j]) || (s[j] >= 'a' && s[j] <= 'f')))
            j++;
        if (j - i == 64 && (i == 0 || !isalnum((unsigned char)s[i - 1])) &&
            (j == n || !isalnum((unsigned char)s[j]))) {
            memcpy(out, s + i, 64);
            out[64] = 0;
            return;
        }
        i = j > i ? j : i + 1;
    }
}

/* "mnt:[4026531841]" → 4026531841; 0 when unreadable. */
static uint64_t ns_inode(const char *link)
{
    char buf[64];
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *b = strchr(buf, '[');
    return b ? strtoull(b + 1, NULL, 10) : 0;
}

/* PROC_PID_INIT_INO: the kernel gives the initial pid namespace this fixed inode number. */
#define INIT_PIDNS 0xEFFFFFFCULL

/* The pid in the outermost pid namespace we can see: /proc/self/status's NSpid lists our pid in
 * the namespace of the mounted /proc first, then inward to our own. More than one column: that
 * /proc is an outer namespace's (`unshare -fp` without --mount-proc: the host's). One column in
 * the initial namespace: the pid is the host's. Otherwise (a container's own /proc, `unshare
 * --mount-proc`) no outer pid can be read from inside: 0. */
static pid_t carried_host, carried_pid;
static uint64_t carried_ns;
static char host_var[80];

static pid_t read_outer_pid(uint64_t pidns);

static pid_t outer_pid(uint64_t pidns)
{
    pid_t p = read_outer_pid(pidns);
    if (!p && carried_host && getpid() == carried_pid && pidns == carried_ns)
        p = carried_host;
    return p;
}

void scope_ident_fork_child(void)
{
    host_var[0] = 0;
    carried_host = 0;
    if (getpid() != 1)
        return;   /* only the first process of a new pid namespace: its parent's /proc is still there */
    uint64_t ns = ns_inode("/proc/self/ns/pid");
    pid_t outer = read_outer_pid(ns);
    if (outer <= 1)
        return;
    carried_host = outer;
    carried_pid = 1;
    carried_ns = ns;
    snprintf(host_var, sizeof host_var, "SCOPE_HOST_PID=%d:%d:%llu", (int)outer, 1, (unsigned long long)ns);
}

void scope_ident_take_carried(void)
{
    const char *v = getenv("SCOPE_HOST_PID");
    if (!v)
        return;
    int outer = 0, pid = 0;
    unsigned long long ns = 0;
    if (sscanf(v, "%d:%d:%llu", &outer, &pid, &ns) == 3 && pid == getpid() && outer > 0) {
        carried_host = outer;
        carried_pid = pid;
        carried_ns = ns;
        snprintf(host_var, sizeof host_var, "SCOPE_HOST_PID=%d:%d:%llu", outer, pid, ns);
    }
    unsetenv("SCOPE_HOST_PID");
}

const char *scope_ident_host_var(void)
{
    return host_var[0] && carried_pid == (pid_t)scope_real_syscall(SYS_getpid) ? host_var : NULL;
}

static pid_t read_outer_pid(uint64_t pidns)
{
    char buf[4096], path[64];
    if (slurp(scope_proc(path, sizeof path, "status"), buf, sizeof buf) <= 0)
        return 0;
    const char *l = strstr(buf, "\nNSpid:");
    if (!l)
        return pidns == INIT_PIDNS ? (scope_subject() ? scope_subject() : getpid()) : 0;
    char *at = (char *)l + 7, *next;
    long first = strtol(at, &next, 10);
    int cols = 0;
    while (next != at) {
        cols++;
        at = next;
        strtol(at, &next, 10);
    }
    return cols >= 2 || (cols == 1 && pidns == INIT_PIDNS) ? (pid_t)first : 0;
}

/* A random (version 4, RFC 9562) uuid in its 36-character text form. */
static void new_uuid(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
        /* no entropy yet (very early boot): still unique enough per host and instant */
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32), x = (uint64_t)(uintptr_t)out;
        for (int i = 0; i < 16; i++)
            b[i] = (unsigned char)((i < 8 ? t : x) >> (8 * (i % 8)));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0, o = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
        out[o] = 0;
    }
}

static void machine_id(char out[33])
{
    char buf[64];
    out[0] = 0;
    if (slurp("/etc/machine-id", buf, sizeof buf) < 32)
        return;
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)buf[i]))
            return;
    memcpy(out, buf, 32);
    out[32] = 0;
}

/* The subject's pid, parent and real ids, from its status (proxy reporting). */
static void subject_ids(struct scope_ident *p)
{
    char buf[4096], path[64];
    p->pid = scope_subject();
    p->ppid = 0;
    p->uid = p->gid = (uid_t)-1;
    if (slurp(scope_proc(path, sizeof path, "status"), buf, sizeof buf) <= 0)
        return;
    const char *l;
    if ((l = strstr(buf, "\nPPid:")))
        p->ppid = (pid_t)strtol(l + 6, NULL, 10);
    if ((l = strstr(buf, "\nUid:")))
        p->uid = (uid_t)strtoul(l + 5, NULL, 10);
    if ((l = strstr(buf, "\nGid:")))
        p->gid = (gid_t)strtoul(l + 5, NULL, 10);
}

static char argv0[256];   /* the start's first argument, the name when comm cannot be read */
static bool started;

void scope_ident_start(void)
{
    static char raw[4096];
    char path[64];
    struct scope_ident *p = &scope_id;
    ssize_t n = slurp(scope_proc(path, sizeof path, "cmdline"), raw, sizeof raw);
    started = true;
    if (n <= 0) {
        p->cmd[0] = argv0[0] = 0;
        scope_ident_gen++;
        return;
    }
    const char *base = strrchr(raw, '/');
    scope_str_copy(argv0, sizeof argv0, base ? base + 1 : raw);
    /* on unless plainly turned off: a mistyped value keeps secrets out */
    const char *v = scope_cfg_get("SCOPE_REDACT_ARGS");
    bool off = v && (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
                     !strcasecmp(v, "off"));
    scope_redact_cmdline(raw, (size_t)n, p->cmd, sizeof p->cmd, !off);
    scope_ident_gen++;
}

void scope_ident_load(void)
{
    static pid_t loaded_for;   /* init may have read it already (SCOPE_FILTER) */
    struct scope_ident *p = &scope_id;
    if (loaded_for == getpid())
        return;
    loaded_for = getpid();
    if (!started)
        scope_ident_start();
    char path[64];
    if (scope_subject())
        subject_ids(p);
    else {
        p->pid = getpid();
        p->ppid = getppid();
        p->uid = getuid();
        p->gid = getgid();
    }
    name_of("/etc/passwd", p->uid, p->user, sizeof p->user);
    name_of("/etc/group", p->gid, p->group, sizeof p->group);
    if (gethostname(p->host, sizeof p->host) != 0)
        strcpy(p->host, "unknown");
    p->host[sizeof p->host - 1] = 0;

    /* The process's name as the kernel knows it (what ps, top, Tracee and AppScope show): an app
     * that rewrites its argv (nginx, postgres, sshd) keeps it. */
    p->proc[0] = 0;
    if (slurp(scope_proc(path, sizeof path, "comm"), p->proc, sizeof p->proc) > 0)
        p->proc[strcspn(p->proc, "\n")] = 0;
    if (!p->proc[0])
        scope_str_copy(p->proc, sizeof p->proc, argv0[0] ? argv0 : "unknown");
    if (!p->cmd[0])
        scope_str_copy(p->cmd, sizeof p->cmd, p->proc);

    /* id: <host>-<proc>-<last 32 bytes of cmd>, not starting inside a UTF-8 sequence */
    size_t cl = strlen(p->cmd), from = cl > 32 ? cl - 32 : 0;
    while (from < cl && ((unsigned char)p->cmd[from] & 0xC0) == 0x80)
        from++;
    size_t hl = strnlen(p->host, 255), pl = strnlen(p->proc, 255);
    memcpy(p->id, p->host, hl);
    p->id[hl] = '-';
    memcpy(p->id + hl + 1, p->proc, pl);
    p->id[hl + 1 + pl] = '-';
    scope_str_copy(p->id + hl + pl + 2, sizeof p->id - hl - pl - 2, p->cmd + from);

    ssize_t x = readlink(scope_proc(path, sizeof path, "exe"), p->exe, sizeof p->exe - 1);
    p->exe[x > 0 ? x : 0] = 0;
    p->mntns = ns_inode(scope_proc(path, sizeof path, "ns/mnt"));
    p->pidns = ns_inode(scope_proc(path, sizeof path, "ns/pid"));
    p->netns = ns_inode(scope_proc(path, sizeof path, "ns/net"));
    p->host_pid = outer_pid(p->pidns);
    machine_id(p->machine_id);
    new_uuid(p->uuid);

    char cg[8192];
    ssize_t cgn = slurp(scope_proc(path, sizeof path, "cgroup"), cg, sizeof cg);
    p->cgroup[0] = 0;
    p->containerid[0] = 0;
    if (cgn > 0) {
        container_id(cg, (size_t)cgn, p->containerid);
        cg[strcspn(cg, "\n")] = 0;
        scope_str_copy(p->cgroup, sizeof p->cgroup, cg);
    }
    scope_ident_gen++;
}
