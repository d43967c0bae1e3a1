/* ident.h — who this process is, as every record names it. */
#ifndef SCOPE_IDENT_H
#define SCOPE_IDENT_H
#include <stdint.h>
#include <sys/types.h>

struct scope_ident {
    pid_t pid, ppid;
    uid_t uid;
    gid_t gid;
    char user[64], group[64], host[256], proc[256], cmd[4096], id[640], cgroup[512];
    char exe[4096];          /* /proc/self/exe; "" when unreadable */
    char containerid[65];    /* the 64-hex-digit id in /proc/self/cgroup; "" outside a container */
    uint64_t mntns, pidns, netns;   /* namespace inodes; 0 when unreadable */
    pid_t host_pid;          /* the pid in the outer pid namespace, when known (else 0) */
    char machine_id[33];     /* /etc/machine-id; "" when unreadable */
    char uuid[37];           /* a random (v4) uuid for this process start */
};
extern struct scope_ident scope_id;
/* Counts changes of scope_id (what is made from it can tell it is still current). */
extern unsigned scope_ident_gen;
/* Reads it all once per process (again in a forked child, and in a new image). */
void scope_ident_load(void);
/* At libscope's start (before main, when preloaded): the command line, before the app can
 * rewrite its argv, redacted unless SCOPE_REDACT_ARGS=false. A forked child keeps its parent's. */
void scope_ident_start(void);
/* The outer pid of a process that is the first of a new pid namespace (`unshare -fp
 * --mount-proc`), read in its atfork child handler while /proc is still the outer one, and handed
 * to the image it execs in SCOPE_HOST_PID=<outer>:<pid>:<pidns> (taken and removed by the new
 * image's constructor). */
void scope_ident_fork_child(void);
void scope_ident_take_carried(void);
const char *scope_ident_host_var(void);   /* "SCOPE_HOST_PID=…" for an exec, or NULL */
#endif
