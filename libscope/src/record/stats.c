/* stats.c — the per-thread counters behind the fs.* summary metrics (scope.h says why per
 * thread). A thread claims a slot at its first counted call (one CAS, no allocation, safe in a
 * signal handler) and gives it back when it exits; the counts stay in the slot, since the reporter
 * only ever wants totals. Past SCOPE_TSLOTS live threads, the rest share the last slot: still
 * exact, only slower under contention. */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "record/stats.h"

#define SCOPE_TSLOTS 128

__thread struct scope_tstat *scope_my_stat __attribute__((tls_model("initial-exec")));
static struct scope_tstat *slots;     /* SCOPE_TSLOTS + 1, mmap'd: resident only where used */
static _Atomic int used;              /* high-water mark of slots ever claimed */
static pthread_key_t key;
static bool have_key;
static struct scope_tstat spare;      /* before init, or when the mmap failed */

SCOPE_HOT uint64_t scope_mono_ns(void)
{
    struct timespec ts;
    scope_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void release(void *p)
{
    struct scope_tstat *s = p;
    if (s && s != &slots[SCOPE_TSLOTS])
        atomic_store_explicit(&s->owner, 0, memory_order_release);
}

bool scope_stats_init(void)
{
    void *p = mmap(NULL, (SCOPE_TSLOTS + 1) * sizeof *slots, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    slots = p;
    have_key = pthread_key_create(&key, release) == 0;
    return true;
}

struct scope_tstat *scope_stat_claim(void)
{
    struct scope_tstat *s = NULL;
    if (!slots) {
        s = &spare;
        s->shared = true;
    } else {
        for (int i = 0; i < SCOPE_TSLOTS && !s; i++) {
            int free = 0;
            if (atomic_compare_exchange_strong(&slots[i].owner, &free, 1)) {
                s = &slots[i];
                int u = atomic_load(&used);
                while (u < i + 1 && !atomic_compare_exchange_weak(&used, &u, i + 1))
                    ;
            }
        }
        if (!s) {
            s = &slots[SCOPE_TSLOTS];
            s->shared = true;
            atomic_store(&used, SCOPE_TSLOTS + 1);
        } else if (have_key) {
            pthread_setspecific(key, s);
        }
    }
    scope_my_stat = s;
    return s;
}

void scope_stats_sum(struct scope_fntotal out[SCOPE_FN_COUNT])
{
    memset(out, 0, sizeof(struct scope_fntotal) * SCOPE_FN_COUNT);
    int n = slots ? atomic_load(&used) : 0;
    for (int i = -1; i < n; i++) {
        struct scope_tstat *s = i < 0 ? &spare : &slots[i];
        for (int f = 0; f < SCOPE_FN_COUNT; f++) {
            out[f].ops += atomic_load_explicit(&s->fn[f].ops, memory_order_relaxed);
            out[f].bytes += atomic_load_explicit(&s->fn[f].bytes, memory_order_relaxed);
            out[f].errs += atomic_load_explicit(&s->fn[f].errs, memory_order_relaxed);
            out[f].dur_ns += atomic_load_explicit(&s->fn[f].dur_ns, memory_order_relaxed);
            out[f].dur_n += atomic_load_explicit(&s->fn[f].dur_n, memory_order_relaxed);
        }
    }
}

void scope_stats_take_max(uint64_t out[SCOPE_FN_COUNT])
{
    memset(out, 0, sizeof(uint64_t) * SCOPE_FN_COUNT);
    int n = slots ? atomic_load(&used) : 0;
    for (int i = -1; i < n; i++) {
        struct scope_tstat *s = i < 0 ? &spare : &slots[i];
        for (int f = 0; f < SCOPE_FN_COUNT; f++) {
            if (!atomic_load_explicit(&s->fn[f].dur_max, memory_order_relaxed))
                continue;   /* no write to a page of slots nobody timed a call in */
            uint64_t m = atomic_exchange_explicit(&s->fn[f].dur_max, 0, memory_order_relaxed);
            if (m > out[f])
                out[f] = m;
        }
    }
}

void scope_stats_net(struct scope_nettotal *out)
{
    memset(out, 0, sizeof *out);
    int n = slots ? atomic_load(&used) : 0;
    for (int i = -1; i < n; i++) {
        struct scope_tstat *s = i < 0 ? &spare : &slots[i];
        for (int c = 0; c < SCOPE_NC_COUNT; c++)
            for (int d = 0; d < 2; d++)
                for (int t = 0; t < 2; t++) {
                    out->bytes[c][d][t] += atomic_load_explicit(&s->net[c][d][t].bytes, memory_order_relaxed);
                    out->ops[c][d][t] += atomic_load_explicit(&s->net[c][d][t].ops, memory_order_relaxed);
                }
        for (int e = 0; e < SCOPE_NETERR_COUNT; e++)
            out->errs[e] += atomic_load_explicit(&s->neterr[e], memory_order_relaxed);
    }
}

void scope_stats_child(void)
{
    int n = slots ? atomic_load(&used) : 0;
    for (int i = 0; i < n && i < SCOPE_TSLOTS; i++)
        if (&slots[i] != scope_my_stat)
            atomic_store(&slots[i].owner, 0);
}
