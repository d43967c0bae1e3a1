/* fsmetrics.c — fs.open, fs.close, fs.read, fs.write, fs.seek, fs.stat, fs.duration and fs.error,
 * as AppScope's verbosity shapes them: below a kind's level (fsmetrics.h) its calls are summed per
 * function over the summary period (summary:"true"); from that level each call is its own metric
 * with the file and descriptor. Below verbosity 3 there is no op dimension, so the functions are
 * summed together. fs.duration is the mean of the sampled call durations (scope.h). */
#include <string.h>

#include "config/config.h"
#include "report/emit.h"
#include "report/fsmetrics.h"
#include "record/stats.h"

static struct scope_fntotal last[SCOPE_FN_COUNT];

void scope_fsm_child(void)
{
    uint64_t before[SCOPE_FN_COUNT];
    scope_stats_sum(last);
    scope_stats_take_max(before);   /* the parent's, not this child's */
}

/* AppScope's three classes, which its consumers know: a seek is counted with reads and writes
 * (it moves their position), a name made or removed (unlink, rename, mkdir) with opens and closes
 * (as open with O_CREAT makes one). The op says which function it was. */
const char *scope_err_class(enum scope_cat c)
{
    switch (c) {
    case SCOPE_CAT_read:
    case SCOPE_CAT_write:
    case SCOPE_CAT_seek: return "read_write";
    case SCOPE_CAT_stat: return "stat";
    default: return "open_close";
    }
}

/* numops is a dimension of the byte counts and durations only, as in AppScope. */
static bool has_numops(const char *name)
{
    return !strcmp(name, "fs.read") || !strcmp(name, "fs.write") || !strcmp(name, "fs.duration");
}

static bool is_copy(enum scope_fn fn)
{
    return fn == SCOPE_FN_sendfile || fn == SCOPE_FN_sendfile64 || fn == SCOPE_FN_copy_file_range ||
           fn == SCOPE_FN_splice;
}

static void one(struct sbuf *met, const char *name, const char *unit, long long value,
                const struct scope_rec *r, const char *path, bool with_fd)
{
    struct scope_dim dims[] = {
        {"op", scope_fn_name[r->fn], 0, 3},
        {"file", path, 0, 5},
        {"fd", NULL, r->fd, 7},
        {"numops", NULL, 1, 8},
    };
    int n = with_fd ? 3 : 2;
    if (has_numops(name) && strcmp(name, "fs.duration"))
        n = 4;
    scope_emit_metric(met, name, !strcmp(name, "fs.duration") ? "histogram" : "counter", value, unit,
                      dims, n, r->t_ns);
}

void scope_fsm_call(struct sbuf *met, const struct scope_rec *r, const char *path)
{
    int v = scope_cfg.verbosity;
    if (!scope_cfg.met_fs)
        return;
    switch (r->kind) {
    case SCOPE_REC_OPEN:
        if (v >= SCOPE_V_OPEN)
            one(met, "fs.open", "operation", 1, r, path, true);
        break;
    case SCOPE_REC_CLOSE:
        if (v >= SCOPE_V_OPEN)
            one(met, "fs.close", "operation", 1, r, path, true);
        break;
    case SCOPE_REC_STAT:
        if (v >= SCOPE_V_STAT)
            one(met, "fs.stat", "operation", 1, r, path, r->fd >= 0);
        break;
    case SCOPE_REC_SEEK:
        if (v >= SCOPE_V_SEEK)
            one(met, "fs.seek", "operation", 1, r, path, true);
        break;
    case SCOPE_REC_IO:
        if (v >= SCOPE_V_IO) {
            bool wr = r->aux;
            one(met, wr ? "fs.write" : "fs.read", "byte", (long long)(wr ? r->wbytes : r->rbytes), r,
                path, true);
            if (r->rops)
                one(met, "fs.duration", "microsecond", (long long)(r->rops / 1000), r, path, true);
        }
        break;
    default:
        break;
    }
}

void scope_fsm_error(struct sbuf *met, const struct scope_rec *r, const char *path, const char *cls)
{
    if (!scope_cfg.met_fs || scope_cfg.verbosity < SCOPE_V_ERROR)
        return;
    struct scope_dim dims[] = {
        {"op", scope_fn_name[r->fn], 0, 3}, {"file", path, 0, 5}, {"class", cls, 0, 2},
    };
    scope_emit_metric(met, "fs.error", "counter", 1, "operation", dims, 3, r->t_ns);
}

/* Below verbosity 3 there is no op: one value per metric name, summed over the functions. */
struct sum {
    const char *name, *unit, *type;
    long long value, numops;
};

/* A summary from verbosity 3 on carries numops (the calls of the period) and, for fs.duration, max
 * (the longest timed call, microseconds; max < 0: none), so that a reader can build strace -c's
 * table (calls, bytes, total, average and longest time per function) from the summaries alone. */
static void put(struct sbuf *met, struct sum *sums, int *nsums, const char *name, const char *unit,
                const char *type, long long value, long long numops, long long max, enum scope_fn fn,
                const char *cls, uint64_t now)
{
    if (scope_cfg.verbosity >= 3) {
        struct scope_dim dims[5];
        int n = 0;
        dims[n++] = (struct scope_dim){"op", scope_fn_name[fn], 0, 3};
        if (has_numops(name))
            dims[n++] = (struct scope_dim){"numops", NULL, numops, 3};
        if (max >= 0)
            dims[n++] = (struct scope_dim){"max", NULL, max, 3};
        if (cls)
            dims[n++] = (struct scope_dim){"class", cls, 0, 2};
        dims[n++] = (struct scope_dim){"summary", "true", 0, 1};
        scope_emit_metric(met, name, type, value, unit, dims, n, now);
        return;
    }
    for (int i = 0; i < *nsums; i++)
        if (!strcmp(sums[i].name, name)) {
            sums[i].value += value;
            sums[i].numops += numops;
            return;
        }
    sums[(*nsums)++] = (struct sum){name, unit, type, value, numops};
}

void scope_fsm_summary(struct sbuf *met)
{
    if (!scope_cfg.met_fs)
        return;
    static struct scope_fntotal now_t[SCOPE_FN_COUNT];
    static uint64_t max_ns[SCOPE_FN_COUNT];
    scope_stats_sum(now_t);
    scope_stats_take_max(max_ns);
    int v = scope_cfg.verbosity;
    uint64_t now = scope_now_ns();
    struct sum sums[16];
    int nsums = 0;
    for (int fn = 0; fn < SCOPE_FN_COUNT; fn++) {
        long long ops = (long long)(now_t[fn].ops - last[fn].ops);
        long long bytes = (long long)(now_t[fn].bytes - last[fn].bytes);
        long long errs = (long long)(now_t[fn].errs - last[fn].errs);
        uint64_t dn = now_t[fn].dur_n - last[fn].dur_n, dns = now_t[fn].dur_ns - last[fn].dur_ns;
        if (ops <= 0)
            continue;
        enum scope_cat cat = scope_fn_cat[fn];
        if (cat >= SCOPE_CAT_net)   /* network calls are net.* (netevents.c) */
            continue;
        switch (cat) {
        case SCOPE_CAT_open:
            if (v < SCOPE_V_OPEN)
                put(met, sums, &nsums, "fs.open", "operation", "counter", ops, ops, -1, fn, NULL, now);
            break;
        case SCOPE_CAT_close:
            if (v < SCOPE_V_OPEN)
                put(met, sums, &nsums, "fs.close", "operation", "counter", ops, ops, -1, fn, NULL, now);
            break;
        case SCOPE_CAT_read:
        case SCOPE_CAT_write:
            if (v < SCOPE_V_IO) {
                if (cat == SCOPE_CAT_read || is_copy(fn))
                    put(met, sums, &nsums, "fs.read", "byte", "counter", bytes, ops, -1, fn, NULL, now);
                if (cat == SCOPE_CAT_write)
                    put(met, sums, &nsums, "fs.write", "byte", "counter", bytes, ops, -1, fn, NULL, now);
            }
            break;
        case SCOPE_CAT_seek:
            if (v < SCOPE_V_SEEK)
                put(met, sums, &nsums, "fs.seek", "operation", "counter", ops, ops, -1, fn, NULL, now);
            break;
        case SCOPE_CAT_stat:
            if (v < SCOPE_V_STAT)
                put(met, sums, &nsums, "fs.stat", "operation", "counter", ops, ops, -1, fn, NULL, now);
            break;
        default:
            break;
        }
        if (cat != SCOPE_CAT_proc && dn && v < SCOPE_V_IO && v >= 3)
            put(met, sums, &nsums, "fs.duration", "microsecond", "histogram",
                (long long)(dns / dn / 1000), ops, (long long)(max_ns[fn] / 1000), fn, NULL, now);
        if (errs > 0 && v < SCOPE_V_ERROR)
            put(met, sums, &nsums, "fs.error", "operation", "counter", errs, errs, -1, fn,
                scope_err_class(cat), now);
    }
    for (int i = 0; i < nsums; i++) {
        struct scope_dim dims[] = {{"summary", "true", 0, 1}};
        scope_emit_metric(met, sums[i].name, sums[i].type, sums[i].value, sums[i].unit, dims, 1, now);
    }
    memcpy(last, now_t, sizeof last);
}
