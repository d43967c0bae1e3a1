/* events.c — turning ring records into events: fs.open / fs.close / fs.delete / fs.rename /
 * fs.mkdir / fs.error, console (stdout, stderr) and file (log files). Keeps what it learnt about
 * each open descriptor (absolute path, op, open time, owner and mode, text not yet written) until
 * its close, since later records only carry the descriptor. Reporting thread only. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "report/emit.h"
#include "report/elfkind.h"
#include "report/events.h"
#include "config/filter.h"
#include "report/fsmetrics.h"
#include "report/ident.h"
#include "report/netevents.h"
#include "report/report.h"
#include "scope.h"

#define TEXT_MAX 4096   /* joined text is written at this size at the latest */
static const char BINARY[] = "-- binary data ignored --";

struct text {
    struct sbuf b;
    uint64_t t_ns;
};

struct fdinfo {
    uint64_t chan, t_open;
    uint16_t fn;
    unsigned perms, owner, group;
    char *path;
    struct text text;   /* log-file text not yet written */
};

static struct fdinfo *fds;
static size_t nfds;
static struct text console[3];   /* fd 1 and 2 */

/* the rate limit */
static uint64_t rate_sec, rate_n, rate_over, rate_told;

void *scope_fd_slot(void **table, size_t *len, size_t elem, int fd)
{
    if (fd < 0 || fd >= scope_fdtab_len)
        return NULL;
    if ((size_t)fd >= *len) {
        size_t n = *len ? *len : 64;
        while (n <= (size_t)fd)
            n *= 2;
        char *p = realloc(*table, n * elem);
        if (!p)
            return NULL;
        memset(p + *len * elem, 0, (n - *len) * elem);
        *table = p;
        *len = n;
    }
    return (char *)*table + (size_t)fd * elem;
}

static struct fdinfo *fdinfo(int fd) { return scope_fd_slot((void **)&fds, &nfds, sizeof *fds, fd); }

/* The lifetime the app's descriptor fd is in now (0: none of ours, or out of the table). */
static uint64_t chan_now(int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    return c ? atomic_load_explicit(&c->chan, memory_order_acquire) : 0;
}

/* True while fd still is the descriptor the record was about (the app may have closed it). */
static bool fd_current(int fd, uint64_t chan) { return chan && chan_now(fd) == chan; }

/* The app's working directory as of the record being formatted: read on the app's thread when the
 * reporting thread is started, then taken from each CWD record (chdir, fchdir), so a relative name
 * is resolved against the directory the app was in at the call, not the one it is in by the time
 * this thread gets to the record. Empty: not known (a name too long for a record), then the
 * kernel's present one is the best there is. */
static char cwd_now[PATH_MAX];

void scope_events_cwd_start(void) { scope_cwd_read(cwd_now, sizeof cwd_now); }

static void on_cwd(const struct scope_rec *r)
{
    size_t n = r->len < sizeof cwd_now - 1 ? r->len : 0;
    memcpy(cwd_now, r->data, n);
    cwd_now[n] = 0;
}

/* The kernel's present name for a directory descriptor, used only if the descriptor still is the
 * one the call was made against: the name is read first, then the descriptor's lifetime checked
 * (as kernel_name does), since the app may have closed the number and opened another directory
 * under it by the time this thread gets to the record. chan 0: the descriptor was not one we saw
 * made; it still counts while the number has no lifetime of ours (none made under it since). */
static bool dir_name(int fd, uint64_t chan, char *out, size_t cap)
{
    bool named = scope_fd_name(fd, out, cap);
    return named && scope_fdc(fd) && chan_now(fd) == chan;
}

/* A path as the app gave it, made absolute against its directory descriptor (dirfd1 = fd + 1,
 * dirchan its lifetime at the call) or the cwd. A name that cannot be made absolute with
 * certainty is given as the app gave it. */
static void absolute(char *out, size_t cap, uint64_t dirfd1, uint64_t dirchan, const char *given)
{
    if (given[0] == '/') {
        scope_str_copy(out, cap, given);
        return;
    }
    char base[PATH_MAX];
    /* The directory's own open came through the ring before this record, and its close (if any)
     * comes after: what we learnt at its open still names it, even if it is closed by now (the
     * same lifetime as at the call: not what an earlier life of the number left). */
    struct fdinfo *dir = dirfd1 ? fdinfo((int)(dirfd1 - 1)) : NULL;
    bool ok = dir && dir->chan && dir->chan == dirchan && dir->path && dir->path[0] == '/'
                  ? snprintf(base, sizeof base, "%s", dir->path) > 0
              : dirfd1 ? dir_name((int)(dirfd1 - 1), dirchan, base, sizeof base)
              : cwd_now[0] ? (scope_str_copy(base, sizeof base, cwd_now), true)
                           : getcwd(base, sizeof base) != NULL;
    if (!ok) {
        scope_str_copy(out, cap, given);
        return;
    }
    size_t l = strlen(base);
    snprintf(out, cap, "%s%s%s", base, l && base[l - 1] == '/' ? "" : "/",
             given[0] == '.' && given[1] == '/' ? given + 2 : given);
}

static void data_str(const struct scope_rec *r, char *out, size_t cap)
{
    size_t n = r->len < cap - 1 ? r->len : cap - 1;
    memcpy(out, r->data, n);
    out[n] = 0;
}

/* The rate limit counts events by the second of their own time (the app's), not of when the
 * reporting thread gets to them: a backlog written late is limited as the app made it, and no second
 * of the output holds more than SCOPE_EVENT_MAXEPS events. Records from several threads arrive a
 * little out of order: an earlier second counts against the current one, unless the clock went
 * back (more than 2 s), which starts a new one. */
static bool rate_take(uint64_t t_ns, bool count)
{
    uint64_t s = t_ns / 1000000000ULL;
    if (s > rate_sec || rate_sec - s > 2) {
        rate_sec = s;
        rate_n = 0;
    }
    if (rate_n >= (uint64_t)scope_cfg.maxeps) {
        rate_over++;
        return false;
    }
    if (count)
        rate_n++;
    return true;
}

void scope_event(struct sbuf *o, enum scope_watch w, const char *source, const char *sourcetype,
                 uint64_t chan, uint64_t t_ns, const struct scope_field *f, int nf)
{
    if (!scope_watch_on(w) || !scope_watch_name(w, source) || !scope_watch_value(w, f, nf))
        return;
    uint64_t matched = 0;
    if (scope_filter_on && !(matched = scope_filter_event(source, sourcetype, w, f, nf)))
        return;
    if (scope_cfg.maxeps > 0 && !rate_take(t_ns, true))
        return;
    scope_emit_event_head(o, source, sourcetype, chan, t_ns);
    bool first = true, some = scope_watch_fields_filtered(w);
    for (int i = 0; i < nf; i++) {
        if (some && !scope_watch_field(w, f[i].key))
            continue;
        sb_fkey(o, first, f[i].key, f[i].klen);
        if (f[i].json)
            sb_raw(o, f[i].s, f[i].n);
        else if (f[i].s)
            sb_jstr(o, f[i].s, f[i].n);
        else
            sb_i(o, f[i].num);
        first = false;
    }
    scope_emit_event_tail(o, matched);
}

bool scope_event_room(const char *source, uint64_t t_ns)
{
    if (scope_filter_on) {
        int may = scope_filter_may(source);
        if (may == SCOPE_FILTER_NO)
            return false;   /* filtered: not a drop */
        if (may == SCOPE_FILTER_DATA)
            return true;    /* built, and then filtered or counted */
    }
    return scope_cfg.maxeps <= 0 || rate_take(t_ns, false);
}

uint64_t scope_events_rate_notice(struct sbuf *o, bool force)
{
    if (rate_over == rate_told || (!force && scope_now_ns() / 1000000000ULL == rate_sec))
        return 0;
    uint64_t n = rate_over - rate_told;
    char msg[256];
    snprintf(msg, sizeof msg, "libscope dropped %llu records over the event rate limit of %ld per "
             "second (SCOPE_EVENT_MAXEPS)", (unsigned long long)n, scope_cfg.maxeps);
    scope_emit_notice(o, msg);
    rate_told = rate_over;
    return n;
}

/* k: a literal (its length is known here) */
#define S(k, v) {"" k, v, strlen(v), 0, false, sizeof k - 1}
#define N(k, v) {"" k, NULL, 0, (long long)(v), false, sizeof k - 1}

/* fi: what the open learnt (NULL when its record was dropped). */
static void fs_event(struct sbuf *o, const char *source, const struct scope_rec *r, const char *path,
                     const struct fdinfo *fi, bool close)
{
    struct scope_field f[14] = {   /* 9, and 5 more for a close */
        S("file", path), S("op", scope_fn_name[r->fn]), N("fd", r->fd),
        N("proc_uid", scope_id.uid), N("proc_gid", scope_id.gid), S("proc_cgroup", scope_id.cgroup),
        N("file_perms", fi ? fi->perms : 0), N("file_owner", fi ? fi->owner : 0),
        N("file_group", fi ? fi->group : 0),
    };
    int nf = 9;
    if (close) {
        uint64_t t_open = fi ? fi->t_open : r->t_ns;
        if (!scope_subject()) {   /* followed from outside (proxy.c), reads and writes are not seen */
            f[nf++] = (struct scope_field)N("file_read_bytes", r->rbytes);
            f[nf++] = (struct scope_field)N("file_read_ops", r->rops);
            f[nf++] = (struct scope_field)N("file_write_bytes", r->wbytes);
            f[nf++] = (struct scope_field)N("file_write_ops", r->wops);
        }
        f[nf++] = (struct scope_field)N("duration", r->t_ns > t_open ? (r->t_ns - t_open) / 1000000 : 0);
    }
    scope_event(o, SCOPE_W_FS, source, "fs", r->chan, r->t_ns, f, nf);
}

/* Is it text a person could read? Valid UTF-8 without control characters other than the
 * usual layout ones and ESC (colours). */
static bool binary(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != '\b' &&
            c != 0x1b)
            return true;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = scope_utf8_seq(s + i, n - i);
        if (!len)
            return true;
        i += len;
    }
    return false;
}

static void text_out(struct sbuf *o, struct text *t, enum scope_watch w, const char *source,
                     const char *sourcetype, uint64_t chan)
{
    if (!t->b.len)
        return;
    bool bin = !scope_cfg.allow_binary && binary((const unsigned char *)t->b.p, t->b.len);
    struct scope_field f[1] = {{"message", bin ? BINARY : t->b.p, bin ? sizeof BINARY - 1 : t->b.len, 0, false, 7}};
    scope_event(o, w, source, sourcetype, chan, t->t_ns, f, 1);
    t->b.len = 0;
}

static void text_add(struct sbuf *o, struct text *t, const struct scope_rec *r, enum scope_watch w,
                     const char *source, const char *sourcetype)
{
    bool joins = r->aux & (SCOPE_TEXT_STDIO | SCOPE_TEXT_MORE);
    if (!joins || t->b.len + r->len > TEXT_MAX)
        text_out(o, t, w, source, sourcetype, r->chan);
    if (!t->b.len)
        t->t_ns = r->t_ns;
    sb_raw(&t->b, r->data, r->len);
}

static const char *console_name(int fd) { return fd == 2 ? "stderr" : "stdout"; }

/* The kernel's absolute name for the record's descriptor, read while it still is the one the record
 * is about: checked again after the read, since the app may close the number and open another
 * file under it meanwhile (then its name is not this one's: path is left empty). A name that is
 * not a path (pipe:[…]) stays in path, and false says it is not an absolute one. */
static bool kernel_name(const struct scope_rec *r, char *path, size_t cap)
{
    bool named = scope_fd_name(r->fd, path, cap);
    if (!fd_current(r->fd, r->chan)) {
        path[0] = 0;
        return false;
    }
    return named && path[0] == '/';
}

/* The attributes of a name, for an fs.open whose descriptor is no longer the one opened when its
 * record is reported (the fallback: whatever the name names some time after the open). A lookup
 * made for an earlier record serves a later record of the same name when it began after that
 * record was claimed: the ring's tail, read before the lookup, is past the record's ticket, so the
 * open had returned. It is then the answer a lookup made now would be held to, made after the open
 * and before the event. A file opened and closed over and over is looked up about once a drain
 * instead of once an open: the stat was ~0.7 µs of each such fs event here (1.4 µs a lookup, the
 * largest part of the reporting thread's work at 200 000 fs events/s). */
#define NAMESTAT_SLOTS 64
static struct namestat {
    char *path;
    uint64_t tail;   /* the ring's tail before the lookup; 0: empty */
    uint32_t hash;
    bool ok;
    mode_t mode;
    uid_t uid;
    gid_t gid;
} namestat[NAMESTAT_SLOTS];

static bool name_stat(const char *path, struct stat *st)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    size_t n = 0;
    for (; path[n]; n++)
        h = (h ^ (unsigned char)path[n]) * 16777619u;
    struct namestat *e = &namestat[h % NAMESTAT_SLOTS];
    if (e->tail && scope_ring_head_ticket() < e->tail && e->hash == h && !strcmp(e->path, path)) {
        st->st_mode = e->mode;
        st->st_uid = e->uid;
        st->st_gid = e->gid;
        return e->ok;
    }
    uint64_t tail = scope_ring_tail_ticket();
    bool ok = scope_sys_stat(path, st) == 0;
    if (!e->path || e->hash != h || strcmp(e->path, path)) {
        char *copy = malloc(n + 1);
        if (!copy)
            return ok;
        memcpy(copy, path, n + 1);
        free(e->path);
        e->path = copy;
    }
    e->tail = tail;
    e->hash = h;
    e->ok = ok;
    e->mode = ok ? st->st_mode : 0;
    e->uid = ok ? st->st_uid : 0;
    e->gid = ok ? st->st_gid : 0;
    return ok;
}

static void on_open(const struct scope_rec *r, struct sbuf *o, struct sbuf *met)
{
    struct fdinfo *fi = fdinfo(r->fd);
    char given[SCOPE_REC_DATA + 1], path[PATH_MAX + 1];
    path[0] = 0;   /* not = "": that zeroes all 4 KiB, a tenth of an fs.open's cost */
    data_str(r, given, sizeof given);
    bool current = fd_current(r->fd, r->chan);
    bool dup = r->len == 0 && scope_fn_cat[r->fn] == SCOPE_CAT_open && r->fn != SCOPE_FN_freopen &&
               r->fn != SCOPE_FN_freopen64;
    struct fdinfo *src = dup ? fdinfo(r->aux) : NULL;
    if (src && src->chan == r->wops && src->path)
        scope_str_copy(path, sizeof path, src->path);
    else if ((given[0] != '/' || !given[0]) && current && kernel_name(r, path, sizeof path))
        ;   /* the kernel's absolute name */
    else if (given[0])
        absolute(path, sizeof path, r->rbytes, r->rops, given);
    struct stat st;
    /* a descriptor the process had when we started, or a forked child inherited: learnt, not
     * opened (no event, no metric) */
    bool had = r->aux == SCOPE_OPEN_HAD && (r->len > 0 || r->fn == SCOPE_FN_fork);
    /* the owner and mode are for the events: not looked up for one the rate limit will drop */
    bool emit = !had && scope_hot.ev_fs && scope_event_room("fs.open", r->t_ns);
    /* Through the descriptor while it still is the one opened (the name may have been replaced
     * since); the app may close it meanwhile, so the name is the fallback, not a zero. */
    bool look = emit || (had && scope_hot.ev_fs);   /* had: for its fs.close */
    bool have = look && current && scope_rep_fd_stat(r->fd, &st) == 0 && fd_current(r->fd, r->chan);
    if (look && !have && path[0])
        have = name_stat(path, &st);
    if (fi) {
        text_out(o, &fi->text, SCOPE_W_FILE, fi->path ? fi->path : "", "file", fi->chan);
        free(fi->path);
        fi->path = strdup(path);
        fi->chan = r->chan;
        fi->t_open = r->t_ns;
        fi->fn = r->fn;
        fi->perms = have ? st.st_mode & 07777 : 0;
        fi->owner = have ? st.st_uid : 0;
        fi->group = have ? st.st_gid : 0;
    }
    /* A custom log-file pattern is matched here; until now the text was copied just in case. */
    struct scope_fdc *c = scope_fdc(r->fd);
    if (c && current && (atomic_load(&c->flags) & SCOPE_FD_TEXT_MAYBE)) {
        uint32_t fl = atomic_load(&c->flags);
        uint32_t want = (fl & ~(uint32_t)SCOPE_FD_TEXT_MAYBE) |
                        (scope_watch_name(SCOPE_W_FILE, path) ? SCOPE_FD_TEXT : 0);
        atomic_compare_exchange_strong(&c->flags, &fl, want);
    }
    if (emit)
        fs_event(o, "fs.open", r, path, fi, false);
    if (met && !had)
        scope_fsm_call(met, r, path);
}

static void on_close(const struct scope_rec *r, struct sbuf *o, struct sbuf *met)
{
    struct fdinfo *fi = fdinfo(r->fd);
    bool known = fi && fi->chan == r->chan;   /* else its open record was dropped */
    const char *path = known && fi->path ? fi->path : "";
    if (known)
        text_out(o, &fi->text, SCOPE_W_FILE, path, "file", r->chan);
    if (scope_hot.ev_fs)
        fs_event(o, "fs.close", r, path, known ? fi : NULL, true);
    if (met)
        scope_fsm_call(met, r, path);
    if (known) {
        free(fi->path);
        fi->path = NULL;
        fi->chan = 0;
    }
}

static void on_text(const struct scope_rec *r, struct sbuf *o)
{
    if (r->kind == SCOPE_REC_CONSOLE) {
        if (r->fd == 1 || r->fd == 2)
            text_add(o, &console[r->fd], r, SCOPE_W_CONSOLE, console_name(r->fd), "console");
        return;
    }
    struct fdinfo *fi = fdinfo(r->fd);
    if (!fi || fi->chan != r->chan || !fi->path)
        return;   /* its open was dropped: no name to give it */
    struct scope_fdc *c = scope_fdc(r->fd);
    /* copied while a custom pattern was undecided, and then found not to be a log file */
    if (c && fd_current(r->fd, r->chan) && !(atomic_load(&c->flags) & SCOPE_FD_TEXT))
        return;
    text_add(o, &fi->text, r, SCOPE_W_FILE, fi->path, "file");
}

static void on_path(const struct scope_rec *r, struct sbuf *o, struct sbuf *met)
{
    char given[SCOPE_REC_DATA + 1], path[PATH_MAX + 1], to[PATH_MAX + 1];
    path[0] = to[0] = 0;
    data_str(r, given, sizeof given);
    if (r->kind == SCOPE_REC_ERROR && !r->len) {
        struct fdinfo *fi = fdinfo(r->fd);
        if (fi && fi->chan && fi->chan == r->chan && fi->path)
            scope_str_copy(path, sizeof path, fi->path);
    } else if (given[0]) {
        absolute(path, sizeof path, r->rbytes, r->rops, given);
    }
    const char *op = scope_fn_name[r->fn];
    switch (r->kind) {
    case SCOPE_REC_DELETE: {
        struct scope_field f[] = {S("file", path), S("op", op), S("unit", "operation")};
        scope_event(o, SCOPE_W_FS, "fs.delete", "fs", 0, r->t_ns, f, 3);
        break;
    }
    case SCOPE_REC_MKDIR: {
        struct scope_field f[] = {S("file", path), S("op", op), N("file_perms", r->aux & 07777)};
        scope_event(o, SCOPE_W_FS, "fs.mkdir", "fs", 0, r->t_ns, f, 3);
        break;
    }
    case SCOPE_REC_RENAME: {
        size_t a = strlen(given);
        if (a + 1 < r->len) {
            char second[SCOPE_REC_DATA + 1];
            size_t n = r->len - a - 1;
            memcpy(second, r->data + a + 1, n);
            second[n] = 0;
            absolute(to, sizeof to, r->wbytes, r->wops, second);
        }
        struct scope_field f[] = {S("file", path), S("new_file", to), S("op", op)};
        scope_event(o, SCOPE_W_FS, "fs.rename", "fs", 0, r->t_ns, f, 3);
        break;
    }
    case SCOPE_REC_ERROR: {
        struct scope_field f[8] = {S("op", op), S("file", path), N("errno", r->aux),
                                   S("errno_name", scope_errno_name(r->aux)), S("message", scope_strerror(r->aux)),
                                   S("class", scope_err_class(scope_fn_cat[r->fn]))};
        int nf = 6;
        if (r->fd >= 0)
            f[nf++] = (struct scope_field)N("fd", r->fd);
        if (scope_hot.ev_fs)
            scope_event(o, SCOPE_W_FS, "fs.error", "fs", r->chan, r->t_ns, f, nf);
        if (met)
            scope_fsm_error(met, r, path, scope_err_class(scope_fn_cat[r->fn]));
        break;
    }
    default:
        break;
    }
}

/* Per-call metrics for records that carry only a descriptor. */
static void on_call(const struct scope_rec *r, struct sbuf *met)
{
    if (!met)
        return;
    char path[PATH_MAX + 1];
    path[0] = 0;
    if (r->len) {
        char given[SCOPE_REC_DATA + 1];
        data_str(r, given, sizeof given);
        absolute(path, sizeof path, r->rbytes, r->rops, given);
    } else {
        struct fdinfo *fi = fdinfo(r->fd);
        if (fi && fi->chan == r->chan && fi->path)
            scope_str_copy(path, sizeof path, fi->path);
    }
    scope_fsm_call(met, r, path);
}

/* A line still being written waits a little for its end. */
static bool ripe(const struct text *t, bool all)
{
    return t->b.len && (all || t->b.p[t->b.len - 1] == '\n' ||
                        scope_now_ns() - t->t_ns > 200 * 1000000ULL);
}

void scope_events_flush(struct sbuf *o, bool all)
{
    for (int fd = 1; fd <= 2; fd++)
        if (ripe(&console[fd], all))
            text_out(o, &console[fd], SCOPE_W_CONSOLE, console_name(fd), "console", 0);
    for (size_t fd = 0; fd < nfds; fd++)
        if (ripe(&fds[fd].text, all))
            text_out(o, &fds[fd].text, SCOPE_W_FILE, fds[fd].path ? fds[fd].path : "", "file",
                     fds[fd].chan);
}

/* A forked child: the parent's tables may have been mid-update; leak them and start empty. */
void scope_events_reset(void)
{
    scope_left_behind(fds);
    fds = NULL;
    nfds = 0;
    for (int fd = 0; fd < 3; fd++)
        scope_left_behind(console[fd].b.p);
    memset(console, 0, sizeof console);
    rate_sec = rate_n = rate_over = rate_told = 0;
    cwd_now[0] = 0;   /* the child's start reads it again */
    /* the child's tickets start again at 0: the parent's lookups say nothing of them */
    for (int i = 0; i < NAMESTAT_SLOTS; i++)
        scope_left_behind(namestat[i].path);
    memset(namestat, 0, sizeof namestat);
    scope_net_reset();
}

/* Linux's signal names, by number (x86-64 and arm64 agree); NULL past them (real-time signals). */
static const char *signal_name(int sig)
{
    static const char *const names[] = {
        NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",  "SIGPWR",  "SIGSYS"};
    return sig > 0 && sig < (int)(sizeof names / sizeof *names) ? names[sig] : NULL;
}

/* proc.exit: a child the process reaped. exit_status as a shell gives it (128 + N for signal N),
 * the signal's name and whether it dumped core when one killed it. */
static void on_exit_rec(const struct scope_rec *r, struct sbuf *o)
{
    int st = r->aux;
    const char *op = scope_fn_name[r->fn];
    if (WIFEXITED(st)) {
        struct scope_field f[] = {N("child_pid", r->fd), N("exit_status", WEXITSTATUS(st)), S("op", op)};
        scope_event(o, SCOPE_W_FS, "proc.exit", "proc", 0, r->t_ns, f, 3);
        return;
    }
    int sig = WTERMSIG(st);
    char num[16];
    const char *name = signal_name(sig);
    if (!name) {
        snprintf(num, sizeof num, "%d", sig);
        name = num;
    }
    struct scope_field f[] = {N("child_pid", r->fd), N("exit_status", 128 + sig), S("signal", name),
                              {"core_dumped", WCOREDUMP(st) ? "true" : "false", WCOREDUMP(st) ? 4 : 5, 0, true, 11},
                              S("op", op)};
    scope_event(o, SCOPE_W_FS, "proc.exit", "proc", 0, r->t_ns, f, 5);
}

void scope_events_format(const struct scope_rec *r, struct sbuf *ev, struct sbuf *met)
{
    switch (r->kind) {
    case SCOPE_REC_OPEN: on_open(r, ev, met); break;
    case SCOPE_REC_CLOSE: on_close(r, ev, met); break;
    case SCOPE_REC_CWD: on_cwd(r); break;
    case SCOPE_REC_CONSOLE:
    case SCOPE_REC_TEXT: on_text(r, ev); break;
    case SCOPE_REC_DELETE:
    case SCOPE_REC_RENAME:
    case SCOPE_REC_MKDIR: on_path(r, ev, met); break;
    case SCOPE_REC_ERROR:
        if (!scope_net_error(r, ev, met))
            on_path(r, ev, met);
        break;
    case SCOPE_REC_SOCK:
    case SCOPE_REC_CONN:
    case SCOPE_REC_NCLOSE:
    case SCOPE_REC_DATA:
    case SCOPE_REC_DNS: scope_net_format(r, ev, met); break;
    case SCOPE_REC_STAT:
    case SCOPE_REC_SEEK:
    case SCOPE_REC_IO: on_call(r, met); break;
    case SCOPE_REC_NOTICE: scope_notice_format(r, ev); break;
    case SCOPE_REC_EXIT: on_exit_rec(r, ev); break;
    default: break;
    }
}
