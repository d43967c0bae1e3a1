/* fuzz_dns — the DNS message parser (src/proto/dnsparse.c): arbitrary bytes as one message (a datagram,
 * or a message DNS over TCP handed out). The name is read whole, every address handed out is read
 * and formatted, and the names of the type and rcode are read. */
#include <arpa/inet.h>
#include <string.h>

#include "fuzz.h"

#include "../src/proto/dnsparse.h"

static void on_addr(void *ctx, int family, const unsigned char *addr)
{
    char ip[INET6_ADDRSTRLEN];
    (void)ctx;
    fuzz_touch(addr, family == AF_INET ? 4 : 16);
    inet_ntop(family, addr, ip, sizeof ip);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    /* A copy of exactly its size on the heap: ASan sees any read past the message. */
    unsigned char *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    struct scope_dns_msg m;
    if (scope_dns_parse(msg, size, &m)) {
        fuzz_touch(m.name, strlen(m.name) + 1);
        fuzz_touch(scope_dns_qtype_name(m.qtype), 1);
        fuzz_touch(scope_dns_rcode_name(m.rcode), 1);
        if (m.answers > size)
            __builtin_trap();
        scope_dns_addrs(msg, size, &m, on_addr, NULL);
    }
    /* Names anywhere in the message, the way answers and pointers reach them. */
    char name[256];
    for (size_t off = 0; off < size && off < 64; off++)
        if (scope_dns_name(msg, size, off, name, sizeof name) >= 0 && strlen(name) >= sizeof name)
            __builtin_trap();
    free(msg);
    return 0;
}
