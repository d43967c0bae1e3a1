/* reportout.c — what the reporting thread makes and writes: records drained from the ring and
 * formatted (events.c), whole lines written to the event and metric destinations and counted,
 * the proc.* and summary metrics of a period, the process-start record, and the notices it owes:
 * a file that reached its size cap, records dropped on a full queue or over the rate limit. */
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "control/control.h"
#include "control/ctl.h"
#include "dest/dest.h"
#include "report/emit.h"
#include "report/events.h"
#include "report/fsmetrics.h"
#include "control/attachfds.h"
#include "control/handover.h"
#include "report/ident.h"
#include "dest/log.h"
#include "report/netevents.h"
#include "report/report.h"
#include "record/ring.h"
#include "report/reporting.h"
#include "scope.h"

#define OUT_FLUSH_AT (128 * 1024)

struct scope_dest scope_rep_ev_dest, scope_rep_met_dest;
struct sbuf scope_rep_ev_out, scope_rep_met_out;
size_t scope_rep_ev_lines, scope_rep_met_lines;
uint64_t scope_rep_drops_told, scope_rep_drops_told_ns;

static size_t newlines(const struct sbuf *b, size_t from)
{
    size_t n = 0;
    const char *p = b->p + from, *end = b->p + b->len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {   /* a line at a time, not a byte */
        n++;
        p++;
    }
    return n;
}

uint64_t scope_rep_ev_total, scope_rep_met_total;   /* lines delivered, whatever the destination was */

void scope_report_lines(uint64_t *events, uint64_t *metrics)
{
    *events = scope_rep_ev_total;
    *metrics = scope_rep_met_total;
}

/* A session file that reached its size cap (SCOPE_FILE_MAXBYTES) in this process's write: a notice
 * in the events file (let past the cap: it is the last line there) and the log. Lines after it are
 * dropped and counted (the log's last word on the destination). */
static void cap_notice(struct scope_dest *d)
{
    if (!d->cap_reached)
        return;
    d->cap_reached = false;
    char msg[768];
    snprintf(msg, sizeof msg, "%s file %.600s reached its size cap of %llu bytes (SCOPE_FILE_MAXBYTES): "
             "this process's records to it are dropped from here (counted in the log)", d->what, d->path, (unsigned long long)d->cap);
    scope_log(SCOPE_LOG_WARNING, "%s", msg);
    struct sbuf n = {0};
    if (!scope_emit_notice(&n, msg) || !n.len) {
        free(n.p);
        return;
    }
    /* In the capped file itself (the last line, past the cap, so that the next process finds it
     * full and says nothing more), unless it holds StatsD lines; and in the events. */
    if (d == &scope_rep_ev_dest || !scope_cfg.statsd)
        scope_dfile_write_notice(d, n.p, n.len);
    if (d != &scope_rep_ev_dest && scope_dest_on(&scope_rep_ev_dest))
        scope_dest_write(&scope_rep_ev_dest, n.p, n.len, 1);   /* under the events file's own cap */
    free(n.p);
}

void scope_rep_write_out(void)
{
    if (scope_rep_ev_out.len &&
        scope_dest_write(&scope_rep_ev_dest, scope_rep_ev_out.p, scope_rep_ev_out.len, scope_rep_ev_lines) &&
        scope_dest_on(&scope_rep_ev_dest))
        scope_rep_ev_total += scope_rep_ev_lines;
    if (scope_rep_met_out.len &&
        scope_dest_write(&scope_rep_met_dest, scope_rep_met_out.p, scope_rep_met_out.len, scope_rep_met_lines) &&
        scope_dest_on(&scope_rep_met_dest))
        scope_rep_met_total += scope_rep_met_lines;
    scope_rep_ev_out.len = scope_rep_met_out.len = 0;
    scope_rep_ev_lines = scope_rep_met_lines = 0;
    cap_notice(&scope_rep_ev_dest);
    cap_notice(&scope_rep_met_dest);
}

void scope_rep_drain_text(bool all)
{
    size_t e0 = scope_rep_ev_out.len;
    scope_events_flush(&scope_rep_ev_out, all);
    scope_rep_ev_lines += newlines(&scope_rep_ev_out, e0);
}
/* Between batches of records: the app is exiting (a final request waits), or the final flush is
 * out of time. */
static bool drain_stop(void)
{
    return scope_rep_drain_until ? scope_rep_mono_ms() >= scope_rep_drain_until
                                 : (atomic_load(&scope_rep_req) & REQ_FINAL) != 0;
}

void scope_rep_drain(void)
{
    struct scope_rec *r;
    bool met_on = scope_dest_on(&scope_rep_met_dest);
    unsigned k = 0;
    scope_stamp_anchor();
    if (scope_stamp_off_news())
        scope_log(SCOPE_LOG_INFO, "the app made rdtsc fault (prctl PR_SET_TSC): records are timed by the "
                  "wall clock from here on");
    while ((r = scope_ring_peek())) {
        if ((++k & 255) == 0 && drain_stop())
            break;
        r->t_ns = scope_stamp_ns(r->t_ns);   /* the wall-clock time, for everything below */
        size_t e0 = scope_rep_ev_out.len, m0 = scope_rep_met_out.len;
        scope_events_format(r, &scope_rep_ev_out, met_on ? &scope_rep_met_out : NULL);
        scope_ring_release();
        scope_rep_ev_lines += newlines(&scope_rep_ev_out, e0);
        scope_rep_met_lines += newlines(&scope_rep_met_out, m0);
        if (scope_rep_ev_out.len > OUT_FLUSH_AT || scope_rep_met_out.len > OUT_FLUSH_AT)
            scope_rep_write_out();
    }
    /* text joined from many small writes goes out once the app has paused writing */
    scope_rep_drain_text(false);
}

void scope_rep_drops(bool final)
{
    size_t e0 = scope_rep_ev_out.len;
    uint64_t over = scope_events_rate_notice(&scope_rep_ev_out, final);
    scope_rep_ev_lines += newlines(&scope_rep_ev_out, e0);
    if (over)
        scope_log(final ? SCOPE_LOG_WARNING : SCOPE_LOG_INFO, "dropped %llu events over the rate "
                  "limit (SCOPE_EVENT_MAXEPS)", (unsigned long long)over);
    /* one queue notice a second at most: a burst that overflows the ring for a while is one story */
    uint64_t d = atomic_load(&scope_drops), now = scope_mono_ns();
    if (d == scope_rep_drops_told || (!final && now - scope_rep_drops_told_ns < 1000000000ULL))
        return;
    scope_rep_drops_told_ns = now;
    char msg[256];
    snprintf(msg, sizeof msg, "libscope dropped %llu records (%llu in total): the queue of %zu "
             "slots was full (SCOPE_QUEUE_LENGTH)", (unsigned long long)(d - scope_rep_drops_told),
             (unsigned long long)d, scope_ring_capacity());
    if (scope_dest_on(&scope_rep_ev_dest) && scope_emit_notice(&scope_rep_ev_out, msg))
        scope_rep_ev_lines++;
    scope_log(SCOPE_LOG_WARNING, "%s", msg);
    scope_rep_drops_told = d;
}

void scope_rep_metrics(bool start)
{
    if (!scope_dest_on(&scope_rep_met_dest))
        return;
    size_t before = scope_rep_met_out.len;
    scope_emit_proc_metrics(&scope_rep_met_out, start);
    if (!start) {
        scope_fsm_summary(&scope_rep_met_out);
        scope_net_summary(&scope_rep_met_out);
    }
    scope_rep_met_lines += newlines(&scope_rep_met_out, before);
}

/* Records made while detached (a call that was already inside a wrapper) are not reported; nor
 * those the exit flush had no time for (counted). */
uint64_t scope_rep_discard(void)
{
    uint64_t n = 0;
    while (scope_ring_peek()) {
        scope_ring_release();
        n++;
    }
    return n;
}

/* A network event destination gets its process-start record at the head of each connection
 * (came_up), not in the stream. */
void scope_rep_start_record(void)
{
    if (scope_dest_on(&scope_rep_ev_dest) && !scope_dest_is_net(&scope_rep_ev_dest) &&
        scope_emit_start(&scope_rep_ev_out))
        scope_rep_ev_lines++;
}

void scope_rep_came_up(void)
{
    if (atomic_load(&scope_rep_detached))
        return;
    struct sbuf s = {0};
    if (scope_emit_start(&s))
        scope_dest_write_first(&scope_rep_ev_dest, s.p, s.len, 1);
    free(s.p);
}
