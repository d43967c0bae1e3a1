/* proxy.c — reporting for a program libscope cannot be loaded into (a static executable; Go's
 * runtime, which calls the kernel without libc), from a helper process that scope-supervise starts
 * for it (libscope/supervise/). The supervisor follows the program's system calls from outside and
 * hands each one here, where it becomes the records a wrapper would have made, with the time of
 * the call; the reporting thread then reports them as the program's: its identity, its /proc
 * (libc/self.c's subject), its settings (the helper's environment is the program's).
 *
 * The helper loads this library with dlopen, so nothing of it is interposed; it calls
 * scope_proxy_start once, scope_proxy_call for each call in order, and scope_proxy_end when the
 * program's image is gone (its exit, or an exec: the next image gets a helper of its own). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/ctl.h"
#include "control/handover.h"
#include "config/config.h"
#include "dest/log.h"
#include "interpose/wrap.h"
#include "report/elfkind.h"
#include "report/ident.h"
#include "report/report.h"

static enum scope_fn fn_named(const char *name)
{
    for (int i = 0; i < SCOPE_FN_COUNT; i++)
        if (!strcmp(scope_fn_name[i], name))
            return (enum scope_fn)i;
    return SCOPE_FN_COUNT;
}

/* The subject's files open when it starts (inherited, or from the image before an exec): learnt
 * by name, without an fs.open (it opened nothing), so their closes are named. */
static void learn_open_files(void)
{
    char path[64];
    DIR *d = scope_real_opendir(scope_proc(path, sizeof path, "fd"));
    if (!d)
        return;
    struct dirent *e;
    while ((e = scope_real_readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        char link[32], name[4096];
        scope_fd_link(link, fd);
        struct stat st;
        if (!scope_fd_name(fd, name, sizeof name) || name[0] != '/' || scope_sys_stat(link, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        char info[64], rest[40], text[512];
        snprintf(rest, sizeof rest, "fdinfo/%d", fd);
        int flags = O_RDONLY, ifd = scope_real_open(scope_proc(info, sizeof info, rest), O_RDONLY | O_CLOEXEC);
        if (ifd >= 0) {
            ssize_t n = scope_real_read(ifd, text, sizeof text - 1);
            scope_real_close(ifd);
            const char *f = n > 0 ? (text[n] = 0, strstr(text, "flags:")) : NULL;
            if (f)
                flags = (int)strtol(f + 6, NULL, 8);
        }
        scope_fs_had(SCOPE_FN_execve, fd, name, flags);
    }
    scope_real_closedir(d);
}

/* Before the helper takes the subject's credentials: the destinations a change of user handed to
 * the subject (a root session's files, which the subject could not open again) are copied. */
SCOPE_API void scope_proxy_handed(pid_t pid)
{
    int saved_guard = scope_guard;
    scope_guard = 1;
    scope_pin_copy_handed(pid);
    scope_guard = saved_guard;
}

SCOPE_API int scope_proxy_start(pid_t pid)
{
    int saved_guard = scope_guard;
    scope_guard = 1;
    scope_ensure_init();
    int rc = -EALREADY;
    if (scope_mode() == SCOPE_MODE_NONE && pid > 0) {
        scope_subject_set(pid);
        scope_report_no_control();
        scope_pin_take_handed();
        scope_config_load();
        /* who it is, now: the supervisor holds the subject until this returns (an exec or a
         * fork's child would otherwise be read as what it becomes next) */
        scope_ident_load();
        rc = scope_start(SCOPE_MODE_PROXY);
        if (rc == 0)
            learn_open_files();
    }
    scope_guard = saved_guard;
    return rc;
}

/* Whether the subject's settings want its TLS plaintext (HTTP detection or payloads): the
 * supervisor sets breakpoints in a Go program only then (supervise/gotls.c), each costing stops. */
SCOPE_API int scope_proxy_wants_tls(void) { return scope_hot.copy; }

static bool tracked(int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    return c && atomic_load_explicit(&c->chan, memory_order_relaxed);
}

/* One watched call, at its exit: name (the system call's), the wall-clock ns of its entry, its six
 * argument words, its result (>= 0, or -errno), its names made absolute (or as given), for connect
 * and bind the address it was given, and after connect and accept the socket's own and peer
 * addresses (read by the supervisor from a copy of the descriptor). A send on a socket connected
 * to a name server comes with what it carried (data, one message; ret its length). Its duration is
 * not taken: the supervisor's stops are in it. */
SCOPE_API void scope_proxy_call(const char *name, uint64_t t_ns, const long long a[6], long long ret,
                                const char *path, const char *path2, const void *addr, unsigned addrlen,
                                const void *local, unsigned llen, const void *peer, unsigned plen,
                                const void *data, unsigned dlen)
{
    if (!strcmp(name, "notice")) {   /* the supervisor's word on the subject: path, then path2 */
        scope_queue_notice(path, path2);
        return;
    }
    if (!strcmp(name, "tls")) {
        /* a Go program's TLS plaintext (supervise/gotls.c): a[0] the socket, a[1] 1 for a write,
         * a[2] 1 for ret bytes that were not copied */
        if (atomic_load(&scope_hot.active) && ret > 0) {
            scope_rec_time = t_ns;
            scope_tls_io(a[1] ? SCOPE_FN_SSL_write : SCOPE_FN_SSL_read, (int)a[0], a[1] != 0, (ssize_t)ret,
                         a[2] ? NULL : data);
            scope_rec_time = 0;
        }
        return;
    }
    enum scope_fn fn = fn_named(name);
    if (fn == SCOPE_FN_COUNT || !atomic_load(&scope_hot.active))
        return;
    scope_rec_time = t_ns;
    int err = ret < 0 ? (int)-ret : 0;
    int fd = (int)a[0];
    if (fn == SCOPE_FN_write || fn == SCOPE_FN_sendto || fn == SCOPE_FN_sendmsg || fn == SCOPE_FN_sendmmsg) {
        /* a DNS query (the supervisor watches nothing else sent): its bytes, not the call, counted */
        if (data && dlen && tracked(fd))
            scope_net_io(fn, fd, true, (ssize_t)dlen, 0, data, NULL, 0, NULL, 0, 0);
        scope_rec_time = 0;
        return;
    }
    if (fn == SCOPE_FN_getsockopt) {   /* SO_ERROR: how a connect under way ended (not counted, as wrap_net.c) */
        if (!err && addrlen == sizeof(int)) {
            socklen_t len = sizeof(int);
            scope_proxy_ends(local, llen, peer, plen);
            scope_net_sockopt(fd, SOL_SOCKET, SO_ERROR, 0, addr, &len);
            scope_proxy_ends(NULL, 0, NULL, 0);
        }
        scope_rec_time = 0;
        return;
    }
    struct scope_call sc;
    scope_call_begin(&sc, fn);
    sc.t0 = 0;
    scope_proxy_ends(local, llen, peer, plen);
    bool bad = ret < 0;
    switch (fn) {
    case SCOPE_FN_open:
    case SCOPE_FN_creat:
    case SCOPE_FN_openat: {
        int flags = fn == SCOPE_FN_open ? (int)a[1] : fn == SCOPE_FN_openat ? (int)a[2] : O_CREAT | O_WRONLY | O_TRUNC;
        scope_call_end(&sc, -1, bad);
        if (!bad)
            scope_fs_opened(fn, (int)ret, AT_FDCWD, path, flags);
        else
            scope_fail(fn, -1, AT_FDCWD, path, err);
        break;
    }
    case SCOPE_FN_close:
        if (!tracked(fd))
            break;   /* a pipe, or a number never opened: no file event (wrap_fd.c) */
        scope_fs_closing(fn, fd);
        scope_call_end(&sc, -1, bad && err != EINTR);
        if (bad && err != EINTR)
            scope_fail(fn, fd, -1, NULL, err);
        break;
    case SCOPE_FN_unlink:
    case SCOPE_FN_unlinkat:
    case SCOPE_FN_rmdir:
    case SCOPE_FN_mkdir:
    case SCOPE_FN_mkdirat:
    case SCOPE_FN_rename:
    case SCOPE_FN_renameat:
    case SCOPE_FN_renameat2:
        scope_call_end(&sc, -1, bad);
        if (bad)
            scope_fail(fn, -1, AT_FDCWD, path, err);
        else if (!scope_hot.ev_fs)
            break;
        else if (fn == SCOPE_FN_mkdir || fn == SCOPE_FN_mkdirat)
            scope_fs_path(SCOPE_REC_MKDIR, fn, AT_FDCWD, path, (int)(fn == SCOPE_FN_mkdir ? a[1] : a[2]));
        else if (fn == SCOPE_FN_rename || fn == SCOPE_FN_renameat || fn == SCOPE_FN_renameat2)
            scope_fs_renamed(fn, AT_FDCWD, path, AT_FDCWD, path2);
        else
            scope_fs_path(SCOPE_REC_DELETE, fn, AT_FDCWD, path, 0);
        break;
    case SCOPE_FN_socket:
        scope_call_end(&sc, -1, bad);
        if (!bad)
            scope_net_socket(fn, (int)ret, (int)a[0], (int)a[1]);
        else if (scope_failed(true, err)) {
            scope_net_err(SCOPE_NETERR_CONN);
            scope_fail(fn, -1, -1, NULL, err);
        }
        break;
    case SCOPE_FN_connect:
        scope_call_end(&sc, -1, bad && err != EINPROGRESS && err != EINTR && err != EALREADY && err != EISCONN);
        scope_net_connect(fd, addrlen ? (const struct sockaddr *)addr : NULL, (socklen_t)addrlen, bad ? -1 : 0, err);
        break;
    case SCOPE_FN_accept:
    case SCOPE_FN_accept4:
        scope_call_end(&sc, -1, bad);
        if (!bad)
            scope_net_accepted(fn, fd, (int)ret, NULL, 0);
        else if (scope_failed(true, err)) {
            scope_net_err(SCOPE_NETERR_CONN);
            scope_fail(fn, fd, -1, NULL, err);
        }
        break;
    default:   /* bind, execve, execveat: counted, and an error record when they failed */
        scope_call_end(&sc, -1, bad);
        if (bad)
            scope_fail(fn, fn == SCOPE_FN_bind ? fd : -1, AT_FDCWD, fn == SCOPE_FN_bind ? NULL : path, err);
        break;
    }
    scope_rec_time = 0;
    scope_proxy_ends(NULL, 0, NULL, 0);
}

/* The subject's image is gone: what is queued is reported. replaced: by an exec, so its /proc
 * now tells of the next image and no final proc.* metrics are read from it (after an exit there is
 * nothing left to read: metrics.c skips them). */
SCOPE_API void scope_proxy_end(int replaced)
{
    if (replaced)
        scope_subject_gone();
    scope_flush(true, 5000);
}
