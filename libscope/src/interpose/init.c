/* init.c — bringing libscope up and down: the constructor (or whichever wrapper runs first)
 * initialises once, when the library was preloaded; loaded by dlopen it stays dormant until
 * scope_attach (attach.c) starts it the same way; a forked child resets and restarts reporting
 * under its own pid; the destructor and the _exit wrapper flush within a bounded time. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "config/execenv.h"
#include "crash/crash.h"
#include "report/elfkind.h"
#include "control/ctl.h"
#include "report/emit.h"
#include "config/filter.h"
#include "control/handover.h"
#include "report/ident.h"
#include "dest/log.h"
#include "report/fsmetrics.h"
#include "report/netevents.h"
#include "report/report.h"
#include "record/stats.h"
#include "config/watch.h"
#include "scope.h"

/* Page-aligned: the first of the hot globals (SCOPE_HOT_DATA, libc.h) in link order (init.c comes
 * before libc/real.c, record/fdtab.c and record/record.c), so all of them fall in this one page. */
SCOPE_HOT_DATA __attribute__((aligned(4096))) _Atomic int scope_ready;   /* 0 not yet, 1 running, 2 forked child to restart, 3 restarting */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool reporting;     /* the reporting thread was started */
static bool met_on;        /* a metric destination is on */
static _Atomic int mode;   /* enum scope_mode */

int scope_mode(void) { return atomic_load(&mode); }

/* Channel ids start at pid * 1e8 so lifetimes from different processes writing to the same
 * files stay distinct. */
static void chan_base(void)
{
    atomic_store(&scope_hot.next_chan, (uint64_t)scope_pid() * 100000000ULL + 1);
}

static void set_flags(void);

/* Before a fork: the files handed to an attached process's reporting thread get copies its child
 * can reach (handover.c), then the control lock is held over the fork (ctl.c). */
static void fork_prepare(void)
{
    scope_pin_pull();
    scope_ctl_fork_prepare();
}

static void fork_parent(void)
{
    scope_ctl_fork_parent();
}

static void atfork_child(void)
{
    scope_ident_fork_child();
    scope_ctl_fork_child();
    scope_pid_set(getpid());
    scope_crash_init();
    scope_filter_child();
    if (!reporting)
        return;
    if (scope_filter_on) {   /* a child may match where its parent did not, or the reverse */
        scope_watch_mute(!scope_filter_events());
        set_flags();
    }
    scope_ring_reset();
    scope_stats_child();
    scope_fsm_child();
    scope_net_child();
    scope_log_reinit();
    scope_report_child_reset();
    chan_base();
    scope_fs_inherit();
    scope_std_start();
    atomic_store(&scope_ready, 2);
}

/* What the wrappers record, from the config and the watch types in force. No allocation: it runs
 * again in a forked child. */
static void set_flags(void)
{
    struct scope_hot *h = &scope_hot;
    int v = scope_cfg.verbosity;
    bool met = met_on;
    h->ev_fs = scope_watch_on(SCOPE_W_FS);
    h->ev_console = scope_watch_on(SCOPE_W_CONSOLE);
    h->ev_file = scope_watch_on(SCOPE_W_FILE);
    bool mfs = met && scope_cfg.met_fs;
    h->met_fs = mfs;
    /* failures: fs.error and net.error events, or their per-call metrics (net: netevents.c) */
    h->ev_error = h->ev_fs || scope_watch_on(SCOPE_W_NET) || (mfs && v >= SCOPE_V_ERROR) ||
                  (met && scope_cfg.met_net && v >= SCOPE_V_ERROR);
    h->rec_open = h->ev_fs || h->ev_file || (mfs && v >= SCOPE_V_OPEN);
    h->rec_stat = mfs && v >= SCOPE_V_STAT;
    h->rec_seek = mfs && v >= SCOPE_V_SEEK;
    h->rec_io = mfs && v >= SCOPE_V_IO;
    bool ev_net = scope_watch_on(SCOPE_W_NET), ev_http = scope_watch_on(SCOPE_W_HTTP);
    bool ev_dns = scope_watch_on(SCOPE_W_DNS);
    bool mnet = met && scope_cfg.met_net, mhttp = met && scope_cfg.met_http;
    bool mdns = met && scope_cfg.met_dns;
    h->payload = scope_cfg.payload && scope_cfg.payload_dir;
    h->met_net = mnet;
    h->rec_dns = ev_dns || mdns;
    h->ndns_port = 0;
    const char *ports = scope_cfg_get("SCOPE_DNS_PORTS");
    for (const char *p = ports ? ports : "53"; *p && h->ndns_port < 8;) {
        char *end;
        long port = strtol(p, &end, 10);
        if (end == p)
            break;
        if (port > 0 && port < 65536)
            h->dns_port[h->ndns_port++] = (uint16_t)port;
        p = *end == ',' ? end + 1 : end;
    }
    h->statsd = met && scope_cfg.met_statsd;
    h->copy = ev_http || mhttp || h->payload;
    h->rec_net = ev_net || h->copy || h->rec_dns || mnet || h->statsd;
    const char *name = scope_cfg_get("SCOPE_EVENT_LOGFILE_NAME");
    h->log_default = !name || !strcmp(name, SCOPE_LOGFILE_PATTERN);
}

/* Decided from the config (at start and after each change); a process no filter scope can take
 * an event of makes none. */
static void set_hot(bool ev, bool met)
{
    met_on = met;
    scope_watch_load(ev);
    scope_watch_mute(!scope_filter_events());
    set_flags();
}

const char *scope_event_url(void) { return scope_cfg.event_enable ? scope_cfg.event_dest : NULL; }
const char *scope_metric_url(void) { return scope_cfg.metric_enable ? scope_cfg.metric_dest : NULL; }

void scope_hot_apply(bool recording)
{
    const char *ev = scope_event_url(), *met = scope_metric_url();
    set_hot(ev != NULL, met != NULL);
    atomic_store(&scope_hot.active, recording && (ev || met));
}

/* The settings are in scope_cfg. The reporting thread runs whatever they say, even with every
 * destination off: it serves the control socket, through which they can be turned on. */
int scope_start(int how)
{
    scope_log_open(scope_cfg.log_dest, scope_cfg.log_level);
    scope_log_missing();
    scope_pid_set(getpid());
    scope_ident_start();     /* argv before main can rewrite it */
    scope_metrics_reset();   /* proc.cpu counts from here */
    bool proxy = how == SCOPE_MODE_PROXY;   /* reporting for a program followed from outside */
    if (!proxy)
        scope_crash_init();
    scope_filter_load();
    if (!proxy)
        scope_exec_prepare(how == SCOPE_MODE_ATTACH);

    const char *ev = scope_event_url(), *met = scope_metric_url();
    if (!ev)
        scope_log(SCOPE_LOG_INFO, "events off (SCOPE_EVENT_DEST unset or SCOPE_EVENT_ENABLE=false)");
    if (!met)
        scope_log(SCOPE_LOG_INFO, "metrics off (SCOPE_METRIC_DEST unset or SCOPE_METRIC_ENABLE=false)");
    if (!scope_fdtab_init() || !scope_ring_init(scope_cfg.queue_len) || !scope_stats_init()) {
        scope_log(SCOPE_LOG_ERROR, "cannot map the queue and the counters: not scoping");
        return -ENOMEM;
    }
    scope_report_open(ev, met);
    set_hot(ev != NULL, met != NULL);
    chan_base();
    if (!proxy)
        scope_std_start();
    atomic_store(&mode, how);
    /* Once: a reattach starts nothing anew, and the handlers stay registered for good. */
    static bool registered;
    if (!proxy && !registered && pthread_atfork(fork_prepare, fork_parent, atfork_child) == 0)
        registered = true;
    atomic_store(&scope_hot.active, ev || met);
    if (!proxy)
        scope_self_notice();   /* a Go program: say its calls are not seen (elfkind.c) */
    if (!scope_report_start()) {
        atomic_store(&scope_hot.active, 0);
        return -EAGAIN;
    }
    reporting = true;
    scope_log(SCOPE_LOG_INFO, "libscope %s %s; queue of %zu records", SCOPE_VERSION,
              how == SCOPE_MODE_ATTACH ? "attached" : proxy ? "reporting for a program followed from outside" : "loaded",
              scope_ring_capacity());
    return 0;
}

static void init_once(void)
{
    int saved_guard = scope_guard, saved_errno = errno;
    scope_guard = 1;
    /* The real functions before any code of ours runs (it calls libc through them, libc/libc.h),
     * however we came: preloaded or loaded by an attach's dlopen. */
    scope_resolve(SCOPE_FN_open);
    scope_sanitized_start();   /* the sanitized build only (sanitized.c) */
    /* Loaded by dlopen (an attach on its way): nothing until scope_attach, not even a thread. */
    /* A Go program followed by scope-supervise (SCOPE_SUPERVISED, its tree's environment) is
     * reported from outside: its libscope, preloaded for the tree's other programs, stays out. */
    if (scope_preloaded() && !(getenv("SCOPE_SUPERVISED") && scope_exe_kind("/proc/self/exe") == SCOPE_EXE_GO)) {
        scope_pin_take_handed();
        scope_ident_take_carried();
        scope_config_load();
        if (scope_start(SCOPE_MODE_PRELOAD) == 0) {
            scope_tls_entry_hooks();   /* node's own OpenSSL (wrap_tls.c) */
            scope_jvm_prepare();       /* the java launcher: the JVM takes libscope as its agent (jvm.c) */
        }
    }
    atomic_store(&scope_ready, 1);
    scope_guard = saved_guard;
    errno = saved_errno;
}

void scope_init_slow(void)
{
    int state = atomic_load(&scope_ready);
    if (state == 0) {
        pthread_once(&once, init_once);
    } else if (state == 2 && atomic_compare_exchange_strong(&scope_ready, &state, 3)) {
        int saved_guard = scope_guard, saved_errno = errno;
        scope_guard = 1;
        scope_report_start();
        atomic_store(&scope_ready, 1);
        scope_guard = saved_guard;
        errno = saved_errno;
    }
}

void scope_flush(bool final, int timeout_ms)
{
    if (reporting && getpid() == scope_pid())
        scope_report_flush(final, timeout_ms);
}

__attribute__((constructor)) static void scope_ctor(void) { scope_ensure_init(); }

/* exit() and return from main arrive here (after the app's atexit handlers). */
__attribute__((destructor)) static void scope_dtor(void) { scope_flush(true, 1000); }
