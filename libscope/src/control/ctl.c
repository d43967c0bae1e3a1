/* ctl.c — changing a running libscope: the control socket's update, detach and reattach, and the
 * GOT kept patched while attached.
 *
 * One lock (the control lock) covers every change: the settings swapped, the destinations
 * reopened, the GOT walked. It is taken by the reporting thread for a request, by the thread a
 * dlopen returned on, and by fork (prepare handler) so a child never inherits half a change. Held,
 * it never waits for a loader lock but dl_iterate_phdr's, nor for anything an app thread holds:
 * a thread inside dlopen (holding the loader's lock) may be waiting for it. Whatever needs dlsym
 * (resolving a TLS library's functions, got.c's prepare) runs before or after, without it. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "config/execenv.h"
#include "control/ctl.h"
#include "config/filter.h"
#include "interpose/got.h"
#include "dest/log.h"
#include "report/netevents.h"
#include "report/report.h"
#include "scope.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool fork_held __attribute__((tls_model("initial-exec")));
static _Atomic bool patched;   /* attach mode, not detached: the GOT points at our wrappers */

void scope_ctl_fork_prepare(void)
{
    /* Bounded: a fork from a signal handler that interrupted a change on this very thread must
     * not hang; the child then takes its chances, as it would without us. */
    struct timespec ts;
    scope_clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    fork_held = pthread_mutex_timedlock(&lock, &ts) == 0;
}

void scope_ctl_fork_parent(void)
{
    if (fork_held)
        pthread_mutex_unlock(&lock);
    fork_held = false;
}

void scope_ctl_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    fork_held = false;
}

bool scope_ctl_scoped(void) { return scope_mode() != SCOPE_MODE_NONE && !scope_report_detached(); }

/* A pass over the loaded objects, then the TLS functions some object imports but that were not
 * known looked up (without the lock: dlsym) and a second pass for them. changed: only when
 * objects came or went since the last pass. */
static void patch(bool only_if_changed)
{
    int saved_guard = scope_guard;
    scope_guard = 1;
    for (int round = 0; round < 2; round++) {
        bool unresolved[SCOPE_FN_COUNT] = {0};
        pthread_mutex_lock(&lock);
        if (!atomic_load(&patched) || (only_if_changed && round == 0 && !scope_got_changed())) {
            pthread_mutex_unlock(&lock);
            break;
        }
        int n = scope_got_patch(unresolved);
        int held = scope_got_count();
        pthread_mutex_unlock(&lock);
        if (n < 0)
            scope_log(SCOPE_LOG_WARNING, "GOT patching: %s", scope_got_error());
        else if (n > 0)
            scope_log(SCOPE_LOG_INFO, "GOT patching: %d slots patched, %d in all", n, held);
        bool again = false;
        for (int fn = 0; fn < SCOPE_FN_COUNT; fn++)
            if (unresolved[fn] && scope_fn_cat[fn] == SCOPE_CAT_tls && scope_tls_resolve((enum scope_fn)fn))
                again = true;
        if (!again)
            break;
    }
    scope_guard = saved_guard;
}

void scope_ctl_attached(void)
{
    atomic_store(&patched, true);
    patch(false);
    scope_tls_entry_hooks();   /* node's own OpenSSL, hooked at its entry (wrap_tls.c) */
}

void scope_ctl_loaded(void)
{
    if (atomic_load(&patched))
        patch(true);
}

void scope_ctl_turn(void)
{
    /* a look at the loader's counters, at most every 50 ms however busy the thread is */
    static uint64_t next;
    if (!atomic_load(&patched) || scope_mono_ns() < next)
        return;
    next = scope_mono_ns() + 50000000ULL;
    patch(true);
}

/* The settings in force changed: everything that depends on them follows. Lock held. */
static void follow_settings(void)
{
    scope_filter_reload();
    scope_net_config();
    if (scope_report_detached())
        return;
    scope_log_reopen(scope_cfg.log_dest, scope_cfg.log_level);
    scope_exec_prepare(scope_mode() == SCOPE_MODE_ATTACH);
    scope_report_reconfigure(scope_event_url(), scope_metric_url());
    scope_hot_apply(true);
}

int scope_ctl_update(const struct scope_kv *kv, size_t n)
{
    pthread_mutex_lock(&lock);
    scope_config_set(kv, n, true);
    follow_settings();
    scope_log(SCOPE_LOG_INFO, "config updated (%zu settings) through the control socket", n);
    pthread_mutex_unlock(&lock);
    return 0;
}

/* Stops recording, writes what is pending and a last summary, closes the destinations; attached,
 * every patched slot gets back what it held. The library stays loaded and the control socket
 * open. Lock held. */
static void detach(void)
{
    atomic_store(&scope_hot.active, 0);
    if (atomic_exchange(&patched, false)) {
        int n = scope_got_restore();
        if (n < 0)
            scope_log(SCOPE_LOG_WARNING, "GOT restore: %s", scope_got_error());
        else
            scope_log(SCOPE_LOG_INFO, "GOT restored: %d slots", n);
        scope_tls_entry_unhook();
    }
    scope_exec_off();
    scope_report_detach();
}

int scope_ctl_detach(void)
{
    pthread_mutex_lock(&lock);
    if (!scope_report_detached()) {
        detach();
        scope_log(SCOPE_LOG_INFO, "detached through the control socket");
        scope_log_close();
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

int scope_ctl_reattach(const struct scope_kv *kv, size_t n, bool replace)
{
    bool attach = scope_mode() == SCOPE_MODE_ATTACH;
    if (attach && !atomic_load(&patched))   /* no pass can run meanwhile: nothing is patched */
        scope_got_prepare();
    pthread_mutex_lock(&lock);
    if (!scope_report_detached())
        detach();
    if (replace)
        scope_config_set(kv, n, false);
    scope_log_reopen(scope_cfg.log_dest, scope_cfg.log_level);
    scope_filter_reload();
    scope_net_config();
    scope_exec_prepare(attach);
    /* what the app did while detached is unknown: descriptors are known again from their next
     * open, as after an attach */
    scope_fdtab_reset();
    scope_report_resume(scope_event_url(), scope_metric_url());
    scope_hot_apply(true);
    if (attach)
        atomic_store(&patched, true);
    scope_log(SCOPE_LOG_INFO, "reattached through the control socket");
    pthread_mutex_unlock(&lock);
    if (attach) {
        patch(false);
        scope_tls_entry_hooks();
    }
    return 0;
}
