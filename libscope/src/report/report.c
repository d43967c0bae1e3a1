/* report.c — the reporting thread: drains the ring, has each record formatted (events.c) and
 * writes whole lines to the destinations (from a descriptor table of its own); reports proc.* metrics
 * every summary period; serves the control socket (control.c) between drains. Only this thread
 * consumes the ring, except when it is not running (a forked child that never restarted it), where
 * a flush consumes inline. It runs with the thread guard set for good, so its own I/O is never
 * recorded. After a detach it keeps running, writing nothing, for the control socket. */
#include <fcntl.h>
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
#include "scope.h"

#define OUT_FLUSH_AT (128 * 1024)
enum { REQ_FLUSH = 1, REQ_FINAL = 2, REQ_CALL = 4 };
static void (*_Atomic call_fn)(void *);   /* REQ_CALL: run in this thread for an app thread that waits */
static void *call_arg;
static _Atomic int call_ran;
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;


static struct scope_dest ev_dest, met_dest;
static struct sbuf ev_out, met_out;
static size_t ev_lines, met_lines;
static uint64_t drops_told, drops_told_ns;
static bool begun;   /* process-start and proc.start written */
static _Atomic int detached;     /* nothing is reported until a reattach */
static uint64_t period_ms, next_ms;

static _Atomic int req;
static _Atomic uint64_t req_gen, done_gen;
static _Atomic int running, finished;
static pthread_mutex_t consume = PTHREAD_MUTEX_INITIALIZER;
static sem_t done_sem;           /* posted after each flush request is done */
static sem_t table_ready;        /* posted by the reporting thread once its table is settled */
static _Atomic int own_table;
static _Atomic pid_t report_tid;   /* the reporting thread's, for a pidfd (handover.c) */

pid_t scope_report_tid(void) { return atomic_load(&report_tid); }    /* … and it is its own */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void scope_report_open(const char *event_url, const char *metric_url)
{
    scope_dest_open(&ev_dest, event_url, "event");
    scope_dest_open(&met_dest, metric_url, "metric");
}

static size_t newlines(const struct sbuf *b, size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < b->len; i++)
        n += b->p[i] == '\n';
    return n;
}

static uint64_t ev_total, met_total;   /* lines delivered, whatever the destination was */

void scope_report_lines(uint64_t *events, uint64_t *metrics)
{
    *events = ev_total;
    *metrics = met_total;
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
    if (d == &ev_dest || !scope_cfg.statsd)
        scope_dfile_write_notice(d, n.p, n.len);
    if (d != &ev_dest && scope_dest_on(&ev_dest))
        scope_dest_write(&ev_dest, n.p, n.len, 1);   /* under the events file's own cap */
    free(n.p);
}

static void write_out(void)
{
    if (ev_out.len && scope_dest_write(&ev_dest, ev_out.p, ev_out.len, ev_lines) && scope_dest_on(&ev_dest))
        ev_total += ev_lines;
    if (met_out.len && scope_dest_write(&met_dest, met_out.p, met_out.len, met_lines) && scope_dest_on(&met_dest))
        met_total += met_lines;
    ev_out.len = met_out.len = 0;
    ev_lines = met_lines = 0;
    cap_notice(&ev_dest);
    cap_notice(&met_dest);
}

static void drain_text(bool all)
{
    size_t e0 = ev_out.len;
    scope_events_flush(&ev_out, all);
    ev_lines += newlines(&ev_out, e0);
}

/* The exit flush formats records until then (mono ms; 0: no bound), keeping the rest of the exit's
 * time for writing them out and the last metrics. */
static uint64_t drain_until;
static uint64_t exit_wait_ms;   /* the final request's bound */

/* Between batches of records: the app is exiting (a final request waits), or the final flush is
 * out of time. */
static bool drain_stop(void)
{
    return drain_until ? mono_ms() >= drain_until : (atomic_load(&req) & REQ_FINAL) != 0;
}

static void drain(void)
{
    struct scope_rec *r;
    bool met_on = scope_dest_on(&met_dest);
    unsigned k = 0;
    while ((r = scope_ring_peek())) {
        if ((++k & 255) == 0 && drain_stop())
            break;
        size_t e0 = ev_out.len, m0 = met_out.len;
        scope_events_format(r, &ev_out, met_on ? &met_out : NULL);
        scope_ring_release();
        ev_lines += newlines(&ev_out, e0);
        met_lines += newlines(&met_out, m0);
        if (ev_out.len > OUT_FLUSH_AT || met_out.len > OUT_FLUSH_AT)
            write_out();
    }
    /* text joined from many small writes goes out once the app has paused writing */
    drain_text(false);
}

static void report_drops(bool final)
{
    size_t e0 = ev_out.len;
    uint64_t over = scope_events_rate_notice(&ev_out, final);
    ev_lines += newlines(&ev_out, e0);
    if (over)
        scope_log(final ? SCOPE_LOG_WARNING : SCOPE_LOG_INFO, "dropped %llu events over the rate "
                  "limit (SCOPE_EVENT_MAXEPS)", (unsigned long long)over);
    /* one queue notice a second at most: a burst that overflows the ring for a while is one story */
    uint64_t d = atomic_load(&scope_drops), now = scope_mono_ns();
    if (d == drops_told || (!final && now - drops_told_ns < 1000000000ULL))
        return;
    drops_told_ns = now;
    char msg[256];
    snprintf(msg, sizeof msg, "libscope dropped %llu records (%llu in total): the queue of %zu "
             "slots was full (SCOPE_QUEUE_LENGTH)", (unsigned long long)(d - drops_told),
             (unsigned long long)d, scope_ring_capacity());
    if (scope_dest_on(&ev_dest) && scope_emit_notice(&ev_out, msg))
        ev_lines++;
    scope_log(SCOPE_LOG_WARNING, "%s", msg);
    drops_told = d;
}

static void metrics(bool start)
{
    if (!scope_dest_on(&met_dest))
        return;
    size_t before = met_out.len;
    scope_emit_proc_metrics(&met_out, start);
    if (!start) {
        scope_fsm_summary(&met_out);
        scope_net_summary(&met_out);
    }
    met_lines += newlines(&met_out, before);
}

/* Records made while detached (a call that was already inside a wrapper) are not reported; nor
 * those the exit flush had no time for (counted). */
static uint64_t discard(void)
{
    uint64_t n = 0;
    while (scope_ring_peek()) {
        scope_ring_release();
        n++;
    }
    return n;
}

/* At exit, network destinations get what is buffered out while that makes progress, within the
 * exit's bound (the app waits 1 s for this thread): a receiver that stopped reading, or a connect
 * pending since long before, is not waited for (dest: scope_dest_pump). */
#define FINAL_NET_MS 700
static void came_up(void);
static void settle_net(void)
{
    scope_dest_last_chance(&ev_dest);
    scope_dest_last_chance(&met_dest);
    scope_log_last_chance();
    uint64_t end = mono_ms() + FINAL_NET_MS;
    uint64_t stop = atomic_load(&scope_dest_stop_ms);
    if (stop && stop < end)
        end = stop;
    for (;;) {
        if (scope_dest_tick(&ev_dest))
            came_up();
        scope_dest_tick(&met_dest);
        bool more = scope_dest_pump(&ev_dest, true);
        more |= scope_dest_pump(&met_dest, true);
        more |= scope_log_pump(true);
        if (!more || mono_ms() >= end)
            break;
        struct timespec nap = {0, 5 * 1000000L};
        nanosleep(&nap, NULL);
    }
}

/* What could not go out before an exec dies with this image (a failed exec keeps it): said, since
 * it cannot be counted afterwards. */
static void unsent_at_exec(const struct scope_dest *d)
{
    /* once per amount: execvp tries each PATH directory, each attempt an exec */
    static uint64_t told[2];
    uint64_t *t = &told[d == &met_dest];
    if (d->buffered && d->buffered != *t)
        scope_log(SCOPE_LOG_WARNING, "%s destination %s: %llu bytes not sent before exec (lost unless "
                  "the exec fails)", d->what, d->url, (unsigned long long)d->buffered);
    *t = d->buffered;
}

static void final_send(void)
{
    settle_net();
    scope_dest_final(&ev_dest);
    scope_dest_final(&met_dest);
    scope_log_final();
}

static void final_report(void)
{
    if (atomic_load(&detached)) {
        discard();
        atomic_store(&finished, 1);
        atomic_store(&scope_hot.active, 0);
        return;
    }
    /* What the exit's time allows: records are formatted until a reserve is left for writing
     * them and the last metrics (network destinations get theirs in settle_net); the records left
     * then are dropped, counted and said, in the log and a notice. */
    uint64_t stop = atomic_load(&scope_dest_stop_ms);
    if (stop) {
        uint64_t reserve = scope_dest_is_net(&ev_dest) || scope_dest_is_net(&met_dest) ? FINAL_NET_MS / 2 + 100 : 150;
        uint64_t now = mono_ms();
        drain_until = stop > now + reserve ? stop - reserve : now;
    }
    drain();
    drain_until = 0;
    uint64_t left = discard();
    drain_text(true);
    metrics(false);
    report_drops(true);
    if (left) {
        char msg[256];
        snprintf(msg, sizeof msg, "libscope dropped %llu records at exit: the app's exit waits for "
                 "libscope %llu ms at most, too little to write them", (unsigned long long)left,
                 (unsigned long long)exit_wait_ms);
        if (scope_dest_on(&ev_dest) && scope_emit_notice(&ev_out, msg))
            ev_lines++;
        scope_log(SCOPE_LOG_WARNING, "%s", msg);
    }
    write_out();
    final_send();
    atomic_store(&finished, 1);
    atomic_store(&scope_hot.active, 0);
}

/* A network event destination gets its process-start record at the head of each connection
 * (came_up), not in the stream. */
static void start_record(void)
{
    if (scope_dest_on(&ev_dest) && !scope_dest_is_net(&ev_dest) && scope_emit_start(&ev_out))
        ev_lines++;
}

static void came_up(void)
{
    if (atomic_load(&detached))
        return;
    struct sbuf s = {0};
    if (scope_emit_start(&s))
        scope_dest_write_first(&ev_dest, s.p, s.len, 1);
    free(s.p);
}

static void begin(void)
{
    if (begun)
        return;
    begun = true;
    scope_ident_load();
    start_record();
    metrics(true);
    write_out();
}

/* An event destination that comes up (a file after being down, each new network connection) gets
 * the process-start record first: its readers know the process by it. Network destinations then
 * send what they buffered, as far as their sockets take it now. */
static void tick(void)
{
    if (scope_dest_tick(&ev_dest) && begun) {
        if (scope_dest_is_net(&ev_dest))
            came_up();
        else {
            write_out();
            start_record();
        }
    }
    scope_dest_tick(&met_dest);
    scope_dest_pump(&ev_dest, false);
    scope_dest_pump(&met_dest, false);
    scope_log_tick();
}

static void set_period(void)
{
    uint64_t now = mono_ms();
    period_ms = (uint64_t)scope_cfg.period * 1000;
    if (!next_ms || next_ms > now + period_ms)
        next_ms = now + period_ms;
}

static void close_range_of(unsigned lo, unsigned hi)
{
    if (lo > hi || syscall(SYS_close_range, lo, hi, 0) == 0)
        return;
    struct rlimit rl;   /* kernels before 5.9: one by one, up to the limit */
    unsigned top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 20 ? (unsigned)rl.rlim_cur : 1u << 16;
    for (unsigned fd = lo; fd <= hi && fd < top; fd++)
        close((int)fd);
}

/* Why a descriptor table of our own: a live second thread sharing the app's table makes the kernel
 * take a reference on the file in every read and write the app makes (measured here: +25 % on a
 * loop of tiny reads and writes, with an idle thread and no wrapper at all). With its own table
 * the reporting thread costs the app's syscalls nothing, and its descriptors are out of the app's
 * reach (dest.c). The copy unshare makes still refers to every file the app has open; those are
 * closed at once so the app's own closes (a pipe's write end, a socket) take effect as if we were
 * not there. POSIX record locks belong to a descriptor table, so closing our copies cannot
 * release the app's locks. */
static void own_fd_table(void)
{
    scope_dest_keeps_fds = true;
    if (unshare(CLONE_FILES) != 0) {
        int e = errno;
        sem_post(&table_ready);
        scope_log(SCOPE_LOG_INFO, "the reporting thread shares the app's descriptor table (unshare: %s)",
                  strerror(e));
        return;
    }
    /* ours: the lent copies, and the descriptors pinned across a change of user (handover.c) */
    enum { NKEEP = 3 + SCOPE_PIN_COUNT };
    int keep[NKEEP] = {scope_dest_adopt(&ev_dest), scope_dest_adopt(&met_dest), scope_log_adopt()};
    for (int i = 0; i < SCOPE_PIN_COUNT; i++)
        keep[3 + i] = scope_pin_fd(i);
    for (int i = 0; i < NKEEP; i++)   /* sorted */
        for (int j = i + 1; j < NKEEP; j++)
            if (keep[j] < keep[i]) {
                int t = keep[i];
                keep[i] = keep[j];
                keep[j] = t;
            }
    unsigned lo = 0;
    for (int i = 0; i < NKEEP; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < lo)
            continue;
        if ((unsigned)keep[i] > lo)
            close_range_of(lo, (unsigned)keep[i] - 1);
        lo = (unsigned)keep[i] + 1;
    }
    close_range_of(lo, ~0u);
    atomic_store(&own_table, 1);
    sem_post(&table_ready);
}

/* The descriptors `scope attach` opened for us (attachfds.h), into this thread's own table, before
 * anything is written: the process-start record goes through them. */
static void handover(void)
{
    if (!scope_handover_pending())
        return;
    struct scope_given g;
    char why[512];
    int rc = scope_handover_fetch(&g, why, sizeof why);
    scope_dest_give(&ev_dest, g.event, why);
    scope_dest_give(&met_dest, g.metric, why);
    scope_log_give(g.log, why);
    if (rc)
        scope_log(SCOPE_LOG_ERROR, "no descriptors from scope attach: %s", why);
}

static void *thread_main(void *arg)
{
    (void)arg;
    scope_guard = 1;   /* for good: nothing this thread does is the app's */
    atomic_store(&report_tid, (pid_t)syscall(SYS_gettid));
    own_fd_table();
    handover();
    if (!atomic_load(&detached))
        begin();
    next_ms = 0;
    set_period();
    for (;;) {
        uint64_t g = atomic_load(&req_gen);
        int r = atomic_exchange(&req, 0);
        void (*fn)(void *) = r & REQ_CALL ? atomic_exchange(&call_fn, NULL) : NULL;
        if (fn) {
            fn(call_arg);
            atomic_store(&call_ran, 1);
        }
        pthread_mutex_lock(&consume);
        if (r & REQ_FINAL) {
            final_report();
            scope_control_close();   /* before the app may go: its socket file goes with it */
            atomic_store(&done_gen, g);
            sem_post(&done_sem);
            return NULL;   /* the consume lock stays held: nobody reports after the end */
        }
        uint64_t now = mono_ms();
        if (atomic_load(&detached)) {
            discard();
        } else {
            if (scope_handover_pending()) {   /* a reattach's, after its answer went out */
                handover();
                begin();
            }
            tick();
            drain();
            /* an exec ends this image: its last period's metrics go out with its events */
            if (now >= next_ms || (r & REQ_FLUSH)) {
                metrics(false);
                next_ms = now + period_ms;
            }
            report_drops(false);
            write_out();
            if (r & REQ_FLUSH) {   /* an exec: what a network destination holds would be lost */
                settle_net();
                unsent_at_exec(&ev_dest);
                unsent_at_exec(&met_dest);
                scope_dest_end_over(&ev_dest);
                scope_dest_end_over(&met_dest);
                scope_log_end_over();
            }
        }
        if (now >= next_ms)
            next_ms = now + period_ms;
        pthread_mutex_unlock(&consume);
        if (r) {
            atomic_store(&done_gen, g);
            sem_post(&done_sem);
        }
        /* requests that change what is reported run here, between drains (ctl.c) */
        scope_control_serve();
        scope_ctl_turn();
        now = mono_ms();
        if (!atomic_load(&req))
            scope_ring_wait(next_ms > now ? (int)(next_ms - now < SCOPE_RING_NAP_MS ? next_ms - now : SCOPE_RING_NAP_MS) : 0);
    }
}

const struct scope_dest *scope_report_dest(bool metric) { return metric ? &met_dest : &ev_dest; }

bool scope_report_detached(void) { return atomic_load(&detached); }

static bool same_url(const struct scope_dest *d, const char *url)
{
    if (!scope_dest_on(d))
        return !url || !*url;
    return url && !strcmp(d->url, url);
}

void scope_report_reconfigure(const char *event_url, const char *metric_url)
{
    pthread_mutex_lock(&consume);
    drain();
    write_out();
    if (!same_url(&ev_dest, event_url)) {
        scope_dest_close(&ev_dest);
        scope_dest_open(&ev_dest, event_url, "event");
        start_record();   /* a new event destination: its readers need to know the process */
    }
    if (!same_url(&met_dest, metric_url)) {
        scope_dest_close(&met_dest);
        scope_dest_open(&met_dest, metric_url, "metric");
    }
    write_out();
    set_period();
    pthread_mutex_unlock(&consume);
}

void scope_report_detach(void)
{
    pthread_mutex_lock(&consume);
    if (!atomic_load(&detached)) {
        drain();
        drain_text(true);
        metrics(false);
        report_drops(true);
        write_out();
        scope_dest_close(&ev_dest);
        scope_dest_close(&met_dest);
        atomic_store(&detached, 1);
    }
    pthread_mutex_unlock(&consume);
}

void scope_report_resume(const char *event_url, const char *metric_url)
{
    pthread_mutex_lock(&consume);
    discard();
    ev_out.len = met_out.len = 0;
    ev_lines = met_lines = 0;
    scope_events_reset();
    scope_metrics_reset();
    scope_fsm_child();
    scope_net_child();
    drops_told = atomic_load(&scope_drops);
    scope_dest_close(&ev_dest);
    scope_dest_close(&met_dest);
    scope_dest_open(&ev_dest, event_url, "event");
    scope_dest_open(&met_dest, metric_url, "metric");
    next_ms = 0;
    set_period();
    begun = false;
    atomic_store(&detached, 0);
    if (!scope_handover_pending())
        begin();
    pthread_mutex_unlock(&consume);
}

bool scope_report_start(void)
{
    int saved_errno = errno;
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* Created with every signal blocked, so the app's signals go to the app's threads and a
     * write to a closed pipe returns EPIPE instead of killing the process. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    atomic_store(&running, 1);
    atomic_store(&own_table, 0);
    sem_init(&table_ready, 0, 0);
    sem_init(&done_sem, 0, 0);
    scope_dest_lend(&ev_dest);
    scope_dest_lend(&met_dest);
    scope_log_lend();
    int rc = pthread_create(&t, &attr, thread_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_store(&running, 0);
        scope_dest_unlend(&ev_dest);
        scope_dest_unlend(&met_dest);
        scope_log_unlend();
        scope_log(SCOPE_LOG_ERROR, "cannot start the reporting thread: %s", strerror(rc));
        errno = saved_errno;
        return false;
    }
    /* The copies lent for stdout/stderr leave the app's table once the thread has its own (a
     * shared table keeps them: they are the thread's). Bounded: a thread that never gets the CPU
     * must not hold up the app's start; its copies then stay, high and close-on-exec. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    while (sem_timedwait(&table_ready, &ts) != 0 && errno == EINTR)
        ;
    if (atomic_load(&own_table)) {
        scope_dest_unlend(&ev_dest);
        scope_dest_unlend(&met_dest);
        scope_log_unlend();
    }
    errno = saved_errno;
    return true;
}

/* In a forked child: the parent's thread is gone, its pending work is not ours. */
void scope_report_child_reset(void)
{
    pthread_mutex_init(&consume, NULL);
    /* The parent's buffers and fd state may have been mid-update: leak them, start empty. */
    scope_left_behind(ev_out.p);
    memset(&ev_out, 0, sizeof ev_out);
    scope_dest_child(&ev_dest);
    scope_dest_child(&met_dest);
    scope_left_behind(met_out.p);
    memset(&met_out, 0, sizeof met_out);
    ev_lines = met_lines = 0;
    scope_events_reset();
    drops_told = drops_told_ns = 0;
    ev_total = met_total = 0;
    begun = false;
    scope_control_child();
    atomic_store(&req, 0);
    atomic_store(&req_gen, 0);
    atomic_store(&done_gen, 0);
    atomic_store(&running, 0);
    atomic_store(&finished, 0);
    scope_metrics_reset();
}

/* Asks the thread for what bits name and waits for it to be done, bounded: a stuck destination
 * must not keep the app from exec'ing or exiting. */
static bool request(int bits, int timeout_ms, uint64_t *gen)
{
    uint64_t g = atomic_fetch_add(&req_gen, 1) + 1;
    if (gen)
        *gen = g;
    atomic_fetch_or(&req, bits);
    scope_ring_kick();
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (atomic_load(&done_gen) < g)
        if (sem_timedwait(&done_sem, &deadline) != 0 && errno == ETIMEDOUT)
            return atomic_load(&done_gen) >= g;
    return true;
}

void scope_report_flush(bool final, int timeout_ms)
{
    if (atomic_load(&finished))
        return;
    int saved_guard = scope_guard, saved_errno = errno;
    scope_guard = 1;
    if (final) {
        /* the time the app gives us, less a margin for its own exit */
        exit_wait_ms = (uint64_t)timeout_ms;
        atomic_store(&scope_dest_stop_ms, mono_ms() + (uint64_t)(timeout_ms > 100 ? timeout_ms - 50 : timeout_ms));
    }
    if (!atomic_load(&running)) {
        /* No thread: we are the only consumer. A child that never got to restart it still owes
         * its process-start record. */
        sigset_t pipe, old;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe, &old);
        if (pthread_mutex_trylock(&consume) == 0) {
            begin();
            if (final)
                final_report();
            else {
                drain();
                write_out();
                pthread_mutex_unlock(&consume);
            }
        }
        /* A write to a closed pipe must not kill the app: take our SIGPIPE back out. */
        struct timespec zero = {0, 0};
        sigset_t pending;
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) &&
            !sigismember(&old, SIGPIPE))
            sigtimedwait(&pipe, NULL, &zero);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    } else {
        request(final ? REQ_FINAL : REQ_FLUSH, timeout_ms, NULL);
    }
    scope_guard = saved_guard;
    errno = saved_errno;
}

bool scope_report_call(void (*fn)(void *), void *arg, int timeout_ms)
{
    if (!atomic_load(&running) || atomic_load(&finished) || scope_guard)
        return false;
    int saved_errno = errno;
    scope_guard = 1;
    pthread_mutex_lock(&call_lock);
    call_arg = arg;
    atomic_store(&call_ran, 0);
    atomic_store(&call_fn, fn);
    request(REQ_CALL, timeout_ms, NULL);
    /* the turn that answered may have begun just before the request: poll a little more */
    for (int i = 0; i < timeout_ms && !atomic_load(&call_ran) && atomic_load(&call_fn); i++) {
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
        if (i % 50 == 0)
            atomic_fetch_or(&req, REQ_CALL), scope_ring_kick();
    }
    /* Not run in time: the thread must not run it later, on an argument gone from the caller's
     * stack; if it has taken it already, it is running it now (a few system calls): wait. */
    if (!atomic_load(&call_ran) && !atomic_exchange(&call_fn, NULL))
        while (!atomic_load(&call_ran)) {
            struct timespec ms = {0, 1000000L};
            nanosleep(&ms, NULL);
        }
    bool done = atomic_load(&call_ran);
    pthread_mutex_unlock(&call_lock);
    scope_guard = 0;
    errno = saved_errno;
    return done;
}
