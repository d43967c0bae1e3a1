/* dnsparse.c — DNS message parsing (dnsparse.h). Every read is checked against n. */
#include "proto/dnsparse.h"

#include <string.h>
#include <sys/socket.h>

static unsigned u16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

long scope_dns_name(const unsigned char *p, size_t n, size_t off, char *out, size_t cap)
{
    size_t o = 0, end = 0;
    int jumps = 0;
    if (cap)
        out[0] = 0;
    while (off < n) {
        unsigned len = p[off];
        if (len == 0) {
            if (!end)
                end = off + 1;
            if (o < cap)
                out[o] = 0;
            return (long)end;
        }
        if ((len & 0xc0) == 0xc0) {
            if (off + 1 >= n || ++jumps > 16)
                return -1;
            if (!end)
                end = off + 2;
            off = ((len & 0x3f) << 8) | p[off + 1];
            continue;
        }
        if (len > 63 || off + 1 + len > n)
            return -1;
        if (o + len + 2 < cap) {
            if (o)
                out[o++] = '.';
            memcpy(out + o, p + off + 1, len);
            o += len;
            out[o] = 0;
        }
        off += 1 + len;
    }
    return -1;
}

bool scope_dns_parse(const unsigned char *p, size_t n, struct scope_dns_msg *m)
{
    if (n < 12)
        return false;
    m->id = u16(p);
    m->flags = u16(p + 2);
    m->response = (m->flags & 0x8000) != 0;
    m->rcode = m->flags & 0xf;
    m->an = u16(p + 6);
    if (u16(p + 4) < 1)   /* no question */
        return false;
    long off = scope_dns_name(p, n, 12, m->name, sizeof m->name);
    if (off < 0 || (size_t)off + 4 > n)
        return false;
    m->qtype = u16(p + off);
    m->answers = (size_t)off + 4;   /* after QTYPE and QCLASS */
    return true;
}

unsigned scope_dns_addrs(const unsigned char *p, size_t n, const struct scope_dns_msg *m,
                         scope_dns_addr_cb cb, void *ctx)
{
    unsigned got = 0;
    long off = (long)m->answers;
    for (unsigned a = 0; a < m->an && off >= 0 && (size_t)off < n; a++) {
        off = scope_dns_name(p, n, (size_t)off, NULL, 0);
        if (off < 0 || (size_t)off + 10 > n)   /* TYPE, CLASS, TTL, RDLENGTH */
            break;
        unsigned type = u16(p + off), rdlen = u16(p + off + 8);
        off += 10;
        if ((size_t)off + rdlen > n)
            break;
        if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
            cb(ctx, type == 1 ? AF_INET : AF_INET6, p + off);
            got++;
        }
        off += rdlen;
    }
    return got;
}

const char *scope_dns_qtype_name(unsigned t)
{
    switch (t) {
    case 1: return "A";
    case 28: return "AAAA";
    case 5: return "CNAME";
    case 15: return "MX";
    case 16: return "TXT";
    case 12: return "PTR";
    case 2: return "NS";
    case 33: return "SRV";
    case 6: return "SOA";
    case 65: return "HTTPS";
    default: return "OTHER";
    }
}

const char *scope_dns_rcode_name(unsigned rc)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
    return rc < 6 ? names[rc] : "ERROR";
}
