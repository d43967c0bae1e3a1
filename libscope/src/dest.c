/* dest.c — destinations: file:///path, file://stdout, file://stderr, and the state every kind
 * shares (attempts, failures, backoff); the network kinds' connections and buffers are destnet.c's.
 *
 * Why two ways of writing: the reporting thread gives itself a descriptor table of its own
 * (unshare(CLONE_FILES), see report.c), so the descriptors it keeps open for its destinations are
 * invisible to the app: the app cannot close or dup2 over them, they take no low numbers from it
 * and never leak into its children. Any other thread (init logging, the inline flush of a forked
 * child, a log line from the exit path) writes through a transient descriptor, opened, written and
 * closed at once, so nothing of ours stays in the app's table. If unshare is refused, the reporting
 * thread's descriptors live in the shared table, moved high and checked (dev/ino) before each batch.
 *
 * A file that cannot be opened (its directory does not exist yet, say) makes the destination
 * "down": its lines are dropped and counted, and it is tried again after a backoff that starts at
 * 1 s and doubles up to 256 s (with jitter, so many processes sharing a dead destination do not
 * retry in step), by the reporting thread's loop even with nothing to write; a success resets it.
 * Attempts, failures, the last failure and since when it is connected are kept for the control
 * socket's status. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dest.h"
#include "destnet.h"
#include "log.h"

__thread bool scope_dest_keeps_fds __attribute__((tls_model("initial-exec")));

/* Move fd up to just below the soft limit, out of the range apps scan and reuse. */
int scope_fd_high(int fd)
{
    if (fd < 0)
        return fd;
    struct rlimit rl;
    long base = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        base = (long)rl.rlim_cur;
    base = base > 256 ? base - 64 : base / 2;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
    if (hi < 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    close(fd);
    return hi;
}

static bool same_file(int fd, const struct scope_dest *d)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino;
}

static bool remember(struct scope_dest *d, int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return false;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    return true;
}

static int console_fd(const struct scope_dest *d) { return d->kind == SCOPE_DEST_STDOUT ? 1 : 2; }

static int open_file(const struct scope_dest *d)
{
    return open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

uint64_t scope_dest_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Half the delay plus a random part of the other half. Our own generator: rand() is the app's. */
static uint64_t jitter(uint64_t ms)
{
    static uint32_t seed;
    uint32_t x = __atomic_load_n(&seed, __ATOMIC_RELAXED);
    if (!x)
        x = (uint32_t)scope_dest_mono_ms() ^ (uint32_t)getpid() << 16 ^ 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    __atomic_store_n(&seed, x, __ATOMIC_RELAXED);
    return ms / 2 + x % (ms / 2 + 1);
}

void scope_dest_failed(struct scope_dest *d, const char *op, const char *why)
{
    d->failures++;
    snprintf(d->last_failure, sizeof d->last_failure, "%s %.380s: %.100s", op,
             d->kind == SCOPE_DEST_FILE ? d->path : d->url, why);
    d->last_failure_time = (int64_t)time(NULL);
}

static void failed(struct scope_dest *d, const char *op, int err)
{
    scope_dest_failed(d, op, strerror(err));
}

/* Every kind: the next attempt after 1 s, doubling to 256 s, jittered; logged when it goes down
 * (not at each failed retry). */
void scope_dest_went_down(struct scope_dest *d, const char *op, const char *why)
{
    scope_dest_failed(d, op, why);
    bool was_down = d->down;
    d->connected_since = 0;
    d->down = true;
    d->connecting = false;
    d->backoff_ms = d->backoff_ms ? (d->backoff_ms >= 128000 ? 256000 : d->backoff_ms * 2) : 1000;
    d->retry_ms = scope_dest_mono_ms() + jitter(d->backoff_ms);
    if (!was_down)
        scope_log(SCOPE_LOG_ERROR, "%s destination %s: cannot %s: %s; retrying with backoff",
                  d->what, d->url, op, why);
}

static void went_down(struct scope_dest *d, int err) { scope_dest_went_down(d, "open", strerror(err)); }

void scope_dest_came_up(struct scope_dest *d)
{
    if (d->down)
        scope_log(SCOPE_LOG_INFO, "%s destination %s: %s again", d->what, d->url,
                  d->net ? "connected" : "open");
    if (d->down || !d->connected_since)
        d->connected_since = (int64_t)time(NULL);
    d->down = false;
    d->connecting = false;
    d->backoff_ms = 0;
}

static void came_up(struct scope_dest *d) { scope_dest_came_up(d); }

/* One open of a file destination, counted; errno kept for the caller. */
static int attempt(struct scope_dest *d)
{
    d->attempts++;
    int fd = open_file(d);
    if (fd < 0) {
        int e = errno;
        went_down(d, e);
        errno = e;
    } else {
        came_up(d);
    }
    return fd;
}

bool scope_dest_due(const struct scope_dest *d) { return !d->down || scope_dest_mono_ms() >= d->retry_ms; }
static bool due(const struct scope_dest *d) { return scope_dest_due(d); }

void scope_dest_open(struct scope_dest *d, const char *url, const char *what)
{
    memset(d, 0, sizeof *d);
    d->fd = d->lent = -1;
    d->what = what;
    if (!url || !*url) {
        d->kind = SCOPE_DEST_NONE;
        return;
    }
    snprintf(d->url, sizeof d->url, "%s", url);
    if (strcmp(url, "file://stdout") == 0 || strcmp(url, "file://stderr") == 0) {
        d->kind = strcmp(url, "file://stdout") == 0 ? SCOPE_DEST_STDOUT : SCOPE_DEST_STDERR;
        /* The file the app's 1/2 is now; later we write there only while it still is. */
        if (!remember(d, console_fd(d)))
            d->kind = SCOPE_DEST_NONE;
        else {
            d->attempts = 1;
            came_up(d);
        }
    } else if (strncmp(url, "file:///", 8) == 0) {
        d->kind = SCOPE_DEST_FILE;
        snprintf(d->path, sizeof d->path, "%s", url + 7);
        /* Created now (readers may wait for it) and checked, then closed: see the header. */
        int fd = attempt(d);
        if (fd >= 0)
            close(fd);
    } else if (!scope_dnet_open(d, url)) {
        d->kind = SCOPE_DEST_UNSUPPORTED;   /* last_failure says why */
        d->last_failure_time = (int64_t)time(NULL);
    }
}

bool scope_dest_is_net(const struct scope_dest *d) { return d->net != NULL; }

const char *scope_dest_state(const struct scope_dest *d)
{
    return d->kind == SCOPE_DEST_NONE ? "off"
         : d->kind == SCOPE_DEST_UNSUPPORTED || d->down ? "down"
         : d->connecting ? "connecting"
         : d->net && !d->connected_since ? "connecting" : "connected";
}

bool scope_dest_pump(struct scope_dest *d, bool final)
{
    return d->net ? scope_dnet_pump(d, final) : false;
}

void scope_dest_last_chance(struct scope_dest *d)
{
    if (d->net && d->down && d->buffered)
        d->retry_ms = 0;
}

bool scope_dest_write_first(struct scope_dest *d, const char *buf, size_t len, size_t lines)
{
    if (d->net)
        return scope_dnet_write(d, buf, len, lines, true);
    return scope_dest_write(d, buf, len, lines);
}

void scope_dest_final(struct scope_dest *d)
{
    if (d->net)
        scope_dnet_final(d);
    if (d->dropped)
        scope_log(SCOPE_LOG_WARNING, "%s destination %s: %llu lines delivered, %llu dropped", d->what,
                  d->url, (unsigned long long)d->lines, (unsigned long long)d->dropped);
}

void scope_dest_child(struct scope_dest *d)
{
    if (d->net)
        scope_dnet_child(d);
}

bool scope_dest_tick(struct scope_dest *d)
{
    if (d->net)
        return scope_dnet_tick(d);
    if (d->kind != SCOPE_DEST_FILE || !d->down || !due(d))
        return false;
    int fd = attempt(d);
    if (fd < 0)
        return false;
    if (scope_dest_keeps_fds) {
        fd = scope_fd_high(fd);
        if (remember(d, fd))
            d->fd = fd;
        else
            close(fd);
    } else {
        close(fd);
    }
    return true;
}

void scope_dest_close(struct scope_dest *d)
{
    if (d->net)
        scope_dnet_close(d);
    if (d->fd >= 0 && scope_dest_keeps_fds)
        close(d->fd);
    d->fd = -1;
    scope_dest_unlend(d);
    d->kind = SCOPE_DEST_NONE;
    d->down = d->connecting = false;
    d->connected_since = 0;
}

void scope_dest_unlend(struct scope_dest *d)
{
    if (d->lent >= 0)
        close(d->lent);
    d->lent = -1;
}

void scope_dest_lend(struct scope_dest *d)
{
    scope_dest_unlend(d);   /* one left by a parent whose thread never settled */
    if ((d->kind == SCOPE_DEST_STDOUT || d->kind == SCOPE_DEST_STDERR) && same_file(console_fd(d), d))
        d->lent = scope_fd_high(fcntl(console_fd(d), F_DUPFD_CLOEXEC, 3));
}

int scope_dest_adopt(struct scope_dest *d)
{
    d->fd = d->lent;
    return d->fd;
}



bool scope_dest_on(const struct scope_dest *d) { return d->kind != SCOPE_DEST_NONE; }

static void reopen(struct scope_dest *d)
{
    d->fd = -1;
    int fd = -1;
    if (d->kind == SCOPE_DEST_FILE) {
        /* the descriptor of a destination that is up, (re)made by the thread that keeps it: not
         * a new attempt unless it fails */
        if ((fd = open_file(d)) < 0) {
            d->attempts++;
            went_down(d, errno);
        }
    } else if (same_file(console_fd(d), d))
        fd = fcntl(console_fd(d), F_DUPFD_CLOEXEC, 3);
    fd = scope_fd_high(fd);
    if (d->kind == SCOPE_DEST_FILE && !remember(d, fd)) {
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    d->fd = fd;
}

/* Whole buffer or nothing more: a partial write ends the attempt (retrying would repeat lines). */
/* Whole lines, at most a page per write(): a process killed by a signal (SIGPIPE, say) while the
 * kernel copies a write into the page cache stops at a page boundary, and the rest of a longer
 * write would be lost mid-line, with the next writer's line glued to the torn one. A write that
 * fits in one page is copied whole or not at all (a single longer line is written alone). */
#define WRITE_CHUNK 4096
static size_t write_all(int fd, const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        if (n > WRITE_CHUNK) {
            const char *nl = memrchr(buf + off, '\n', WRITE_CHUNK);
            n = nl ? (size_t)(nl - (buf + off)) + 1 : 0;
            if (!n) {   /* one line longer than the chunk */
                nl = memchr(buf + off, '\n', len - off);
                n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
            }
        }
        ssize_t w = write(fd, buf + off, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    return off;
}

/* A transient open of a destination that is up is not counted as an attempt: it is the same
 * connection, reached from another thread. */
static bool write_transient(struct scope_dest *d, const char *buf, size_t len)
{
    if (!due(d))
        return false;
    int fd = -1;
    if (d->kind != SCOPE_DEST_FILE)
        fd = same_file(console_fd(d), d) ? console_fd(d) : -1;
    else if (d->down)
        fd = attempt(d);
    else if ((fd = open_file(d)) < 0) {
        d->attempts++;
        went_down(d, errno);
    }
    if (fd < 0)
        return false;
    bool ok = write_all(fd, buf, len) == len;
    if (!ok)
        failed(d, "write", errno);
    if (d->kind == SCOPE_DEST_FILE)
        close(fd);
    return ok;
}

/* While down, only scope_dest_tick tries again (the reporting thread then writes what is owed
 * first, a process-start record, before the next batch). */
static bool write_kept(struct scope_dest *d, const char *buf, size_t len)
{
    if (d->down)
        return false;
    for (int i = 0; i < 2; i++) {
        if (!same_file(d->fd, d))
            reopen(d);
        if (d->fd < 0)
            return false;
        size_t off = write_all(d->fd, buf, len);
        if (off == len)
            return true;
        if (off > 0 || errno != EBADF) {
            failed(d, "write", errno);
            return false;
        }
        d->fd = -1;
    }
    return false;
}

bool scope_dest_write(struct scope_dest *d, const char *buf, size_t len, size_t lines)
{
    if (d->kind == SCOPE_DEST_NONE || len == 0)
        return true;
    if (d->kind == SCOPE_DEST_UNSUPPORTED) {
        if (!d->told) {
            d->told = true;
            scope_log(SCOPE_LOG_WARNING, "unsupported %s destination %s: records dropped (%s)",
                      d->what, d->url, d->last_failure);
        }
        d->dropped += lines;
        return false;
    }
    if (d->net)
        return scope_dnet_write(d, buf, len, lines, false);
    if (scope_dest_keeps_fds ? write_kept(d, buf, len) : write_transient(d, buf, len)) {
        d->lines += lines;
        return true;
    }
    if (!d->told && !d->down) {
        d->told = true;
        scope_log(SCOPE_LOG_WARNING, "%s destination %s: write failed, records dropped", d->what, d->url);
    }
    d->dropped += lines;
    return false;
}
