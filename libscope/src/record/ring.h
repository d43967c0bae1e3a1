/* ring.h — the consumer side's sleep and wake-up (producer side is in scope.h). */
#ifndef SCOPE_RING_H
#define SCOPE_RING_H
/* The consumer's longest nap: how late a record can be written when nothing else hurries it. */
#define SCOPE_RING_NAP_MS 100
void scope_ring_wait(int max_ms);
void scope_ring_kick(void);
#endif
