/* dest.c — destinations: parsing the URL to a kind, and the state every kind shares (attempts,
 * failures, backoff, delivered and dropped lines); files are destfile.c's, the network kinds'
 * connections and buffers destnet.c's and destconn.c's.
 *
 * Files, and why two ways of writing them: the reporting thread gives itself a descriptor table of its own
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

#include "libc/libc.h"
#include "config/config.h"
#include "dest/dest.h"
#include "dest/destnet.h"
#include "dest/log.h"

__thread bool scope_dest_keeps_fds __attribute__((tls_model("initial-exec")));


uint64_t scope_dest_mono_ms(void)
{
    struct timespec ts;
    scope_clock_gettime(CLOCK_MONOTONIC, &ts);
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
    snprintf(d->last_failure, sizeof d->last_failure, "%s %.200s: %.280s", op,
             d->kind == SCOPE_DEST_FILE ? d->path : d->url, why);
    d->last_failure_time = (int64_t)time(NULL);
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



bool scope_dest_due(const struct scope_dest *d) { return !d->down || scope_dest_mono_ms() >= d->retry_ms; }

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
    if (!scope_dfile_open(d, url) && !scope_dnet_open(d, url)) {
        d->kind = SCOPE_DEST_UNSUPPORTED;   /* last_failure says why */
        d->last_failure_time = (int64_t)time(NULL);
    }
    /* the session's record files may have a size cap; the log, which would say so, has none */
    if (d->kind == SCOPE_DEST_FILE && strcmp(what, "log") != 0)
        d->cap = scope_cfg.file_maxbytes;
}

bool scope_dest_is_net(const struct scope_dest *d) { return d->net != NULL; }

const char *scope_dest_state(const struct scope_dest *d)
{
    return d->kind == SCOPE_DEST_NONE ? "off"
         : d->kind == SCOPE_DEST_UNSUPPORTED || d->down ? "down"
         : d->connecting || d->awaiting ? "connecting"
         : d->net && !d->connected_since ? "connecting" : "connected";
}

bool scope_dest_pump(struct scope_dest *d, bool final)
{
    return d->net ? scope_dnet_pump(d, final) : false;
}

void scope_dest_last_chance(struct scope_dest *d)
{
    if (!d->net)
        return;
    /* only a retry made now is not waited for: a first attempt the reporting thread makes at
     * the end (a process that ends at once) is its ordinary connection */
    if (d->down && d->buffered) {
        d->retry_ms = 0;
        d->net->at_end = true;
    }
}

void scope_dest_end_over(struct scope_dest *d)
{
    if (d->net)
        d->net->at_end = false;
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
    return scope_dfile_tick(d);
}

void scope_dest_close(struct scope_dest *d)
{
    if (d->net)
        scope_dnet_close(d);
    if (d->fd >= 0 && scope_dest_keeps_fds)
        scope_real_close(d->fd);
    d->fd = -1;
    scope_dest_unlend(d);
    d->kind = SCOPE_DEST_NONE;
    d->down = d->connecting = false;
    d->connected_since = 0;
}




bool scope_dest_on(const struct scope_dest *d) { return d->kind != SCOPE_DEST_NONE; }


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
    size_t off = scope_dfile_write(d, buf, len);
    size_t done = off == len ? lines : scope_lines_count(buf, off);
    d->lines += done;
    if (off == len)
        return true;
    if (!d->told && !d->down && !d->capped) {
        d->told = true;
        scope_log(SCOPE_LOG_WARNING, "%s destination %s: write failed, records dropped", d->what, d->url);
    }
    d->dropped += lines - done;
    return false;
}
