/* statsd.c — AppScope's statsd metric watch (SCOPE_METRIC_STATSD): the StatsD datagrams the app
 * sends to port 8125 on loopback reach us as DATA records (netrec.c copies up to 4 KiB of each,
 * in pieces); here they are put back together, split into lines, parsed
 * (name:value|type[|@rate][|#tag:v,…]) and written as our metrics, with our tags, on the metric
 * destination. The app's datagrams themselves go out unchanged. Reporting thread only. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "report/emit.h"
#include "dest/log.h"
#include "report/statsd.h"

#define MAX_TAGS 64

/* Datagrams whose pieces are still coming, by socket lifetime and call id: pieces of datagrams
 * that two threads sent on one socket at once may interleave in the ring. */
#define PENDING 8
static struct {
    uint64_t chan, id, age;
    size_t len;
    bool gap;
    char buf[SCOPE_COPY_HEAD];
} pend[PENDING];
static uint64_t pend_age;

/* Lines skipped: malformed, past the copy limit, too long for SCOPE_STATSD_MAXLEN. */
static uint64_t n_bad, n_cut, n_long, told_bad, told_cut, told_long;

bool scope_statsd_dest(const char *ip, int port)
{
    if (port != SCOPE_STATSD_PORT || !ip)
        return false;
    return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11);
}

/* The first time: the line itself in the log (printable, bounded); after that only the counts. */
static void bad_line(const char *line, size_t n, const char *why)
{
    if (n_bad++ > 0)
        return;
    char shown[121];
    size_t k = 0;
    for (; k < n && k < sizeof shown - 1; k++)
        shown[k] = isprint((unsigned char)line[k]) ? line[k] : '?';
    shown[k] = 0;
    scope_log(SCOPE_LOG_WARNING, "statsd: skipped a malformed line the app sent (%s): \"%s%s\"; "
              "further ones are only counted", why, shown, n > k ? "..." : "");
}

/* A JSON number exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (isdigit((unsigned char)*s))
            s++;
    else
        return false;
    if (*s == '.') {
        if (!isdigit((unsigned char)*++s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == 0;
}

/* A decimal number as StatsD writes them (a sign, digits, a fraction, an exponent; no hex, inf
 * or nan); its JSON form in json (the text itself when it is one already). */
static bool number(const char *s, char *json, size_t cap, double *out)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    char *end;
    double d = strtod(s, &end);
    if (*end || end == s || !isfinite(d))
        return false;
    const char *t = *s == '+' ? s + 1 : s;
    if (json_number(t) && strlen(t) < cap)
        memcpy(json, t, strlen(t) + 1);
    else
        snprintf(json, cap, "%.15g", d);
    *out = d;
    return true;
}

static const char *type_name(const char *t)
{
    static const char *const map[][2] = {{"c", "counter"}, {"g", "gauge"}, {"ms", "timer"},
                                         {"h", "histogram"}, {"s", "set"},
                                         {"d", "histogram"}};   /* DogStatsD's distribution */
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(t, map[i][0]))
            return map[i][1];
    return NULL;
}

/* One line, name:value|type[|@rate][|#k:v,k2,…][|…]: emitted, or counted as malformed. Sections
 * other than @ and # (DogStatsD's |c: container id, |T timestamp) are ignored. */
static void line_out(const char *text, size_t n, struct sbuf *met, uint64_t t_ns)
{
    char s[SCOPE_COPY_HEAD + 1];
    memcpy(s, text, n);
    s[n] = 0;
    if (memchr(s, 0, n)) {
        bad_line(text, n, "a NUL byte");
        return;
    }
    char *colon = strchr(s, ':'), *bar = colon ? strchr(colon + 1, '|') : NULL;
    if (!colon || colon == s || memchr(s, '|', (size_t)(colon - s))) {
        bad_line(text, n, "no name:value");
        return;
    }
    if (!bar || bar == colon + 1) {
        bad_line(text, n, "no value|type");
        return;
    }
    *colon = 0;
    *bar = 0;
    struct scope_relay rl = {0};
    rl.name = s;
    rl.value_text = colon + 1;
    const char *tags[2 * MAX_TAGS];
    char rate_json[48];
    char *sect = bar + 1, *next;
    for (int i = 0; sect; i++, sect = next) {
        next = strchr(sect, '|');
        if (next)
            *next++ = 0;
        if (i == 0) {
            rl.type = type_name(sect);
            if (!rl.type) {
                bad_line(text, n, "an unknown type");
                return;
            }
        } else if (*sect == '@') {
            double r;
            if (!number(sect + 1, rate_json, sizeof rate_json, &r) || r <= 0 || r > 1) {
                bad_line(text, n, "a bad sample rate");
                return;
            }
            rl.rate_text = sect + 1;
            rl.rate_json = rate_json;
        } else if (*sect == '#') {
            for (char *t = sect + 1, *comma; t && *t; t = comma) {
                comma = strchr(t, ',');
                if (comma)
                    *comma++ = 0;
                if (!*t || rl.ntags == MAX_TAGS)
                    continue;
                char *eq = strchr(t, ':');
                if (eq)
                    *eq++ = 0;
                if (!*t)
                    continue;
                tags[2 * rl.ntags] = t;
                tags[2 * rl.ntags + 1] = eq;
                rl.ntags++;
            }
        }
    }
    rl.tags = tags;
    char vjson[48];
    double v;
    if (number(rl.value_text, vjson, sizeof vjson, &v)) {
        rl.delta = !strcmp(rl.type, "gauge") && (*rl.value_text == '+' || *rl.value_text == '-');
    } else if (!strcmp(rl.type, "set") && *rl.value_text) {
        rl.member = rl.value_text;   /* a set counts members of any kind: the value is one */
        memcpy(vjson, "1", 2);
    } else {
        bad_line(text, n, "a value that is not a number");
        return;
    }
    rl.value_json = vjson;
    if (!scope_emit_relay(met, &rl, t_ns) && n_long++ == 0)
        scope_log(SCOPE_LOG_WARNING, "statsd: a line the app sent does not fit SCOPE_STATSD_MAXLEN "
                  "(%d) even without tags: not relayed; further ones are only counted",
                  scope_cfg.statsd_maxlen);
}

/* A datagram as far as it was copied; cut: its end was not copied, so its last line may be
 * incomplete and is left out. */
static void datagram(const char *p, size_t n, bool cut, struct sbuf *met, uint64_t t_ns)
{
    if (cut) {
        size_t keep = n;
        while (keep > 0 && p[keep - 1] != '\n')
            keep--;
        if (keep < n)
            n_cut++;
        n = keep;
    }
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n, l = len;
        if (l > 0 && p[l - 1] == '\r')
            l--;
        if (l > 0)
            line_out(p, l, met, t_ns);
        p += len + (nl ? 1 : 0);
        n -= len + (nl ? 1 : 0);
    }
}

static void pend_flush(int i, struct sbuf *met, uint64_t t_ns)
{
    datagram(pend[i].buf, pend[i].len, true, met, t_ns);
    pend[i].chan = pend[i].id = 0;
}

void scope_statsd_piece(const struct scope_rec *r, const unsigned char *p, size_t n, bool to_statsd,
                        struct sbuf *met)
{
    const char *b = (const char *)p;
    if (r->aux & SCOPE_DATA_FIRST) {
        if (!to_statsd)
            return;
        if (r->aux & SCOPE_DATA_LAST) {   /* the usual case: the datagram fit one record */
            datagram(b, n, r->rbytes > n, met, r->t_ns);
            return;
        }
        int slot = 0;
        for (int i = 0; i < PENDING; i++) {
            if (!pend[i].id) {
                slot = i;
                break;
            }
            if (pend[i].age < pend[slot].age)
                slot = i;
        }
        if (pend[slot].id)   /* its last piece was dropped (the queue was full): what came */
            pend_flush(slot, met, r->t_ns);
        size_t k = n < sizeof pend[slot].buf ? n : sizeof pend[slot].buf;
        memcpy(pend[slot].buf, b, k);
        pend[slot].len = k;
        pend[slot].gap = false;
        pend[slot].chan = r->chan;
        pend[slot].id = r->wops;
        pend[slot].age = ++pend_age;
        return;
    }
    for (int i = 0; i < PENDING; i++) {
        if (!pend[i].id || pend[i].id != r->wops || pend[i].chan != r->chan)
            continue;
        if (r->rops != pend[i].len)   /* a piece was dropped: nothing after it is used */
            pend[i].gap = true;
        if (!pend[i].gap) {
            size_t k = n < sizeof pend[i].buf - pend[i].len ? n : sizeof pend[i].buf - pend[i].len;
            memcpy(pend[i].buf + pend[i].len, b, k);
            pend[i].len += k;
        }
        if (r->aux & SCOPE_DATA_LAST) {
            datagram(pend[i].buf, pend[i].len, pend[i].gap || r->rbytes > pend[i].len, met, r->t_ns);
            pend[i].chan = pend[i].id = 0;
        }
        return;
    }
}

void scope_statsd_summary(void)
{
    if (n_bad > told_bad)
        scope_log(SCOPE_LOG_WARNING, "statsd: %llu malformed lines from the app skipped in all",
                  (unsigned long long)n_bad);
    if (n_cut > told_cut)
        scope_log(SCOPE_LOG_WARNING, "statsd: %llu lines past the %d-byte copy of a datagram "
                  "skipped in all", (unsigned long long)n_cut, SCOPE_COPY_HEAD);
    if (n_long > told_long)
        scope_log(SCOPE_LOG_WARNING, "statsd: %llu lines longer than SCOPE_STATSD_MAXLEN skipped "
                  "in all", (unsigned long long)n_long);
    told_bad = n_bad;
    told_cut = n_cut;
    told_long = n_long;
}

void scope_statsd_reset(void)
{
    memset(pend, 0, sizeof pend);
    pend_age = 0;
    n_bad = n_cut = n_long = told_bad = told_cut = told_long = 0;
}
