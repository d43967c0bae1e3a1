/* stats.h — reading the per-thread function counters (reporting thread, and fork). */
#ifndef SCOPE_STATS_H
#define SCOPE_STATS_H
#include "scope.h"

struct scope_fntotal {
    uint64_t ops, bytes, errs, dur_ns, dur_n;
};
bool scope_stats_init(void);
/* Sums over every slot ever used, per function. */
void scope_stats_sum(struct scope_fntotal out[SCOPE_FN_COUNT]);
/* The longest timed call of each function since the last take, over every slot, in ns; each
 * slot's maximum starts again from 0. The reporter's alone (one taker). */
void scope_stats_take_max(uint64_t out[SCOPE_FN_COUNT]);
struct scope_nettotal {
    uint64_t bytes[SCOPE_NC_COUNT][2][2], ops[SCOPE_NC_COUNT][2][2];   /* [class][clear, ssl][rx, tx] */
    uint64_t errs[SCOPE_NETERR_COUNT];
};
void scope_stats_net(struct scope_nettotal *out);
/* In a forked child: slots of threads that did not survive the fork are free again. */
void scope_stats_child(void);
#endif
