/* statsd.h — the statsd metric watch: StatsD datagrams the app sends to a collector on this host,
 * relayed as our own metrics (reporting thread only). */
#ifndef SCOPE_STATSD_H
#define SCOPE_STATSD_H
#include <stdbool.h>
#include <stddef.h>

#include "util/json.h"
#include "scope.h"

/* Whether a datagram to ip:port goes to a StatsD collector here (port 8125 on loopback). */
bool scope_statsd_dest(const char *ip, int port);
/* One DATA piece of a datagram the app sent; to_statsd: where its first piece went. Whole
 * datagrams are parsed and each line emitted into met. */
void scope_statsd_piece(const struct scope_rec *r, const unsigned char *p, size_t n, bool to_statsd,
                        struct sbuf *met);
/* Each summary period: logs how many lines were skipped since, if any. */
void scope_statsd_summary(void);
/* A forked child: nothing pending, nothing counted. */
void scope_statsd_reset(void);
#endif
