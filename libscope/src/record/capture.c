/* capture.c — text the app writes: to fd 1 and 2 it becomes stdout / stderr events when they are
 * the console (a terminal, pipe, socket or device), to a log file it becomes file events (also a
 * log file on fd 1 or 2). Copied into records on the app's thread (split where it does not
 * fit one record, never inside a UTF-8 character); the reporting thread decides what is binary and
 * joins what stdio wrote piecemeal. */
#include <string.h>

#include "util/json.h"
#include "scope.h"

void scope_text(int fd, const void *buf, size_t n, int textflags)
{
    if (!buf || n == 0 || !scope_wants_text(fd))
        return;
    struct scope_fdc *c = scope_fdc(fd);
    uint64_t chan = c ? atomic_load_explicit(&c->chan, memory_order_relaxed) : 0;
    uint32_t f = c ? atomic_load_explicit(&c->flags, memory_order_relaxed) : 0;
    bool console = (fd == 1 || fd == 2) && scope_std_console(f, chan);
    enum scope_rec_kind kind = console ? SCOPE_REC_CONSOLE : SCOPE_REC_TEXT;
    int saved_errno = errno;
    const unsigned char *p = buf;
    uint64_t now = scope_stamp();
    while (n > 0) {
        size_t take = n > SCOPE_REC_DATA ? scope_utf8_cut(p, SCOPE_REC_DATA) : n;
        if (take == 0)
            take = SCOPE_REC_DATA;
        uint64_t ticket;
        struct scope_rec *r = scope_ring_claim(&ticket);
        if (!r)
            break;   /* full: the rest would be dropped too; counted once per write is enough */
        r->kind = (uint16_t)kind;
        r->fn = SCOPE_FN_write;
        r->fd = fd;
        r->chan = console ? 0 : chan;
        r->t_ns = now;
        r->aux = textflags;
        r->len = (uint32_t)take;
        memcpy(r->data, p, take);
        scope_ring_publish(ticket);
        p += take;
        n -= take;
        textflags |= SCOPE_TEXT_MORE;
    }
    errno = saved_errno;
}

/* AppScope's default log-file pattern, (\/logs?\/)|(\.log$)|(\.log[.\d]), by hand: regexec may
 * allocate, and this runs inside open(). A relative path is read as if a '/' preceded it. Only a
 * '.' or an 'l' starting a component can begin a match, so other bytes cost one comparison each
 * (a string compare at every byte was half of an event-making open's cost on the app's thread). */
bool scope_log_path(const char *path)
{
    for (const char *p = path; *p; p++) {
        if (*p == '.') {
            if (p[1] == 'l' && p[2] == 'o' && p[3] == 'g') {
                char c = p[4];
                if (c == 0 || c == '.' || (c >= '0' && c <= '9'))
                    return true;
            }
        } else if (*p == 'l' && (p == path || p[-1] == '/') && p[1] == 'o' && p[2] == 'g') {
            if (p[3] == '/' || (p[3] == 's' && p[4] == '/'))
                return true;
        }
    }
    return false;
}
