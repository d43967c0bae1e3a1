/* wrap_dns.c — name resolution: getaddrinfo and the gethostbyname family give dns.req and
 * dns.resp (the name, the time it took, the addresses). Numeric addresses resolve nothing and are
 * not reported. The resolver's own traffic happens inside libc, under our guard, so a lookup is
 * reported once; DNS packets an app sends itself are parsed from the socket (netrec.c). */
#include <arpa/inet.h>
#include <netdb.h>

#include "interpose/wrap.h"

static bool numeric(const char *name)
{
    unsigned char buf[16];
    return !name || inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

SCOPE_API int getaddrinfo(const char *restrict node, const char *restrict service,
                          const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    WRAP_BEGIN(getaddrinfo, EAI_SYSTEM, (node, service, hints, res));
    uint64_t t0 = scope_mono_ns();
    int r = scope_real_getaddrinfo(node, service, hints, res);
    int err = errno;
    scope_call_end(&sc_, -1, r != 0);
    if (!numeric(node)) {
        scope_dns_done(SCOPE_FN_getaddrinfo, node, t0, r, r == 0 ? *res : NULL, NULL);
        if (r != 0)
            scope_net_err(SCOPE_NETERR_DNS);
    }
    errno = err;
    scope_leave();
    return r;
}

#define BYNAME(name, call, host)                                                              \
    WRAP_BEGIN(name, NULL, call);                                                             \
    uint64_t t0 = scope_mono_ns();                                                            \
    struct hostent *he = scope_real_##name call;                                              \
    int err = errno;                                                                          \
    scope_call_end(&sc_, -1, !he);                                                            \
    if (!numeric(host)) {                                                                     \
        scope_dns_done(SCOPE_FN_##name, host, t0, he ? 0 : h_errno, NULL, he);                \
        if (!he)                                                                              \
            scope_net_err(SCOPE_NETERR_DNS);                                                  \
    }                                                                                         \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return he;

SCOPE_API struct hostent *gethostbyname(const char *name) { BYNAME(gethostbyname, (name), name) }
SCOPE_API struct hostent *gethostbyname2(const char *name, int af)
{
    BYNAME(gethostbyname2, (name, af), name)
}

/* A buffer too small (ERANGE) is the app's cue to retry with a larger one: not a lookup. */
#define BYNAME_R(name, call, host)                                                            \
    WRAP_BEGIN(name, ERANGE, call);                                                           \
    uint64_t t0 = scope_mono_ns();                                                            \
    int r = scope_real_##name call;                                                           \
    int err = errno;                                                                          \
    bool ok = r == 0 && result && *result;                                                    \
    scope_call_end(&sc_, -1, !ok && r != ERANGE);                                             \
    if (r != ERANGE && !numeric(host)) {                                                      \
        scope_dns_done(SCOPE_FN_##name, host, t0, ok ? 0 : h_errnop && *h_errnop ? *h_errnop : HOST_NOT_FOUND, \
                       NULL, ok ? *result : NULL);                                            \
        if (!ok)                                                                              \
            scope_net_err(SCOPE_NETERR_DNS);                                                  \
    }                                                                                         \
    errno = err;                                                                              \
    scope_leave();                                                                            \
    return r;

SCOPE_API int gethostbyname_r(const char *restrict name, struct hostent *restrict ret,
                              char *restrict buf, size_t buflen, struct hostent **restrict result,
                              int *restrict h_errnop)
{
    BYNAME_R(gethostbyname_r, (name, ret, buf, buflen, result, h_errnop), name)
}
SCOPE_API int gethostbyname2_r(const char *restrict name, int af, struct hostent *restrict ret,
                               char *restrict buf, size_t buflen, struct hostent **restrict result,
                               int *restrict h_errnop)
{
    BYNAME_R(gethostbyname2_r, (name, af, ret, buf, buflen, result, h_errnop), name)
}
