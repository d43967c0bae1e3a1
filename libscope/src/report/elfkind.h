/* elfkind.h — executables libscope cannot see into, and the notices that say so. */
#ifndef SCOPE_ELFKIND_H
#define SCOPE_ELFKIND_H
#include <stdbool.h>

#include "util/exekind.h"
#include "util/json.h"

struct scope_rec;


/* What the ELF file at path is. open/pread/close by system call, no malloc, no stdio, errno kept:
 * it runs on the app's thread before an exec. */
enum scope_exe_kind scope_exe_kind(const char *path);

/* The exec wrappers, before the real exec: when `file` (execvp's bare names searched on PATH) is a
 * static executable, which will run unscoped, a notice record is queued for the session. (A dynamic
 * Go program loads us and says so itself.) */
void scope_exec_notice(const char *file, bool search_path);

/* At start: when this process's own executable is a Go program, the notice goes into its
 * process-start record (info.notices) and a notice event. */
void scope_self_notice(void);

/* ,"notices":["…"] for the process-start record's info, when there is one (reporting thread). */
void scope_start_notices(struct sbuf *o);

/* A NOTICE record as a notice event (reporting thread). */
void scope_notice_format(const struct scope_rec *r, struct sbuf *ev);

#endif
