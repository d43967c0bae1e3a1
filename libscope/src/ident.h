/* ident.h — who this process is, as every record names it. */
#ifndef SCOPE_IDENT_H
#define SCOPE_IDENT_H
#include <sys/types.h>

struct scope_ident {
    pid_t pid, ppid;
    uid_t uid;
    gid_t gid;
    char user[64], group[64], host[256], proc[256], cmd[4096], id[640], cgroup[512];
};
extern struct scope_ident scope_id;
void scope_ident_load(void);
#endif
