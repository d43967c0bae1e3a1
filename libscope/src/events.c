/* events.c — turning ring records into fs.open / fs.close / stdout / stderr events. Keeps what
 * it learnt about each open descriptor (absolute path, op, open time, owner and mode) until its
 * close, since the close record itself only carries the counters. Reporting thread only. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit.h"
#include "events.h"
#include "ident.h"
#include "scope.h"

struct fdinfo {
    uint64_t chan, t_open;
    uint16_t fn;
    unsigned perms, owner, group;
    char *path;
};

static struct fdinfo *fds;
static size_t nfds;

static struct fdinfo *fdinfo(int fd)
{
    if (fd < 0 || fd >= scope_fdtab_len)
        return NULL;
    if ((size_t)fd >= nfds) {
        size_t n = nfds ? nfds : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct fdinfo *p = realloc(fds, n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + nfds, 0, (n - nfds) * sizeof *p);
        fds = p;
        nfds = n;
    }
    return &fds[fd];
}

/* True while fd still is the descriptor the record was about (the app may have closed it). */
static bool fd_current(int fd, uint64_t chan)
{
    struct scope_fdc *c = scope_fdc(fd);
    return c && atomic_load_explicit(&c->chan, memory_order_acquire) == chan;
}

static void on_open(const struct scope_rec *r, struct sbuf *o)
{
    struct fdinfo *fi = fdinfo(r->fd);
    char given[SCOPE_REC_DATA + 1], path[PATH_MAX + 1];
    memcpy(given, r->data, r->len);
    given[r->len] = 0;
    snprintf(path, sizeof path, "%s", given);
    struct stat st;
    bool have_st = false;
    if (fd_current(r->fd, r->chan)) {
        have_st = fstat(r->fd, &st) == 0;
        if (given[0] != '/') {   /* relative or openat: the kernel knows the absolute path */
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", r->fd);
            ssize_t n = readlink(link, path, sizeof path - 1);
            if (n > 0 && path[0] == '/')
                path[n] = 0;
            else
                snprintf(path, sizeof path, "%s", given);
        }
    }
    if (!have_st)
        have_st = stat(path, &st) == 0;
    if (path[0] != '/' && getcwd(path, sizeof path)) {
        size_t l = strlen(path);
        snprintf(path + l, sizeof path - l, "/%s", given);
    }
    if (fi) {
        free(fi->path);
        fi->path = strdup(path);
        fi->chan = r->chan;
        fi->t_open = r->t_ns;
        fi->fn = r->fn;
        fi->perms = have_st ? st.st_mode & 07777 : 0;
        fi->owner = have_st ? st.st_uid : 0;
        fi->group = have_st ? st.st_gid : 0;
    }
    scope_emit_event_head(o, "fs.open", "fs", r->chan, r->t_ns);
    sb_s(o, "\"file\":");
    sb_jcstr(o, path);
    sb_kv_s(o, "op", scope_hooks[r->fn].name);
    sb_kv_i(o, "fd", r->fd);
    sb_kv_u(o, "proc_uid", scope_id.uid);
    sb_kv_u(o, "proc_gid", scope_id.gid);
    sb_kv_s(o, "proc_cgroup", scope_id.cgroup);
    sb_kv_u(o, "file_perms", have_st ? st.st_mode & 07777 : 0);
    sb_kv_u(o, "file_owner", have_st ? st.st_uid : 0);
    sb_kv_u(o, "file_group", have_st ? st.st_gid : 0);
    scope_emit_event_tail(o);
    }

static void on_close(const struct scope_rec *r, struct sbuf *o)
{
    struct fdinfo *fi = fdinfo(r->fd);
    bool known = fi && fi->chan == r->chan;  /* else its open record was dropped */
    uint64_t t_open = known ? fi->t_open : r->t_ns;
    scope_emit_event_head(o, "fs.close", "fs", r->chan, r->t_ns);
    sb_s(o, "\"file\":");
    sb_jcstr(o, known && fi->path ? fi->path : "");
    sb_kv_s(o, "op", scope_hooks[r->fn].name);
    sb_kv_i(o, "fd", r->fd);
    sb_kv_u(o, "proc_uid", scope_id.uid);
    sb_kv_u(o, "proc_gid", scope_id.gid);
    sb_kv_s(o, "proc_cgroup", scope_id.cgroup);
    sb_kv_u(o, "file_perms", known ? fi->perms : 0);
    sb_kv_u(o, "file_owner", known ? fi->owner : 0);
    sb_kv_u(o, "file_group", known ? fi->group : 0);
    sb_kv_u(o, "file_read_bytes", r->rbytes);
    sb_kv_u(o, "file_read_ops", r->rops);
    sb_kv_u(o, "file_write_bytes", r->wbytes);
    sb_kv_u(o, "file_write_ops", r->wops);
    sb_kv_u(o, "duration", r->t_ns > t_open ? (r->t_ns - t_open) / 1000000 : 0);
    scope_emit_event_tail(o);
        if (known) {
        free(fi->path);
        memset(fi, 0, sizeof *fi);
    }
}

static void on_console(const struct scope_rec *r, struct sbuf *o)
{
    scope_emit_event_head(o, r->fd == 2 ? "stderr" : "stdout", "console", r->chan, r->t_ns);
    sb_s(o, "\"message\":");
    sb_jstr(o, r->data, r->len);
    scope_emit_event_tail(o);
    }

/* A forked child: the parent's table may have been mid-update; leak it and start empty. */
void scope_events_reset(void)
{
    fds = NULL;
    nfds = 0;
}

size_t scope_events_format(const struct scope_rec *r, struct sbuf *o)
{
    if (r->kind == SCOPE_REC_OPEN)
        on_open(r, o);
    else if (r->kind == SCOPE_REC_CLOSE)
        on_close(r, o);
    else if (r->kind == SCOPE_REC_CONSOLE)
        on_console(r, o);
    else
        return 0;
    return 1;
}
