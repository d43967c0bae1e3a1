/* http1.c — HTTP/1.x message heads for one direction of a connection (http.h): a connection's
 * first bytes recognised as a request or response, heads gathered into the parser's buffer (the
 * start line checked as it arrives), parsed in place (obs-folded lines are joined there) and
 * handed to the callback, and the framing of the body that follows chosen from them
 * (Content-Length, chunked or until close; http1body.c skips it). After a loss (a gap in a head or
 * in chunked framing, garbage, an oversized head) nothing is parsed until a piece begins with
 * something that looks like a message start. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "proto/http.h"
#include "proto/http1int.h"

#define H1_METHOD_MAX 20
#define H1_START_CHECK 32 /* the start of a head is checked as it arrives, up to this many bytes */

static const char *const h1_methods[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
};
#define H1_NMETHODS (sizeof h1_methods / sizeof h1_methods[0])

static const char h1_empty[] = "";

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool ieq(const char *a, size_t an, const char *lit)
{
    size_t ln = strlen(lit);
    if (an != ln)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lc(a[i]) != lit[i])
            return false;
    return true;
}

/* Character classes, one table lookup each (the head parser asks per byte). */
enum { C_METHOD = 1, C_TARGET = 2, C_TCHAR = 4 };
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"   /* ranges first, then what is more in them */
static const unsigned char cls[256] = {
#define R(a, b, v) [a... b] = v
    R(0x21, 0x7e, C_TARGET), R(0x80, 0xff, C_TARGET),
    R('A', 'Z', C_METHOD | C_TARGET | C_TCHAR), R('a', 'z', C_TARGET | C_TCHAR),
    R('0', '9', C_TARGET | C_TCHAR),
    ['-'] = C_METHOD | C_TARGET | C_TCHAR, ['_'] = C_METHOD | C_TARGET | C_TCHAR,
    ['!'] = C_TARGET | C_TCHAR, ['#'] = C_TARGET | C_TCHAR, ['$'] = C_TARGET | C_TCHAR,
    ['%'] = C_TARGET | C_TCHAR, ['&'] = C_TARGET | C_TCHAR, ['\''] = C_TARGET | C_TCHAR,
    ['*'] = C_TARGET | C_TCHAR, ['+'] = C_TARGET | C_TCHAR, ['.'] = C_TARGET | C_TCHAR,
    ['^'] = C_TARGET | C_TCHAR, ['`'] = C_TARGET | C_TCHAR, ['|'] = C_TARGET | C_TCHAR,
    ['~'] = C_TARGET | C_TCHAR,
#undef R
};
#pragma GCC diagnostic pop

static bool is_method_char(unsigned char c) { return cls[c] & C_METHOD; }
static bool is_target_char(unsigned char c) { return cls[c] & C_TARGET; }
static bool is_tchar(unsigned char c) { return cls[c] & C_TCHAR; }

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool known_method(const char *m, size_t n)
{
    for (size_t i = 0; i < H1_NMETHODS; i++)
        if (strlen(h1_methods[i]) == n && memcmp(h1_methods[i], m, n) == 0)
            return true;
    return false;
}

bool scope_h1_is_request(const unsigned char *buf, size_t n)
{
    if (!buf)
        return false;
    for (size_t i = 0; i < H1_NMETHODS; i++) {
        size_t ml = strlen(h1_methods[i]);
        if (n > ml && memcmp(buf, h1_methods[i], ml) == 0 && buf[ml] == ' ')
            return true;
    }
    return false;
}

bool scope_h1_is_response(const unsigned char *buf, size_t n)
{
    if (!buf || n < 12)
        return false;
    if (memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
        return false;
    return is_digit(buf[9]) && is_digit(buf[10]) && is_digit(buf[11]);
}

void scope_h1_init(struct scope_h1 *p, bool response_side)
{
    p->state = H1_HEAD;
    p->body_left = 0;
    p->chunk_left = 0;
    p->chunk_state = 0;
    p->response_side = response_side;
    p->upgraded = false;
    p->all_hdrs = true;
    p->len = 0;
}

void scope_h1_to_head(struct scope_h1 *p)
{
    p->state = H1_HEAD;
    p->len = 0;
    p->body_left = 0;
    p->chunk_left = 0;
    p->chunk_state = 0;
}

void scope_h1_lose(struct scope_h1 *p)
{
    p->state = H1_LOST;
    p->len = 0;
    p->body_left = 0;
    p->chunk_left = 0;
    p->chunk_state = 0;
}

/* Could the `n` bytes at `s` (no LF among them) begin a start line? `strict`: only the methods of
 * scope_h1_is_request (after a loss, to avoid taking body bytes for a request). */
static bool start_prefix_ok(const struct scope_h1 *p, const char *s, size_t n, bool strict)
{
    if (p->response_side) {
        static const char v[] = "HTTP/1.";
        for (size_t i = 0; i < n && i < 13; i++) {
            unsigned char c = (unsigned char)s[i];
            bool ok;
            if (i < 7)
                ok = c == (unsigned char)v[i];
            else if (i == 7)
                ok = c == '0' || c == '1';
            else if (i == 8)
                ok = c == ' ';
            else if (i < 12)
                ok = is_digit(c);
            else
                ok = c == ' ' || c == '\r';
            if (!ok)
                return false;
        }
        return true;
    }
    size_t j = 0;
    while (j < n && is_method_char((unsigned char)s[j]))
        j++;
    if (j > H1_METHOD_MAX)
        return false;
    if (strict) {
        bool any = false;
        for (size_t i = 0; i < H1_NMETHODS && !any; i++) {
            size_t ml = strlen(h1_methods[i]);
            size_t k = j < ml ? j : ml;
            any = memcmp(s, h1_methods[i], k) == 0 && (j < n ? j == ml : j <= ml);
        }
        if (!any)
            return false;
    }
    if (j == n)
        return true;
    if (j == 0 || s[j] != ' ')
        return false;
    return j + 1 == n || is_target_char((unsigned char)s[j + 1]);
}

/* Parses the start line [0, e) (without its line end) into m; false when it is not one. */
static bool parse_start(const struct scope_h1 *p, const char *s, size_t e, struct scope_http_msg *m)
{
    if (p->response_side) {
        if (e < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
            return false;
        if (!is_digit((unsigned char)s[9]) || !is_digit((unsigned char)s[10]) ||
            !is_digit((unsigned char)s[11]))
            return false;
        if (e > 12 && s[12] != ' ')
            return false;
        m->flavor = s[7] == '0' ? 10 : 11;
        m->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
        if (m->status < 100)
            return false;
        m->reason.p = e > 13 ? s + 13 : h1_empty;
        m->reason.n = e > 13 ? e - 13 : 0;
        for (size_t i = 0; i < m->reason.n; i++) {
            unsigned char c = (unsigned char)m->reason.p[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return false;
        }
        return true;
    }
    size_t j = 0;
    while (j < e && is_method_char((unsigned char)s[j]))
        j++;
    if (j == 0 || j > H1_METHOD_MAX || j >= e || s[j] != ' ')
        return false;
    size_t t = j + 1, k = t;
    while (k < e && is_target_char((unsigned char)s[k]))
        k++;
    if (k == t || k + 9 != e || s[k] != ' ' || memcmp(s + k + 1, "HTTP/1.", 7) != 0 ||
        (s[e - 1] != '0' && s[e - 1] != '1'))
        return false;
    m->request = true;
    m->flavor = s[e - 1] == '0' ? 10 : 11;
    m->method.p = s;
    m->method.n = j;
    m->target.p = s + t;
    m->target.n = k - t;
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Content-Length: digits, or a list of equal values ("42, 42"); -2 when invalid. */
static long long parse_cl(const char *v, size_t n)
{
    long long val = -1;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        const char *e = v + i;
        size_t en = j - i;
        trim(&e, &en);
        if (en == 0 || en > 18)
            return -2;
        long long x = 0;
        for (size_t k = 0; k < en; k++) {
            if (!is_digit((unsigned char)e[k]))
                return -2;
            x = x * 10 + (e[k] - '0');
        }
        if (val >= 0 && x != val)
            return -2;
        val = x;
        i = j + 1;
    }
    return val;
}

struct head_info {
    long long cl;   /* -1 absent, -2 invalid */
    bool te;        /* Transfer-Encoding present */
    bool chunked;   /* … and its final coding is chunked */
};

static void header_done(struct scope_h1 *p, struct head_info *hi, int *nh, const char *name,
                        size_t nl, const char *value, size_t vl)
{
    if (p->all_hdrs && *nh < SCOPE_HTTP_MAX_HDRS) {
        p->hdrs[*nh].name.p = name;
        p->hdrs[*nh].name.n = nl;
        p->hdrs[*nh].value.p = value;
        p->hdrs[*nh].value.n = vl;
        (*nh)++;
    }
    if (ieq(name, nl, "content-length")) {
        long long x = parse_cl(value, vl);
        if (x == -2 || (hi->cl >= 0 && hi->cl != x))
            hi->cl = -2;
        else if (hi->cl != -2)
            hi->cl = x;
    } else if (ieq(name, nl, "transfer-encoding")) {
        hi->te = true;
        size_t s = vl;
        while (s > 0 && value[s - 1] != ',')
            s--;
        const char *last = value + s;
        size_t ln = vl - s;
        trim(&last, &ln);
        hi->chunked = ieq(last, ln, "chunked");
    }
}

/* The headers of a head whose start line ends at `r` (the first byte after its LF), read from `h`
 * up to `n`: each into p->hdrs (names and values point into h) and hi. Returns the head's length
 * (through its empty line), 0 when the head does not end within n, and SIZE_MAX when a line is
 * obs-folded and `wh` (h, writable) is NULL: a folded value is joined in place, after its value
 * (the line ends and the fold's blanks between make room), so the caller copies the head first. */
static size_t scan_headers(struct scope_h1 *p, const char *h, char *wh, size_t r, size_t n,
                           struct head_info *hi, int *nh)
{
    bool have = false;
    const char *name = NULL, *val = NULL;
    size_t nl = 0, vl = 0;
    while (r < n) {
        const char *l = memchr(h + r, '\n', n - r);
        if (!l)
            return 0;
        size_t lend = (size_t)(l - h);
        size_t ln = lend - r;
        if (ln > 0 && h[r + ln - 1] == '\r')
            ln--;
        if (ln == 0) { /* the empty line */
            if (have)
                header_done(p, hi, nh, name, nl, val, vl);
            return lend + 1;
        }
        const char *s = h + r;
        if (s[0] == ' ' || s[0] == '\t') { /* obs-fold: continues the previous value */
            trim(&s, &ln);
            if (have && ln > 0) {
                if (!wh)
                    return SIZE_MAX;
                char *w = wh + (val - h) + vl;
                if (vl > 0)
                    *w++ = ' ';
                memmove(w, s, ln);
                vl = (size_t)(w + ln - (wh + (val - h)));
            }
        } else {
            if (have)
                header_done(p, hi, nh, name, nl, val, vl);
            have = false;
            /* Only the framing headers wanted: a line that cannot be one is passed over (whether
             * its name is valid matters only to a folded line after it, joined to a value no one
             * reads). */
            if (!p->all_hdrs && (s[0] | 0x20) != 'c' && (s[0] | 0x20) != 't') {
                r = lend + 1;
                continue;
            }
            /* the name: token characters, then (tolerated) blanks, then the colon */
            size_t nn = 0, c;
            while (nn < ln && is_tchar((unsigned char)s[nn]))
                nn++;
            for (c = nn; c < ln && (s[c] == ' ' || s[c] == '\t');)
                c++;
            if (nn > 0 && c < ln && s[c] == ':') {
                val = s + c + 1;
                vl = ln - c - 1;
                if (p->all_hdrs || nn == 14 || nn == 17) /* (content-length, transfer-encoding) */
                    trim(&val, &vl);
                name = s;
                nl = nn;
                have = true;
            }
            /* a line without a colon or with a bad name is ignored */
        }
        r = lend + 1;
    }
    return 0;
}

static void msg_init(struct scope_http_msg *m)
{
    memset(m, 0, sizeof *m);
    m->method.p = m->target.p = m->authority.p = m->scheme.p = m->reason.p = h1_empty;
    m->content_length = -1;
}

/* Is the start line [0, e) of a head one (after a loss, of a known method)? It is parsed into m. */
static bool start_ok(const struct scope_h1 *p, const char *s, size_t e, struct scope_http_msg *m)
{
    return parse_start(p, s, e, m) &&
           !(p->state == H1_RESYNC && m->request && !known_method(m->method.p, m->method.n));
}

/* A head parsed (m, hi): call back, and choose what follows. */
static void head_done(struct scope_h1 *p, struct scope_http_msg *m, const struct head_info *hi,
                      int nh, scope_http_cb cb, void *ctx)
{
    m->content_length = hi->cl >= 0 ? hi->cl : -1;
    m->hdrs = p->hdrs;
    m->nhdrs = nh;
    bool no_body = cb ? cb(ctx, m) : false;
    bool is_connect = m->request && m->method.n == 7 && memcmp(m->method.p, "CONNECT", 7) == 0;

    p->len = 0;
    if (p->upgraded || (!m->request && m->status == 101) || is_connect) {
        /* 101, a CONNECT request, or the consumer set `upgraded` in the callback (it knows a 2xx
         * answers a CONNECT): what follows is not HTTP/1 */
        p->upgraded = true;
        p->state = H1_UPGRADED;
        return;
    }
    if (no_body || (!m->request && (m->status < 200 || m->status == 204 || m->status == 304))) {
        scope_h1_to_head(p);
    } else if (hi->te) {
        if (hi->chunked) {
            scope_h1_to_head(p);
            p->state = H1_CHUNKED;
            p->chunk_state = CS_SIZE0;
        } else if (!m->request) {
            p->state = H1_UNTIL_CLOSE;
        } else {
            scope_h1_lose(p); /* a request body we cannot delimit */
        }
    } else if (hi->cl == -2) {
        scope_h1_lose(p); /* invalid Content-Length: the framing is unknown */
    } else if (hi->cl > 0) {
        scope_h1_to_head(p);
        p->state = H1_BODY;
        p->body_left = hi->cl;
    } else if (hi->cl == 0 || m->request) {
        scope_h1_to_head(p);
    } else {
        p->state = H1_UNTIL_CLOSE;
    }
}

/* The head at `s`, its start line ending at the first LF within n: its start line checked, its
 * headers read up to n (`wh`: s writable, for a folded line), and when it ends within n, handed
 * on. Returns its length; 0 when it does not end within n, is folded with no `wh`, or is longer
 * than SCOPE_H1_HEAD_MAX; SIZE_MAX when the start line is not one. */
static size_t parse_head(struct scope_h1 *p, const char *s, char *wh, size_t n, scope_http_cb cb, void *ctx)
{
    const char *lf = memchr(s, '\n', n);
    if (!lf)
        return 0;
    size_t e = (size_t)(lf - s);
    size_t le = (e > 0 && s[e - 1] == '\r') ? e - 1 : e;
    struct scope_http_msg m;
    msg_init(&m);
    if (!start_ok(p, s, le, &m))
        return SIZE_MAX;
    struct head_info hi = {-1, false, false};
    int nh = 0;
    size_t len = scan_headers(p, s, wh, e + 1, n, &hi, &nh);
    if (len == 0 || len == SIZE_MAX || len > SCOPE_H1_HEAD_MAX)
        return 0;
    head_done(p, &m, &hi, nh, cb, ctx);
    return len;
}

/* The head gathered in p->head [0, len) is complete (it ends with its empty line; its start line
 * was checked as it arrived): parsed in place and handed on. */
static void process_head(struct scope_h1 *p, scope_http_cb cb, void *ctx)
{
    size_t len = p->len;
    if (parse_head(p, p->head, p->head, len, cb, ctx) != len)
        scope_h1_lose(p);
}

/* A head that begins at `s` (nothing of it gathered yet): when it ends within the n bytes there
 * (the common case, a whole head in one piece), it is parsed where it is, without being gathered
 * line by line into p->head, and handed on; returns the bytes used, or 0 to leave it to the
 * gathering (a head cut by the piece's end, an obs-folded one, one too long). */
static size_t whole_head(struct scope_h1 *p, const char *s, size_t n, scope_http_cb cb, void *ctx)
{
    size_t used = parse_head(p, s, NULL, n, cb, ctx);
    if (used == SIZE_MAX) {
        scope_h1_lose(p); /* as the gathering would, at the start line's end */
        return n;
    }
    return used;
}

/* Head bytes; returns how many of the m at b were used. */
size_t scope_h1_feed_head(struct scope_h1 *p, const unsigned char *b, size_t m, scope_http_cb cb,
                          void *ctx)
{
    size_t k = 0;
    if (p->len == 0) {
        while (k < m && (b[k] == '\r' || b[k] == '\n'))
            k++; /* empty lines before a message are ignored */
        if (k < m) {
            size_t used = whole_head(p, (const char *)b + k, m - k, cb, ctx);
            if (used)
                return k + used;
        }
    }
    while (k < m) {
        const unsigned char *nl = memchr(b + k, '\n', m - k);
        size_t end = nl ? (size_t)(nl - b) + 1 : m;
        size_t take = end - k;
        if (p->len + take > SCOPE_H1_HEAD_MAX) {
            scope_h1_lose(p);
            return m;
        }
        size_t old = p->len;
        memcpy(p->head + old, b + k, take);
        p->len += take;
        k = end;
        bool first_lf = nl && !p->chunk_state; /* chunk_state: the start line was checked */
        if (old < H1_START_CHECK && !p->chunk_state && !first_lf) {
            size_t chk = p->len < H1_START_CHECK ? p->len : H1_START_CHECK;
            if (!start_prefix_ok(p, p->head, chk, p->state == H1_RESYNC)) {
                scope_h1_lose(p);
                return m;
            }
        }
        if (first_lf) {
            size_t e = p->len - 1;
            if (e > 0 && p->head[e - 1] == '\r')
                e--;
            struct scope_http_msg tmp;
            memset(&tmp, 0, sizeof tmp);
            if (!start_ok(p, p->head, e, &tmp)) {
                scope_h1_lose(p);
                return m;
            }
            p->chunk_state = 1;
        }
        if (nl) {
            size_t L = p->len;
            const char *h = p->head;
            if (L >= 2 && (h[L - 2] == '\n' || (L >= 3 && h[L - 2] == '\r' && h[L - 3] == '\n'))) {
                process_head(p, cb, ctx);
                return k;
            }
        }
    }
    return k;
}
