/* attach.c — the way in for a process that already runs: an injector (scope attach) makes the
 * target dlopen this library and call scope_attach with a config file. Until then the library
 * does nothing at all, so telling a dlopen from a preload start is the first thing it does.
 *
 * scope_attach runs on the target's interrupted main thread while its other threads go on: it
 * reads the file, starts what a preloaded start would (log, settings, filter, queue, reporting
 * thread, fork handlers), and patches the GOT. It allocates and opens files as dlopen itself
 * does, takes no lock an app thread could hold for long, and never waits for more than the
 * reporting thread's first breath (bounded, report.c). */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/attach.h"
#include "config/config.h"
#include "control/ctl.h"
#include "interpose/got.h"
#include "control/attachfds.h"
#include "scope.h"

/* Does the global scope bind name to this object? Under LD_PRELOAD it does (we come before
 * libc); loaded by dlopen, even RTLD_GLOBAL, we come after libc and it does not. */
static bool wins(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    return p && scope_in_self(p);
}

static bool same_file(const char *a, const struct stat *self)
{
    struct stat st;
    return scope_sys_stat(a, &st) == 0 && st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

/* LD_PRELOAD (':' or blank separated) names this file, by path or, for a bare name, by its base
 * name. */
static bool named_in_preload(const char *self)
{
    const char *pre = getenv("LD_PRELOAD");
    struct stat st;
    if (!pre || !*pre || scope_sys_stat(self, &st) != 0)
        return false;
    const char *base = strrchr(self, '/');
    base = base ? base + 1 : self;
    char entry[4096];
    for (const char *p = pre; *p;) {
        size_t n = strcspn(p, ": \t");
        if (n > 0 && n < sizeof entry) {
            memcpy(entry, p, n);
            entry[n] = 0;
            if (strchr(entry, '/') ? !strcmp(entry, self) || same_file(entry, &st) : !strcmp(entry, base))
                return true;
        }
        p += n;
        p += strspn(p, ": \t");
    }
    return false;
}

/* Preloaded when the wrappers win the symbol lookup: LD_PRELOAD, /etc/ld.so.preload, or a
 * scope-run child whose LD_PRELOAD lists other libraries before or after us. The environment
 * alone is not enough: an app may have set LD_PRELOAD for its own children before being attached,
 * which would make an injected copy take the app's environment for its settings. It is the
 * fallback for another interposer preloaded ahead of us that wraps every probe too; then we must
 * also be in the main program's search list, where a dlopen without RTLD_GLOBAL never is. */
bool scope_preloaded(void)
{
    if (!scope_in_self((void *)&scope_preloaded))
        return true;   /* cannot tell: behave as this library always did */
    static const char *const probe[] = {"open", "read", "write", "close", "fopen", "socket", "connect"};
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
        if (wins(probe[i]))
            return true;
    Dl_info self;   /* only now the file name (dladdr is dear: it looks for the nearest symbol too) */
    if (!dladdr((void *)&scope_preloaded, &self) || !self.dli_fname || !named_in_preload(self.dli_fname))
        return false;
    void *main = scope_real_dlopen(NULL, RTLD_LAZY);
    void *p = main ? dlsym(main, "scope_attach") : NULL;
    return p && scope_in_self(p);
}

#define CONF_MAX (1 << 20)

/* The config file: a regular file (not a symlink), owned by us or root, writable by nobody else;
 * read whole, then removed (it may hold credentials for a destination). Nothing is removed that
 * was refused. 0 and *text (malloc'd), or -errno. */
static int read_conf(const char *path, char **text)
{
    int fd = scope_real_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (scope_sys_fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH)))
        rc = -EPERM;
    else if (st.st_size > CONF_MAX)
        rc = -EFBIG;
    char *buf = rc ? NULL : malloc((size_t)st.st_size + 1);
    if (!rc && !buf)
        rc = -ENOMEM;
    size_t len = 0;
    while (!rc && len < (size_t)st.st_size) {
        ssize_t n = scope_real_read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    /* the name must still be the file we read: never remove one swapped in meanwhile */
    struct stat now;
    if (!rc && scope_sys_lstat(path, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino)
        scope_real_unlink(path);
    scope_real_close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = 0;
    *text = buf;
    return 0;
}

/* The listener of "@name" is this process (SO_PEERCRED: whoever called listen()). A name alone
 * proves nothing: another user may have bound it. */
static bool ours_at(const char *name)
{
    int fd = scope_real_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strnlen(name, sizeof a.sun_path - 1);
    memcpy(a.sun_path + 1, name, n);
    int rc = scope_real_connect(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
    int e = errno;
    struct ucred cred = {0};
    socklen_t clen = sizeof cred;
    bool mine = scope_real_getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.pid == getpid();
    scope_real_close(fd);
    return (rc == 0 || e == EAGAIN || e == EINPROGRESS) && mine;
}

/* Another copy of libscope (another file, loaded too) already scopes this process: a control
 * socket of ours answers, under "@scope/<pid>" or the "@scope/<pid>.<hex>" taken when that name
 * was bound by someone else (control.c), found in /proc/net/unix. */
static bool served_elsewhere(void)
{
    char name[64];
    int n = snprintf(name, sizeof name, "scope/%d", (int)getpid());
    if (ours_at(name))
        return true;
    FILE *f = scope_real_fopen("/proc/self/net/unix", "re");
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    ssize_t len;
    while (!found && (len = scope_real_getline(&line, &cap, f)) > 0) {
        while (len > 0 && line[len - 1] == '\n')
            line[--len] = 0;
        char *at = strstr(line, " @scope/");
        if (!at || strncmp(at + 2, name, (size_t)n) != 0 || at[2 + n] != '.' || strlen(at + 3 + n) != 16)
            continue;
        found = ours_at(at + 2);
    }
    free(line);
    scope_real_fclose(f);
    return found;
}

static _Atomic int claimed;   /* an attach is in progress or done */

static int attach(const char *conf_path)
{
    scope_ensure_init();   /* the mode is decided (normally by our constructor already) */
    if (scope_mode() != SCOPE_MODE_NONE)
        return -EALREADY;
    if (!conf_path || !*conf_path)
        return -EINVAL;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&claimed, &expected, 1))
        return -EALREADY;
    char *text = NULL;
    int rc = read_conf(conf_path, &text);
    if (!rc && served_elsewhere()) {
        free(text);
        rc = -EALREADY;
    }
    if (rc) {
        atomic_store(&claimed, 0);
        return rc;
    }
    struct scope_kv *kv;
    size_t n = scope_config_parse(text, &kv);
    free(text);
    scope_handover_take(kv, &n);   /* before the destinations are opened */
    scope_got_prepare();   /* our wrappers and what the global scope binds (the real functions: init) */
    scope_config_set(kv, n, false);
    scope_kv_free(kv, n);
    rc = scope_start(SCOPE_MODE_ATTACH);
    if (rc) {
        atomic_store(&claimed, 0);
        return rc;
    }
    /* Never unloaded from here on, whoever calls dlclose: our thread runs our code, and GOT
     * entries and function pointers the app copied from them point into it. */
    Dl_info self;
    if (dladdr((void *)&attach, &self) && self.dli_fname)
        scope_real_dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    scope_ctl_attached();
    return 0;
}

SCOPE_API int scope_attach(const char *conf_path)
{
    int saved_guard = scope_guard, saved_errno = errno;
    scope_guard = 1;
    int rc = attach(conf_path);
    scope_guard = saved_guard;
    errno = saved_errno;
    return rc;
}
