/* destnet.c — network destinations (unix://, tcp://, udp://, tls://): what they are from the URL
 * and the settings, and their bounded buffer of whole lines; the reporting thread sends it as far
 * as the socket takes it each turn (destsend.c).
 *
 * Only the reporting thread touches the network (scope_dest_keeps_fds): its sockets live in its own
 * descriptor table, out of the app's reach. Any other thread (an app thread logging, the inline
 * flush of a forked child that has no reporting thread yet) only appends to the buffer. Every
 * destination is already serialised by a lock its writers hold (the consume lock for events and
 * metrics, the log lock for the log), which the reporting thread holds only for non-blocking steps,
 * so an app thread never waits on the network.
 *
 * The buffer holds whole lines; when it is full, new lines are dropped whole and counted. out bytes
 * of its first line may already be on the current connection: the next write continues from the
 * exact byte; a new connection starts again at the line's beginning (the old one got a torn line,
 * the new one never does). A receiver's orderly close is looked for each turn before writing, so
 * what we had not yet written goes to the next connection. Lines count as delivered once the
 * kernel took them: what a receiver that crashes had not yet read is lost uncounted. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "dest/dest.h"
#include "dest/destnet.h"
#include "dest/log.h"

#define FINAL_STALL_MS 200    /* at exit, a receiver that took nothing for this long is not waited for */
#define FINAL_CONNECT_MS 300  /* … nor a connection that has been pending for longer than this */

static long setting(const char *key, long dflt, long min, long max)
{
    const char *v = scope_cfg_get(key);
    char *end;
    long n = v && *v ? strtol(v, &end, 10) : dflt;
    if (!v || !*v || *end)
        n = dflt;
    return n < min ? min : n > max ? max : n;
}

static const char *prefix(const struct scope_dest *d)
{
    return !strcmp(d->what, "event") ? "SCOPE_EVENT" : !strcmp(d->what, "metric") ? "SCOPE_METRIC"
                                                                                   : "SCOPE_LOG";
}

bool scope_dnet_open(struct scope_dest *d, const char *url)
{
    static const struct { const char *scheme; int kind; } schemes[] = {
        {"unix://", SCOPE_DEST_UNIX}, {"tcp://", SCOPE_DEST_TCP}, {"udp://", SCOPE_DEST_UDP},
        {"tls://", SCOPE_DEST_TLS}};
    int kind = -1;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (!strncmp(url, schemes[i].scheme, strlen(schemes[i].scheme)))
            kind = schemes[i].kind;
    if (kind < 0) {
        snprintf(d->last_failure, sizeof d->last_failure,
                 "unsupported destination: the schemes are file, unix, tcp, udp and tls");
        return false;
    }
    char key[64];
    snprintf(key, sizeof key, "%s_TLS_ENABLE", prefix(d));
    if (kind == SCOPE_DEST_TCP && scope_cfg_bool(key))
        kind = SCOPE_DEST_TLS;   /* AppScope's tcp:// with TLS on */
    struct scope_net *n = calloc(1, sizeof *n);
    char why[200];
    if (!n || !scope_conn_parse(n, url, kind, why, sizeof why)) {
        snprintf(d->last_failure, sizeof d->last_failure, "bad destination: %s",
                 n ? why : "out of memory");
        free(n);
        return false;
    }
    n->fd = -1;
    n->socktype = kind == SCOPE_DEST_UDP ? SOCK_DGRAM : SOCK_STREAM;
    n->tls = kind == SCOPE_DEST_TLS;
    snprintf(key, sizeof key, "%s_TLS_VALIDATE_SERVER", prefix(d));
    n->verify = !scope_cfg_get(key) || !*scope_cfg_get(key) || scope_cfg_bool(key);
    snprintf(key, sizeof key, "%s_TLS_CA_CERT_PATH", prefix(d));
    const char *ca = scope_cfg_get(key);
    snprintf(n->ca, sizeof n->ca, "%s", ca ? ca : "");
    n->timeout_ms = (uint64_t)setting("SCOPE_CONNECT_TIMEOUT_SECS", 10, 1, 3600) * 1000;
    n->max = (size_t)setting("SCOPE_DEST_BUFFER", SCOPE_NET_BUFFER_DEFAULT, 1024, 1L << 30);
    d->kind = kind;
    d->net = n;
    return true;
}

static bool reserve(struct scope_net *n, size_t want)
{
    if (want <= n->cap)
        return true;
    size_t cap = n->cap ? n->cap : 65536;
    while (cap < want)
        cap *= 2;
    if (cap > n->max)
        cap = n->max;
    char *b = realloc(n->buf, cap);
    if (!b)
        return false;
    n->buf = b;
    n->cap = cap;
    return true;
}

bool scope_dnet_tick(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    if (!scope_dest_keeps_fds)
        return false;
    scope_conn_step(d);
    if (!n->fresh)
        return false;
    n->fresh = false;
    return true;
}

bool scope_dnet_write(struct scope_dest *d, const char *buf, size_t len, size_t lines, bool first)
{
    struct scope_net *n = d->net;
    if (first && n->out == 0 && len <= n->max)   /* it opens a connection: room made for it */
        while (n->len && n->max - n->len < len) {
            const char *nl = memchr(n->buf, '\n', n->len);
            size_t k = nl ? (size_t)(nl - n->buf) + 1 : n->len;
            memmove(n->buf, n->buf + k, n->len - k);
            n->len -= k;
            d->dropped++;
        }
    size_t take = scope_lines_fit(buf, len, n->max - n->len);
    if (take && !reserve(n, n->len + take))
        take = 0;
    size_t kept = take ? scope_lines_count(buf, take) : 0;
    if (take && first && n->out == 0) {
        memmove(n->buf + take, n->buf, n->len);
        memcpy(n->buf, buf, take);
    } else if (take) {
        memcpy(n->buf + n->len, buf, take);
    }
    n->len += take;
    d->buffered = n->len;
    if (kept < lines) {
        d->dropped += lines - kept;
        if (!d->told) {
            d->told = true;
            scope_log(SCOPE_LOG_WARNING, "%s destination %s: its buffer of %zu bytes is full "
                      "(SCOPE_DEST_BUFFER): lines dropped", d->what, d->url, n->max);
        }
    }
    if (scope_dest_keeps_fds)
        scope_dnet_flush(d);
    return kept == lines;
}

bool scope_dnet_pump(struct scope_dest *d, bool final)
{
    struct scope_net *n = d->net;
    if (!scope_dest_keeps_fds)
        return false;
    scope_dnet_flush(d);
    if (!final || !n->len)
        return false;
    uint64_t now = scope_dest_mono_ms();
    if (n->phase == NP_UP)
        return n->fresh || now - n->progress_ms < FINAL_STALL_MS;
    /* An attempt begun at the end (the last chance for a destination that was down) is taken if
     * it completes at once, never waited for: a dead or slow receiver must not add its wait to
     * every exec and exit of every process (a shell script's). One in flight before the end gets
     * each of its phases (lookup, connect, handshake) waited for while young. */
    return n->phase != NP_DOWN && !n->begun_at_end && now - n->phase_ms < FINAL_CONNECT_MS;
}

void scope_dnet_final(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    d->dropped += scope_lines_count(n->buf, n->len);   /* a line begun on the wire is torn: dropped too */
    n->len = n->out = 0;
    d->buffered = 0;
}

void scope_dnet_close(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    if (scope_dest_keeps_fds) {
        scope_dnet_flush(d);   /* once, without waiting */
        scope_conn_drop(n);
    }
    d->dropped += scope_lines_count(n->buf, n->len);
    free(n->buf);
    free(n);
    d->net = NULL;
    d->buffered = 0;
}

void scope_dnet_child(struct scope_dest *d)
{
    struct scope_net *n = d->net;
    /* The socket is in the parent's reporting thread's table, not ours; libssl's objects and a
     * lookup in flight are the parent's: forgotten, not freed. */
    n->fd = -1;
    n->ssl = n->ctx = NULL;
    n->res = NULL;
    n->phase = NP_DOWN;
    n->fresh = false;
    n->len = n->out = n->tls_retry = 0;
    d->buffered = 0;
    d->down = d->connecting = false;
    d->backoff_ms = 0;
    d->retry_ms = 0;
    d->connected_since = 0;
    d->lines = d->dropped = 0;
    d->attempts = d->failures = 0;
}
