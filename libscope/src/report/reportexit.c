/* reportexit.c — the exit's flush: records formatted while the app's exit allows (a reserve kept
 * for writing them and the last metrics), the rest dropped, counted and said; network
 * destinations given a last bounded chance to send what they buffered; what an exec leaves
 * unsent said in the log. */
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

/* The exit flush formats records until then (mono ms; 0: no bound), keeping the rest of the exit's
 * time for writing them out and the last metrics. */
uint64_t scope_rep_drain_until;
uint64_t scope_rep_exit_wait_ms;   /* the final request's bound */

/* At exit, network destinations get what is buffered out while that makes progress, within the
 * exit's bound (the app waits 1 s for this thread): a receiver that stopped reading, or a connect
 * pending since long before, is not waited for (dest: scope_dest_pump). */
#define FINAL_NET_MS 700
void scope_rep_settle_net(void)
{
    scope_dest_last_chance(&scope_rep_ev_dest);
    scope_dest_last_chance(&scope_rep_met_dest);
    scope_log_last_chance();
    uint64_t end = scope_rep_mono_ms() + FINAL_NET_MS;
    uint64_t stop = atomic_load(&scope_dest_stop_ms);
    if (stop && stop < end)
        end = stop;
    for (;;) {
        if (scope_dest_tick(&scope_rep_ev_dest))
            scope_rep_came_up();
        scope_dest_tick(&scope_rep_met_dest);
        bool more = scope_dest_pump(&scope_rep_ev_dest, true);
        more |= scope_dest_pump(&scope_rep_met_dest, true);
        more |= scope_log_pump(true);
        if (!more || scope_rep_mono_ms() >= end)
            break;
        struct timespec nap = {0, 5 * 1000000L};
        nanosleep(&nap, NULL);
    }
}

/* What could not go out before an exec dies with this image (a failed exec keeps it): said, since
 * it cannot be counted afterwards. */
void scope_rep_unsent_at_exec(const struct scope_dest *d)
{
    /* once per amount: execvp tries each PATH directory, each attempt an exec */
    static uint64_t told[2];
    uint64_t *t = &told[d == &scope_rep_met_dest];
    if (d->buffered && d->buffered != *t)
        scope_log(SCOPE_LOG_WARNING, "%s destination %s: %llu bytes not sent before exec (lost unless "
                  "the exec fails)", d->what, d->url, (unsigned long long)d->buffered);
    *t = d->buffered;
}

static void final_send(void)
{
    scope_rep_settle_net();
    scope_dest_final(&scope_rep_ev_dest);
    scope_dest_final(&scope_rep_met_dest);
    scope_log_final();
}

void scope_rep_final_report(void)
{
    if (atomic_load(&scope_rep_detached)) {
        scope_rep_discard();
        atomic_store(&scope_rep_finished, 1);
        atomic_store(&scope_hot.active, 0);
        return;
    }
    /* What the exit's time allows: records are formatted until a reserve is left for writing
     * them and the last metrics (network destinations get theirs in settle_net); the records left
     * then are dropped, counted and said, in the log and a notice. */
    uint64_t stop = atomic_load(&scope_dest_stop_ms);
    if (stop) {
        uint64_t reserve = scope_dest_is_net(&scope_rep_ev_dest) || scope_dest_is_net(&scope_rep_met_dest)
                               ? FINAL_NET_MS / 2 + 100 : 150;
        uint64_t now = scope_rep_mono_ms();
        scope_rep_drain_until = stop > now + reserve ? stop - reserve : now;
    }
    scope_rep_drain();
    scope_rep_drain_until = 0;
    uint64_t left = scope_rep_discard();
    scope_rep_drain_text(true);
    scope_rep_metrics(false);
    scope_rep_drops(true);
    if (left) {
        char msg[256];
        snprintf(msg, sizeof msg, "libscope dropped %llu records at exit: the app's exit waits for "
                 "libscope %llu ms at most, too little to write them", (unsigned long long)left,
                 (unsigned long long)scope_rep_exit_wait_ms);
        if (scope_dest_on(&scope_rep_ev_dest) && scope_emit_notice(&scope_rep_ev_out, msg))
            scope_rep_ev_lines++;
        scope_log(SCOPE_LOG_WARNING, "%s", msg);
    }
    scope_rep_write_out();
    final_send();
    atomic_store(&scope_rep_finished, 1);
    atomic_store(&scope_hot.active, 0);
}
