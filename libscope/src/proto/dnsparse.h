/* dnsparse.h — DNS messages (RFC 1035 4.1) as the app sends and receives them over UDP or TCP:
 * the header, the first question's name (compression pointers followed, loops cut) and type, and
 * the A and AAAA addresses among the answers. Bytes in, fields out: no state, no allocation, no
 * I/O (dnsevents.c makes the dns.req and dns.resp events of them; fuzz/fuzz_dns.c drives it). */
#ifndef SCOPE_DNSPARSE_H
#define SCOPE_DNSPARSE_H
#include <stdbool.h>
#include <stddef.h>

struct scope_dns_msg {
    unsigned id, flags;     /* header: id, and QR, opcode, AA, TC, RD, RA, Z, RCODE as sent */
    unsigned an;            /* answer count the header claims */
    bool response;          /* QR set */
    unsigned rcode;         /* flags & 0xf */
    unsigned qtype;         /* the first question's type */
    char name[256];         /* its name, dotted (cut to what fits) */
    size_t answers;         /* offset of the answer section */
};

/* The header and the first question of the message p[0..n). False when it has none or they run
 * past its end (no event is made of it). */
bool scope_dns_parse(const unsigned char *p, size_t n, struct scope_dns_msg *m);

/* Each A (family AF_INET, 4 bytes) and AAAA (AF_INET6, 16 bytes) record among the answers of a
 * message scope_dns_parse accepted, in order, until the answers end or one is cut short. Returns
 * how many were handed to cb. */
typedef void (*scope_dns_addr_cb)(void *ctx, int family, const unsigned char *addr);
unsigned scope_dns_addrs(const unsigned char *p, size_t n, const struct scope_dns_msg *m,
                         scope_dns_addr_cb cb, void *ctx);

/* The name at off (compression pointers followed, at most 16): written dotted into out (cap bytes,
 * NUL-terminated, labels that do not fit left out; cap 0: not written). Returns the offset just
 * after the name where it starts (after its first pointer), or -1 when it is malformed. */
long scope_dns_name(const unsigned char *p, size_t n, size_t off, char *out, size_t cap);

const char *scope_dns_qtype_name(unsigned t);   /* "A", "AAAA", … or "OTHER" */
const char *scope_dns_rcode_name(unsigned rc);  /* "NOERROR", "NXDOMAIN", … or "ERROR" */
#endif
