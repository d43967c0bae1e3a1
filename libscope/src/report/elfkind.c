/* elfkind.c — blind spots: executables whose calls libscope does not see, said in a notice.
 *
 * Two kinds are known. A static executable has no dynamic loader, so LD_PRELOAD never brings us in:
 * exec'd by a scoped process it would vanish from the session without a word. A Go program is
 * dynamic when it uses cgo (or the net/os/user packages), so we are loaded, but Go's runtime makes
 * its file and network system calls itself, not through libc: a session with no events at all.
 *
 * What a file is comes from util/exekind.c, read with raw system calls: the exec wrappers run this
 * on the app's thread, where an interposed open or a malloc could re-enter us or take the app's
 * locks. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report/elfkind.h"
#include "report/emit.h"
#include "scope.h"

static long sys_pread(int fd, void *buf, size_t n, off_t off)
{
    return scope_real_syscall(SYS_pread64, fd, buf, n, off);
}

enum scope_exe_kind scope_exe_kind(const char *path)
{
    int saved_errno = errno;
    enum scope_exe_kind k = SCOPE_EXE_UNKNOWN;
    long fd = scope_real_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
        k = scope_exe_kind_fd((int)fd, sys_pread);
        scope_real_syscall(SYS_close, (int)fd);
    }
    errno = saved_errno;
    return k;
}

#define PRIVILEGES_LOST \
    " is setuid or setgid, and ran without its privileges: it was followed from outside (scope-supervise, no_new_privs)"

static const char *what(enum scope_exe_kind k)
{
    switch (k) {
    case SCOPE_EXE_STATIC:
        return " is a static executable: libscope cannot be loaded into it, so it runs unscoped";
    case SCOPE_EXE_GO_STATIC:
        return " is a static Go program: libscope cannot be loaded into it, so it runs unscoped";
    case SCOPE_EXE_GO:
        return " is a Go program: its file and network calls bypass libc and are not seen";
    default:
        return NULL;
    }
}

void scope_queue_notice(const char *path, const char *says)
{
    uint64_t ticket;
    struct scope_rec *r;
    if (!atomic_load(&scope_hot.active) || !(r = scope_rec_claim(SCOPE_REC_NOTICE, SCOPE_FN_execve, -1, &ticket)))
        return;
    size_t pl = strlen(path), sl = strlen(says);
    if (pl + sl >= SCOPE_REC_DATA)
        pl = SCOPE_REC_DATA - 1 - sl;   /* a path this long is cut; the message stays whole */
    memcpy(r->data, path, pl);
    memcpy(r->data + pl, says, sl);
    r->len = (uint32_t)(pl + sl);
    scope_ring_publish(ticket);
}

/* execvp's search: the first regular file on PATH we may execute (glibc's default PATH when unset). */
static bool search(const char *file, char *out, size_t cap)
{
    const char *p = getenv("PATH");
    if (!p)
        p = "/bin:/usr/bin";
    size_t fl = strlen(file);
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen(p);
        if (dl + 1 + fl < cap) {
            if (dl) {   /* an empty entry is the current directory */
                memcpy(out, p, dl);
                out[dl++] = '/';
            }
            memcpy(out + dl, file, fl + 1);
            if (scope_real_syscall(SYS_faccessat, AT_FDCWD, out, X_OK) == 0)
                return true;
        }
        if (!colon)
            return false;
        p = colon + 1;
    }
}

const char *scope_exec_path(const char *file, bool search_path, char *out, size_t cap)
{
    if (search_path && !strchr(file, '/'))
        return search(file, out, cap) ? out : NULL;
    return file;
}

enum scope_exe_kind scope_exec_kind(const char *file, bool search_path, char *out, size_t cap)
{
    /* under scope-supervise, which follows the exec and whatever it runs: nothing to say */
    if (!file || !*file || scope_guard || getenv("SCOPE_SUPERVISED"))
        return SCOPE_EXE_UNKNOWN;
    int saved_errno = errno;
    const char *path = scope_exec_path(file, search_path, out, cap);
    enum scope_exe_kind k = path ? scope_exe_kind(path) : SCOPE_EXE_UNKNOWN;
    if (path && path != out) {
        size_t n = strnlen(path, cap - 1);
        memmove(out, path, n);
        out[n] = 0;
    }
    errno = saved_errno;
    return k;
}

void scope_exec_notice_kind(const char *path, enum scope_exe_kind k)
{
    /* only a static one: a dynamic Go program loads us and says so itself (scope_self_notice) */
    if (k == SCOPE_EXE_STATIC || k == SCOPE_EXE_GO_STATIC)
        scope_queue_notice(path, what(k));
}

void scope_exec_notice(const char *file, bool search_path)
{
    char path[PATH_MAX];
    scope_exec_notice_kind(path, scope_exec_kind(file, search_path, path, sizeof path));
}

static char self_says[SCOPE_REC_DATA];   /* the start record's notice; "" when none */

void scope_self_notice(void)
{
    char exe[PATH_MAX];
    long n = scope_real_syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    /* only a Go program is worth saying here (a static one never loads us), or a setuid or setgid
     * one that could not take its ids (a process of a tree scope-supervise follows has
     * no_new_privs, when the supervisor is not root, and a traced exec gains none) */
    const char *says = NULL;
    struct stat st;
    if (scope_exe_kind("/proc/self/exe") == SCOPE_EXE_GO)
        says = what(SCOPE_EXE_GO);
    else if (getenv("SCOPE_SUPERVISED") && scope_sys_stat("/proc/self/exe", &st) == 0 &&
             (((st.st_mode & S_ISUID) && geteuid() != st.st_uid) || ((st.st_mode & S_ISGID) && getegid() != st.st_gid)))
        says = PRIVILEGES_LOST;
    if (!says)
        return;
    size_t sl = strlen(says), pl = (size_t)n + sl < sizeof self_says ? (size_t)n : sizeof self_says - 1 - sl;
    memcpy(self_says, exe, pl);
    memcpy(self_says + pl, says, sl + 1);
    scope_queue_notice(exe, says);
}

void scope_start_notices(struct sbuf *o)
{
    if (!self_says[0])
        return;
    sb_s(o, ",\"notices\":[");
    sb_jcstr(o, self_says);
    sb_s(o, "]");
}

void scope_notice_format(const struct scope_rec *r, struct sbuf *ev)
{
    char msg[SCOPE_REC_DATA + 1];
    size_t n = r->len < SCOPE_REC_DATA ? r->len : SCOPE_REC_DATA;
    memcpy(msg, r->data, n);
    msg[n] = '\0';
    scope_emit_notice(ev, msg);
}
