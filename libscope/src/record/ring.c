/* ring.c — the queue between the app's threads and the reporting thread: a bounded lock-free
 * multi-producer single-consumer ring of fixed-size records (per-slot sequence numbers, after
 * Vyukov's bounded queue). Producers claim a slot with one CAS, fill it in place and publish it;
 * a full ring drops the record and counts it. Everything a producer does is async-signal-safe:
 * atomics, and sem_post only when the consumer said it is going to sleep.
 * The consumer is not woken for every record: it sleeps at most SCOPE_RING_NAP_MS and drains
 * what came meanwhile, and a producer wakes it early once 512 records wait (a sixteenth of the
 * default ring); it does not go back to work for fewer either (scope_ring_wait). A wake-up
 * per record cost a server a context switch per request (measured: nginx lost half its
 * throughput with one CPU for it and its reporting thread); waking at a quarter of the ring made
 * each event-emitting call dearer on the app's thread (bench/: ~250 ns against ~200 ns at 512),
 * the slots being colder by the time they were written.
 * The sequence array is small and touched at init; the slots are mmap'd and become resident
 * only as the ring is used. */
#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "record/ring.h"
#include "scope.h"

_Atomic uint64_t scope_drops;

static _Atomic uint64_t *seq;
static struct scope_rec *slots;
static size_t cap, mask;
static _Atomic uint64_t tail;   /* next ticket for producers */
static uint64_t head;           /* consumer's next ticket */
static _Atomic uint64_t head_seen;   /* head, for producers to tell how much is waiting */
static uint64_t wake_at;             /* records waiting that wake the consumer early */
static _Atomic int sleeping;
static sem_t wake;

bool scope_ring_init(size_t want)
{
    cap = 16;
    while (cap < want && cap < ((size_t)1 << 20))
        cap <<= 1;
    mask = cap - 1;
    wake_at = cap / 4 < 512 ? cap / 4 : 512;
    void *s = mmap(NULL, cap * sizeof *seq, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *d = mmap(NULL, cap * sizeof *slots, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s == MAP_FAILED || d == MAP_FAILED)
        return false;
    seq = s;
    slots = d;
    sem_init(&wake, 0, 0);
    scope_ring_reset();
    return true;
}

size_t scope_ring_capacity(void) { return cap; }

void scope_ring_reset(void)
{
    for (size_t i = 0; i < cap; i++)
        atomic_store_explicit(&seq[i], i, memory_order_relaxed);
    atomic_store(&tail, 0);
    head = 0;
    atomic_store(&head_seen, 0);
    /* The parent's pending records are not ours to report; give the pages back too. */
    madvise(slots, cap * sizeof *slots, MADV_DONTNEED);
    atomic_store(&sleeping, 0);
    sem_destroy(&wake);
    sem_init(&wake, 0, 0);
    atomic_store(&scope_drops, 0);
}

SCOPE_HOT struct scope_rec *scope_ring_claim(uint64_t *ticket)
{
    if (!slots)
        return NULL;
    uint64_t pos = atomic_load_explicit(&tail, memory_order_relaxed);
    for (;;) {
        uint64_t s = atomic_load_explicit(&seq[pos & mask], memory_order_acquire);
        int64_t diff = (int64_t)(s - pos);
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&tail, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (diff < 0) {
            atomic_fetch_add_explicit(&scope_drops, 1, memory_order_relaxed);
            return NULL;
        } else {
            pos = atomic_load_explicit(&tail, memory_order_relaxed);
        }
    }
    *ticket = pos;
    return &slots[pos & mask];
}

SCOPE_HOT void scope_ring_publish(uint64_t ticket)
{
    atomic_store_explicit(&seq[ticket & mask], ticket + 1, memory_order_release);
    /* No fence: a wake-up missed here only means the consumer's nap runs to its end. */
    if (atomic_load_explicit(&sleeping, memory_order_relaxed) &&
        ticket - atomic_load_explicit(&head_seen, memory_order_relaxed) >= wake_at &&
        atomic_exchange(&sleeping, 0))
        sem_post(&wake);
}

struct scope_rec *scope_ring_peek(void)
{
    uint64_t s = atomic_load_explicit(&seq[head & mask], memory_order_acquire);
    return s == head + 1 ? &slots[head & mask] : NULL;
}

void scope_ring_release(void)
{
    atomic_store_explicit(&seq[head & mask], head + cap, memory_order_release);
    head++;
    atomic_store_explicit(&head_seen, head, memory_order_relaxed);
}

uint64_t scope_ring_head_ticket(void) { return head; }

uint64_t scope_ring_tail_ticket(void) { return atomic_load_explicit(&tail, memory_order_acquire); }

void scope_ring_kick(void)
{
    atomic_store(&sleeping, 0);
    sem_post(&wake);
}

/* Sleeps until wake_at records wait, or max_ms. Records fewer than that wait for the nap's end
 * like any that come during it: a consumer that went back to work for every few records (two
 * threads on two CPUs, the app always a little ahead) spent its time in the write and the control
 * socket's system calls of each turn, not in the records, and fell behind (drops at 200 000
 * events/s with a CPU to itself, where sharing one it kept up). */
void scope_ring_wait(int max_ms)
{
    atomic_store(&sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&tail, memory_order_relaxed) - head >= wake_at) {
        atomic_store(&sleeping, 0);
        return;
    }
    struct timespec ts;
    scope_clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(max_ms % 1000) * 1000000L;
    ts.tv_sec += max_ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    while (sem_timedwait(&wake, &ts) != 0 && errno == EINTR)
        ;
    atomic_store(&sleeping, 0);
}
