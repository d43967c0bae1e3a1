/* wrap_tls.c — the plaintext of TLS connections, taken where the app hands it to its TLS library
 * or gets it back: OpenSSL's SSL_read/SSL_write (and _ex) and GnuTLS's gnutls_record_recv/send.
 * Neither library is linked into libscope: the real functions are looked up in whatever the app
 * has loaded, when first called (libc/tls.c).
 *
 * The real call runs outside our guard, so the socket reads and writes it makes are counted as
 * the connection's bytes (the ciphertext); the plaintext then goes to the protocol parsers with
 * the connection's descriptor, which the library knows (SSL_get_fd, gnutls_transport_get_int). */
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "dest/log.h"
#include "interpose/hook.h"
#include "interpose/wrap.h"

#define TLS_REAL(name) (scope_real_##name || scope_tls_resolve(SCOPE_FN_##name))

static int (*ssl_get_fd)(void *);
static int (*gnutls_get_int)(void *);

static int ssl_fd(void *ssl)
{
    if (!ssl_get_fd)
        ssl_get_fd = (int (*)(void *))scope_tls_lookup("SSL_get_fd");
    return ssl_get_fd && ssl ? ssl_get_fd(ssl) : -1;
}

static int gnutls_fd(void *session)
{
    if (!gnutls_get_int)
        gnutls_get_int = (int (*)(void *))scope_tls_lookup("gnutls_transport_get_int");
    return gnutls_get_int && session ? gnutls_get_int(session) : -1;
}

/* Which socket a TLS object writes to: the library knows when it does the socket I/O itself
 * (SSL_get_fd); an app with a BIO of its own (curl's connection filters) does the I/O in its own
 * callbacks, on this thread, during the call: the socket touched last is the one. Remembered per
 * object for calls served from the library's buffer, which touch no socket. */
#define TLS_MAP 64
static struct {
    _Atomic(void *) obj;
    _Atomic int fd;
} tls_map[TLS_MAP];
static __thread int tls_depth;

static int obj_fd(void *obj, bool gnutls)
{
    int fd = gnutls ? gnutls_fd(obj) : ssl_fd(obj);
    if (fd >= 0 && scope_is_sock(fd))
        return fd;
    size_t h = ((uintptr_t)obj >> 4) % TLS_MAP;
    fd = scope_last_sock;
    if (fd >= 0) {
        atomic_store_explicit(&tls_map[h].fd, fd, memory_order_relaxed);
        atomic_store_explicit(&tls_map[h].obj, obj, memory_order_relaxed);
        return fd;
    }
    return atomic_load_explicit(&tls_map[h].obj, memory_order_relaxed) == obj
               ? atomic_load_explicit(&tls_map[h].fd, memory_order_relaxed)
               : -1;
}

/* Around the real call: only the outermost one is the app's (OpenSSL's SSL_write may call
 * SSL_write_ex through the same symbols). */
static void tls_enter(void)
{
    if (tls_depth++ == 0)
        scope_last_sock = -1;
}

static void tls_leave(enum scope_fn fn, bool tx, ssize_t n, const void *buf, void *obj, bool gnutls)
{
    if (--tls_depth > 0 || n <= 0 || !scope_enter())
        return;
    int saved_errno = errno;
    scope_tls_io(fn, obj_fd(obj, gnutls), tx, n, buf);
    errno = saved_errno;
    scope_leave();
}

/* No real function anywhere: only possible for an app calling our symbol without the library. */
#define TLS_NEED(name, failret)                                                               \
    if (!TLS_REAL(name))                                                                      \
        return failret;

SCOPE_API int SSL_read(void *ssl, void *buf, int num)
{
    TLS_NEED(SSL_read, -1);
    tls_enter();
    int r = scope_real_SSL_read(ssl, buf, num);
    tls_leave(SCOPE_FN_SSL_read, false, r, buf, ssl, false);
    return r;
}
SCOPE_API int SSL_write(void *ssl, const void *buf, int num)
{
    TLS_NEED(SSL_write, -1);
    tls_enter();
    int r = scope_real_SSL_write(ssl, buf, num);
    tls_leave(SCOPE_FN_SSL_write, true, r, buf, ssl, false);
    return r;
}
SCOPE_API int SSL_read_ex(void *ssl, void *buf, size_t num, size_t *got)
{
    TLS_NEED(SSL_read_ex, 0);
    tls_enter();
    int r = scope_real_SSL_read_ex(ssl, buf, num, got);
    tls_leave(SCOPE_FN_SSL_read_ex, false, r == 1 && got ? (ssize_t)*got : 0, buf, ssl, false);
    return r;
}
SCOPE_API int SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *put)
{
    TLS_NEED(SSL_write_ex, 0);
    tls_enter();
    int r = scope_real_SSL_write_ex(ssl, buf, num, put);
    tls_leave(SCOPE_FN_SSL_write_ex, true, r == 1 && put ? (ssize_t)*put : 0, buf, ssl, false);
    return r;
}
SCOPE_API ssize_t gnutls_record_recv(void *session, void *data, size_t size)
{
    TLS_NEED(gnutls_record_recv, -1);
    tls_enter();
    ssize_t r = scope_real_gnutls_record_recv(session, data, size);
    tls_leave(SCOPE_FN_gnutls_record_recv, false, r, data, session, true);
    return r;
}
SCOPE_API ssize_t gnutls_record_send(void *session, const void *data, size_t size)
{
    TLS_NEED(gnutls_record_send, -1);
    tls_enter();
    ssize_t r = scope_real_gnutls_record_send(session, data, size);
    tls_leave(SCOPE_FN_gnutls_record_send, true, r, data, session, true);
    return r;
}

/* ---- OpenSSL inside the executable (node): hooked at its entry ------------------------------
 * node links OpenSSL into its binary and calls SSL_read and SSL_write directly, never through a
 * GOT entry: the wrappers above never see those calls. The functions are hooked at their entry
 * (interpose/hook.c) instead. node's TLS works through memory BIOs: SSL_get_fd knows no socket,
 * and the socket I/O happens around the calls, not in them, on the same thread: the ciphertext of
 * what SSL_read returns was read from the socket just before; what SSL_write takes goes to the
 * socket just after. So a read is the socket's this thread touched last before the call, and the
 * SSL object remembers it (tls_map) for its writes; a write before any read (a client's first)
 * takes the socket touched last too (its handshake's). */
enum { E_READ, E_WRITE, E_READ_EX, E_WRITE_EX, E_COUNT };
static const char *const entry_names[E_COUNT] = {"SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex"};
static struct scope_entry_hook entry[E_COUNT];

static int entry_fd(void *ssl, bool read, int before)
{
    int fd = ssl_fd(ssl);
    if (fd >= 0 && scope_is_sock(fd))
        return fd;
    size_t h = ((uintptr_t)ssl >> 4) % TLS_MAP;
    bool known = atomic_load_explicit(&tls_map[h].obj, memory_order_relaxed) == ssl;
    if (before >= 0 && scope_is_sock(before) && (read || !known)) {
        atomic_store_explicit(&tls_map[h].fd, before, memory_order_relaxed);
        atomic_store_explicit(&tls_map[h].obj, ssl, memory_order_relaxed);
        return before;
    }
    return known ? atomic_load_explicit(&tls_map[h].fd, memory_order_relaxed) : -1;
}

/* After the original call: only the outermost is the app's (our SSL_read wrapper above, reached
 * through a GOT, calls the hooked function as its real one; SSL_write may call SSL_write_ex). */
static void entry_leave(enum scope_fn fn, bool tx, ssize_t n, const void *buf, void *ssl, int before)
{
    if (--tls_depth > 0 || n <= 0 || !scope_enter())
        return;
    int saved_errno = errno;
    scope_tls_io(fn, entry_fd(ssl, !tx, before), tx, n, buf);
    errno = saved_errno;
    scope_leave();
}

static int entry_SSL_read(void *ssl, void *buf, int num)
{
    int before = scope_last_sock;
    tls_depth++;
    int r = ((int (*)(void *, void *, int))entry[E_READ].original)(ssl, buf, num);
    entry_leave(SCOPE_FN_SSL_read, false, r, buf, ssl, before);
    return r;
}

static int entry_SSL_write(void *ssl, const void *buf, int num)
{
    int before = scope_last_sock;
    tls_depth++;
    int r = ((int (*)(void *, const void *, int))entry[E_WRITE].original)(ssl, buf, num);
    entry_leave(SCOPE_FN_SSL_write, true, r, buf, ssl, before);
    return r;
}

static int entry_SSL_read_ex(void *ssl, void *buf, size_t num, size_t *got)
{
    int before = scope_last_sock;
    tls_depth++;
    int r = ((int (*)(void *, void *, size_t, size_t *))entry[E_READ_EX].original)(ssl, buf, num, got);
    entry_leave(SCOPE_FN_SSL_read_ex, false, r == 1 && got ? (ssize_t)*got : 0, buf, ssl, before);
    return r;
}

static int entry_SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *put)
{
    int before = scope_last_sock;
    tls_depth++;
    int r = ((int (*)(void *, const void *, size_t, size_t *))entry[E_WRITE_EX].original)(ssl, buf, num, put);
    entry_leave(SCOPE_FN_SSL_write_ex, true, r == 1 && put ? (ssize_t)*put : 0, buf, ssl, before);
    return r;
}

void scope_tls_entry_hooks(void)
{
    void *const replacement[E_COUNT] = {(void *)entry_SSL_read, (void *)entry_SSL_write, (void *)entry_SSL_read_ex,
                                        (void *)entry_SSL_write_ex};
    for (int i = 0; i < E_COUNT; i++) {
        void *target = scope_exe_symbol(entry_names[i]);
        if (!target || entry[i].target)
            continue;   /* not in the executable (a libssl's are reached through the GOT), or done */
        int rc = scope_entry_hook_install(&entry[i], target, replacement[i]);
        if (rc == 0)
            scope_log(SCOPE_LOG_INFO, "%s of the executable hooked at its entry: its TLS plaintext is seen", entry_names[i]);
        else
            scope_log(SCOPE_LOG_WARNING, "%s of the executable could not be hooked at its entry (%s): its TLS plaintext is not seen",
                      entry_names[i], scope_strerror(-rc));
    }
}

/* Attached, at detach: the entry hooks are taken out (hook.c keeps their trampolines, for a thread
 * still in one); a reattach puts them back (scope_tls_entry_hooks). */
void scope_tls_entry_unhook(void)
{
    for (int i = 0; i < E_COUNT; i++) {
        if (!entry[i].target)
            continue;
        int rc = scope_entry_hook_remove(&entry[i]);
        if (rc == 0)
            scope_log(SCOPE_LOG_INFO, "%s of the executable unhooked", entry_names[i]);
        else
            scope_log(SCOPE_LOG_WARNING, "%s of the executable could not be unhooked (%s)", entry_names[i], scope_strerror(-rc));
    }
}
