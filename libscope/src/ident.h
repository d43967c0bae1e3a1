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
    uint64_t mntns, pidns;   /* namespace inodes; 0 when unreadable */
};
extern struct scope_ident scope_id;
/* Reads it all once per process (again in a forked child, and in a new image). */
void scope_ident_load(void);
#endif
