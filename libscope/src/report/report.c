/* report.c — the reporting thread: drains the ring, has each record formatted (events.c) and
 * writes whole lines to the destinations (from a descriptor table of its own); reports proc.* metrics
 * every summary period; serves the control socket (control.c) between drains. Only this thread
 * consumes the ring, except when it is not running (a forked child that never restarted it), where
 * a flush consumes inline. It runs with the thread guard set for good, so its own I/O is never
 * recorded. After a detach it keeps running, writing nothing, for the control socket. Here: the
 * thread's loop and the requests the app's threads make of it (flush at exec and exit, a call run
 * on it, detach, reattach, a new config); what it writes and the notices it owes are reportout.c's,
 * the exit's flush reportexit.c's, its own descriptor table reportfds.c's. */
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
#include "report/reporting.h"
#include "scope.h"

/* The control socket is served (not by a helper of scope-supervise: scope_report_no_control). */
static bool serve_control = true;
static void (*_Atomic call_fn)(void *);   /* REQ_CALL: run in this thread for an app thread that waits */
static void *call_arg;
static _Atomic int call_ran;
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;

static bool begun;   /* process-start and proc.start written */
_Atomic int scope_rep_detached;     /* nothing is reported until a reattach */
static uint64_t period_ms, next_ms;

_Atomic int scope_rep_req;
static _Atomic uint64_t req_gen, done_gen;
static _Atomic int running;
_Atomic int scope_rep_finished;
static pthread_mutex_t consume = PTHREAD_MUTEX_INITIALIZER;
static sem_t done_sem;           /* posted after each flush request is done */
sem_t scope_rep_table_ready;        /* posted by the reporting thread once its table is settled */
_Atomic int scope_rep_own_table;
static _Atomic pid_t report_tid;   /* the reporting thread's, for a pidfd (handover.c) */

pid_t scope_report_tid(void) { return atomic_load(&report_tid); }    /* … and it is its own */

uint64_t scope_rep_mono_ms(void)
{
    struct timespec ts;
    scope_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void scope_report_open(const char *event_url, const char *metric_url)
{
    scope_dest_open(&scope_rep_ev_dest, event_url, "event");
    scope_dest_open(&scope_rep_met_dest, metric_url, "metric");
}

static void begin(void)
{
    if (begun)
        return;
    begun = true;
    scope_ident_load();
    scope_rep_start_record();
    scope_rep_metrics(true);
    scope_rep_write_out();
}

/* An event destination that comes up (a file after being down, each new network connection) gets
 * the process-start record first: its readers know the process by it. Network destinations then
 * send what they buffered, as far as their sockets take it now. */
static void tick(void)
{
    if (scope_dest_tick(&scope_rep_ev_dest) && begun) {
        if (scope_dest_is_net(&scope_rep_ev_dest))
            scope_rep_came_up();
        else {
            scope_rep_write_out();
            scope_rep_start_record();
        }
    }
    scope_dest_tick(&scope_rep_met_dest);
    scope_dest_pump(&scope_rep_ev_dest, false);
    scope_dest_pump(&scope_rep_met_dest, false);
    scope_log_tick();
}

static void set_period(void)
{
    uint64_t now = scope_rep_mono_ms();
    period_ms = (uint64_t)scope_cfg.period * 1000;
    if (!next_ms || next_ms > now + period_ms)
        next_ms = now + period_ms;
}

static void *thread_main(void *arg)
{
    (void)arg;
    scope_guard = 1;   /* for good: nothing this thread does is the app's */
    atomic_store(&report_tid, (pid_t)scope_real_syscall(SYS_gettid));
    scope_rep_own_fd_table();
    /* here, not on the app's thread: reading the kernel's clocksource is an open of ours, which
     * the app's descriptor table and an strace of its threads need not see; records made before
     * stay on the wall clock (libc/stamp.c) */
    if (scope_stamp_init())
        scope_log(SCOPE_LOG_INFO, "records are timed by the CPU's time-stamp counter");
    scope_rep_handover();
    if (!atomic_load(&scope_rep_detached))
        begin();
    next_ms = 0;
    set_period();
    for (;;) {
        uint64_t g = atomic_load(&req_gen);
        int r = atomic_exchange(&scope_rep_req, 0);
        void (*fn)(void *) = r & REQ_CALL ? atomic_exchange(&call_fn, NULL) : NULL;
        if (fn) {
            fn(call_arg);
            atomic_store(&call_ran, 1);
        }
        pthread_mutex_lock(&consume);
        if (r & REQ_FINAL) {
            scope_rep_final_report();
            scope_control_close();   /* before the app may go: its socket file goes with it */
            atomic_store(&done_gen, g);
            sem_post(&done_sem);
            return NULL;   /* the consume lock stays held: nobody reports after the end */
        }
        uint64_t now = scope_rep_mono_ms();
        if (atomic_load(&scope_rep_detached)) {
            scope_rep_discard();
        } else {
            if (scope_handover_pending()) {   /* a reattach's, after its answer went out */
                scope_rep_handover();
                begin();
            }
            tick();
            scope_rep_drain();
            /* an exec ends this image: its last period's metrics go out with its events */
            if (now >= next_ms || (r & REQ_FLUSH)) {
                scope_rep_metrics(false);
                next_ms = now + period_ms;
            }
            scope_rep_drops(false);
            scope_rep_write_out();
            if (r & REQ_FLUSH) {   /* an exec: what a network destination holds would be lost */
                scope_rep_settle_net();
                scope_rep_unsent_at_exec(&scope_rep_ev_dest);
                scope_rep_unsent_at_exec(&scope_rep_met_dest);
                scope_dest_end_over(&scope_rep_ev_dest);
                scope_dest_end_over(&scope_rep_met_dest);
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
        /* requests that change what is reported run here, between drains (ctl.c); not in a
         * helper of scope-supervise (proxy.c): it is no process of the app's to control */
        if (serve_control) {
            scope_control_serve();
            scope_ctl_turn();
        }
        now = scope_rep_mono_ms();
        if (!atomic_load(&scope_rep_req))
            scope_ring_wait(next_ms > now ? (int)(next_ms - now < SCOPE_RING_NAP_MS ? next_ms - now : SCOPE_RING_NAP_MS) : 0);
    }
}

void scope_report_no_control(void) { serve_control = false; }

const struct scope_dest *scope_report_dest(bool metric)
{
    return metric ? &scope_rep_met_dest : &scope_rep_ev_dest;
}

bool scope_report_detached(void) { return atomic_load(&scope_rep_detached); }

static bool same_url(const struct scope_dest *d, const char *url)
{
    if (!scope_dest_on(d))
        return !url || !*url;
    return url && !strcmp(d->url, url);
}

void scope_report_reconfigure(const char *event_url, const char *metric_url)
{
    pthread_mutex_lock(&consume);
    scope_rep_drain();
    scope_rep_write_out();
    if (!same_url(&scope_rep_ev_dest, event_url)) {
        scope_dest_close(&scope_rep_ev_dest);
        scope_dest_open(&scope_rep_ev_dest, event_url, "event");
        scope_rep_start_record();   /* a new event destination: its readers need to know the process */
    }
    if (!same_url(&scope_rep_met_dest, metric_url)) {
        scope_dest_close(&scope_rep_met_dest);
        scope_dest_open(&scope_rep_met_dest, metric_url, "metric");
    }
    scope_rep_write_out();
    set_period();
    pthread_mutex_unlock(&consume);
}

void scope_report_detach(void)
{
    pthread_mutex_lock(&consume);
    if (!atomic_load(&scope_rep_detached)) {
        scope_rep_drain();
        scope_rep_drain_text(true);
        scope_rep_metrics(false);
        scope_rep_drops(true);
        scope_rep_write_out();
        scope_dest_close(&scope_rep_ev_dest);
        scope_dest_close(&scope_rep_met_dest);
        atomic_store(&scope_rep_detached, 1);
    }
    pthread_mutex_unlock(&consume);
}

void scope_report_resume(const char *event_url, const char *metric_url)
{
    pthread_mutex_lock(&consume);
    scope_rep_discard();
    scope_rep_ev_out.len = scope_rep_met_out.len = 0;
    scope_rep_ev_lines = scope_rep_met_lines = 0;
    scope_events_reset();
    scope_metrics_reset();
    scope_fsm_child();
    scope_net_child();
    scope_rep_drops_told = atomic_load(&scope_drops);
    scope_events_cwd_start();   /* what it is now: changes while detached went unread */
    scope_dest_close(&scope_rep_ev_dest);
    scope_dest_close(&scope_rep_met_dest);
    scope_dest_open(&scope_rep_ev_dest, event_url, "event");
    scope_dest_open(&scope_rep_met_dest, metric_url, "metric");
    next_ms = 0;
    set_period();
    begun = false;
    atomic_store(&scope_rep_detached, 0);
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
    atomic_store(&scope_rep_own_table, 0);
    scope_rep_procfd = -1;   /* the last thread's, gone with its table */
    scope_events_cwd_start();
    sem_init(&scope_rep_table_ready, 0, 0);
    sem_init(&done_sem, 0, 0);
    scope_dest_lend(&scope_rep_ev_dest);
    scope_dest_lend(&scope_rep_met_dest);
    scope_log_lend();
    int rc = pthread_create(&t, &attr, thread_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_store(&running, 0);
        scope_dest_unlend(&scope_rep_ev_dest);
        scope_dest_unlend(&scope_rep_met_dest);
        scope_log_unlend();
        scope_log(SCOPE_LOG_ERROR, "cannot start the reporting thread: %s", scope_strerror(rc));
        errno = saved_errno;
        return false;
    }
    /* The copies lent for stdout/stderr leave the app's table once the thread has its own (a
     * shared table keeps them: they are the thread's). Bounded: a thread that never gets the CPU
     * must not hold up the app's start; its copies then stay, high and close-on-exec. */
    struct timespec ts;
    scope_clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    while (sem_timedwait(&scope_rep_table_ready, &ts) != 0 && errno == EINTR)
        ;
    if (atomic_load(&scope_rep_own_table)) {
        scope_dest_unlend(&scope_rep_ev_dest);
        scope_dest_unlend(&scope_rep_met_dest);
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
    scope_left_behind(scope_rep_ev_out.p);
    memset(&scope_rep_ev_out, 0, sizeof scope_rep_ev_out);
    scope_dest_child(&scope_rep_ev_dest);
    scope_dest_child(&scope_rep_met_dest);
    scope_left_behind(scope_rep_met_out.p);
    memset(&scope_rep_met_out, 0, sizeof scope_rep_met_out);
    scope_rep_ev_lines = scope_rep_met_lines = 0;
    scope_events_reset();
    scope_rep_procfd = -1;   /* in the parent thread's table, not ours */
    scope_rep_drops_told = scope_rep_drops_told_ns = 0;
    scope_rep_ev_total = scope_rep_met_total = 0;
    begun = false;
    scope_control_child();
    atomic_store(&scope_rep_req, 0);
    atomic_store(&req_gen, 0);
    atomic_store(&done_gen, 0);
    atomic_store(&running, 0);
    atomic_store(&scope_rep_finished, 0);
    scope_metrics_reset();
}

/* Asks the thread for what bits name and waits for it to be done, bounded: a stuck destination
 * must not keep the app from exec'ing or exiting. */
static bool request(int bits, int timeout_ms, uint64_t *gen)
{
    uint64_t g = atomic_fetch_add(&req_gen, 1) + 1;
    if (gen)
        *gen = g;
    atomic_fetch_or(&scope_rep_req, bits);
    scope_ring_kick();
    struct timespec deadline;
    scope_clock_gettime(CLOCK_REALTIME, &deadline);
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
    if (atomic_load(&scope_rep_finished))
        return;
    int saved_guard = scope_guard, saved_errno = errno;
    scope_guard = 1;
    if (final) {
        /* the time the app gives us, less a margin for its own exit */
        scope_rep_exit_wait_ms = (uint64_t)timeout_ms;
        atomic_store(&scope_dest_stop_ms,
                     scope_rep_mono_ms() + (uint64_t)(timeout_ms > 100 ? timeout_ms - 50 : timeout_ms));
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
                scope_rep_final_report();
            else {
                scope_rep_drain();
                scope_rep_write_out();
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
    if (!atomic_load(&running) || atomic_load(&scope_rep_finished) || scope_guard)
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
            atomic_fetch_or(&scope_rep_req, REQ_CALL), scope_ring_kick();
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
