/* ring.h — the consumer side's sleep and wake-up (producer side is in scope.h). */
#ifndef SCOPE_RING_H
#define SCOPE_RING_H
void scope_ring_wait(int max_ms);
void scope_ring_kick(void);
#endif
