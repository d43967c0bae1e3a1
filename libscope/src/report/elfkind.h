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

/* The exec wrappers, before the real exec: what `file` (execvp's bare names searched on PATH) is,
 * its path in out; UNKNOWN when nothing is to be said of it (not found, or under scope-supervise,
 * SCOPE_SUPERVISED, which follows whatever is exec'd). No allocation; errno kept. */
enum scope_exe_kind scope_exec_kind(const char *file, bool search_path, char *out, size_t cap);
/* When path is a static executable, which will run unscoped, a notice record is queued for the
 * session. (A dynamic Go program loads us and says so itself.) */
void scope_exec_notice_kind(const char *path, enum scope_exe_kind k);
/* Both: posix_spawn's child execs inside libc, where it cannot be followed. */
void scope_exec_notice(const char *file, bool search_path);
/* The file an exec of `file` runs: itself, or with search_path and no slash in it, the first one
 * execvp would find on PATH (in out), or NULL. No allocation. */
const char *scope_exec_path(const char *file, bool search_path, char *out, size_t cap);

/* At start: when this process's own executable is a Go program, the notice goes into its
 * process-start record (info.notices) and a notice event. */
void scope_self_notice(void);

/* ,"notices":["…"] for the process-start record's info, when there is one (reporting thread). */
void scope_start_notices(struct sbuf *o);

/* "<path><says>" into a NOTICE record, when events are recorded at all (a notice event). */
void scope_queue_notice(const char *path, const char *says);

/* A NOTICE record as a notice event (reporting thread). */
void scope_notice_format(const struct scope_rec *r, struct sbuf *ev);

#endif
