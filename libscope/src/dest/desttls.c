/* desttls.c — TLS for tls:// destinations through the system's libssl, loaded at run time
 * (libssl.so.3, else libssl.so.1.1) so that libscope links nothing but libc. Every libssl call goes
 * through a pointer from dlsym on the handle we opened: libscope itself exports SSL_read and
 * SSL_write (wrap_tls.c), and a plain call would reach our wrapper. The reporting thread, the only
 * caller, runs with the thread guard set, so the socket I/O libssl does inside is not recorded.
 * Server certificates are checked by default, against the destination's host name (SNI sent) or
 * its literal IP address; SCOPE_*_TLS_VALIDATE_SERVER=false turns that off. All of it non-blocking:
 * the handshake is stepped across turns of the reporting loop. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "libc/libc.h"
#include "dest/destnet.h"

/* The few constants of OpenSSL's ABI we need (stable across 1.1 and 3). */
enum { SSL_ERROR_SSL_ = 1, SSL_ERROR_WANT_READ_ = 2, SSL_ERROR_WANT_WRITE_ = 3,
       SSL_ERROR_ZERO_RETURN_ = 6, SSL_VERIFY_NONE_ = 0, SSL_VERIFY_PEER_ = 1,
       SSL_CTRL_MODE_ = 33, SSL_CTRL_SET_TLSEXT_HOSTNAME_ = 55, TLSEXT_NAMETYPE_host_name_ = 0 };
/* SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: our buffer is compacted
 * between a write that wanted to be repeated and its repetition. */
#define MODES 0x3L

static struct {
    void *(*client_method)(void);
    void *(*ctx_new)(void *);
    void (*ctx_free)(void *);
    void (*ctx_set_verify)(void *, int, void *);
    int (*ctx_load_verify)(void *, const char *, const char *);
    int (*ctx_default_paths)(void *);
    void *(*ssl_new)(void *);
    void (*ssl_free)(void *);
    int (*set_fd)(void *, int);
    int (*connect)(void *);
    int (*write)(void *, const void *, int);
    int (*read)(void *, void *, int);
    int (*get_error)(const void *, int);
    long (*ctrl)(void *, int, long, void *);
    int (*set1_host)(void *, const char *);
    void *(*get0_param)(void *);
    int (*param_ip)(void *, const char *);
    long (*verify_result)(const void *);
    const char *(*verify_string)(long);
    unsigned long (*err_get)(void);
    void (*err_string)(unsigned long, char *, size_t);
    void (*err_clear)(void);
} F;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[200];

static void load(void)
{
    void *h = scope_real_dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        h = scope_real_dlopen("libssl.so.1.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        /* the loader kept its message for this thread's dlerror: taken, then freed by the second
         * call (otherwise it stays allocated until the thread exits, which ours need not do) */
        (void)dlerror();
        (void)dlerror();
        snprintf(load_error, sizeof load_error, "libssl not found (libssl.so.3, libssl.so.1.1)");
        return;
    }
    /* dlsym on the handle searches libssl and what it needs (libcrypto: X509_*, ERR_*) */
    struct { void **slot; const char *name; } syms[] = {
        {(void **)&F.client_method, "TLS_client_method"}, {(void **)&F.ctx_new, "SSL_CTX_new"},
        {(void **)&F.ctx_free, "SSL_CTX_free"}, {(void **)&F.ctx_set_verify, "SSL_CTX_set_verify"},
        {(void **)&F.ctx_load_verify, "SSL_CTX_load_verify_locations"},
        {(void **)&F.ctx_default_paths, "SSL_CTX_set_default_verify_paths"},
        {(void **)&F.ssl_new, "SSL_new"}, {(void **)&F.ssl_free, "SSL_free"},
        {(void **)&F.set_fd, "SSL_set_fd"}, {(void **)&F.connect, "SSL_connect"},
        {(void **)&F.write, "SSL_write"}, {(void **)&F.read, "SSL_read"},
        {(void **)&F.get_error, "SSL_get_error"}, {(void **)&F.ctrl, "SSL_ctrl"},
        {(void **)&F.set1_host, "SSL_set1_host"}, {(void **)&F.get0_param, "SSL_get0_param"},
        {(void **)&F.param_ip, "X509_VERIFY_PARAM_set1_ip_asc"},
        {(void **)&F.verify_result, "SSL_get_verify_result"},
        {(void **)&F.verify_string, "X509_verify_cert_error_string"},
        {(void **)&F.err_get, "ERR_get_error"}, {(void **)&F.err_string, "ERR_error_string_n"},
        {(void **)&F.err_clear, "ERR_clear_error"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
            snprintf(load_error, sizeof load_error, "libssl has no %s", syms[i].name);
            F.client_method = NULL;
            return;   /* the handle stays: a library loaded once is never unloaded by us */
        }
}

bool scope_tls_load(char *why, size_t n)
{
    pthread_once(&once, load);
    if (F.client_method && !load_error[0])
        return true;
    snprintf(why, n, "%s", load_error);
    return false;
}

static void ssl_error(const char *what, char *why, size_t n)
{
    char e[160] = "";
    unsigned long code = F.err_get();
    if (code)
        F.err_string(code, e, sizeof e);
    snprintf(why, n, "%s%s%s", what, e[0] ? ": " : "", e);
}

void *scope_tls_start(int fd, const char *host, bool ip_literal, bool verify, const char *ca,
                      void **ctx, char *why, size_t n)
{
    F.err_clear();
    void *c = F.ctx_new(F.client_method());
    if (!c) {
        ssl_error("cannot make a TLS context", why, n);
        return NULL;
    }
    F.ctx_set_verify(c, verify ? SSL_VERIFY_PEER_ : SSL_VERIFY_NONE_, NULL);
    if (verify && (ca[0] ? F.ctx_load_verify(c, ca, NULL) : F.ctx_default_paths(c)) != 1) {
        char what[1200];
        snprintf(what, sizeof what, "cannot load CA certificates from %s",
                 ca[0] ? ca : "the system's default paths");
        ssl_error(what, why, n);
        F.ctx_free(c);
        return NULL;
    }
    void *s = F.ssl_new(c);
    if (!s || F.set_fd(s, fd) != 1) {
        ssl_error("cannot make a TLS connection", why, n);
        if (s)
            F.ssl_free(s);
        F.ctx_free(c);
        return NULL;
    }
    F.ctrl(s, SSL_CTRL_MODE_, MODES, NULL);
    if (!ip_literal)   /* SNI takes names only */
        F.ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME_, TLSEXT_NAMETYPE_host_name_, (void *)host);
    if (verify && (ip_literal ? F.param_ip(F.get0_param(s), host) : F.set1_host(s, host)) != 1) {
        ssl_error("cannot set the name to verify", why, n);
        F.ssl_free(s);
        F.ctx_free(c);
        return NULL;
    }
    *ctx = c;
    return s;
}

int scope_tls_handshake(void *ssl, char *why, size_t n)
{
    F.err_clear();
    int r = F.connect(ssl);
    if (r == 1)
        return 1;
    int e = F.get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ_ || e == SSL_ERROR_WANT_WRITE_)
        return 0;
    long v = F.verify_result(ssl);
    if (v != 0)
        snprintf(why, n, "certificate verification failed: %s", F.verify_string(v));
    else if (e == SSL_ERROR_SSL_)
        ssl_error("TLS handshake failed", why, n);
    else
        snprintf(why, n, "TLS handshake failed (the peer closed the connection)");
    return -1;
}

long scope_tls_write(void *ssl, const char *p, size_t len)
{
    F.err_clear();
    int r = F.write(ssl, p, len > (1u << 30) ? 1 << 30 : (int)len);
    if (r > 0)
        return r;
    int e = F.get_error(ssl, r);
    return e == SSL_ERROR_WANT_READ_ || e == SSL_ERROR_WANT_WRITE_ ? 0 : -1;
}

/* Whatever the receiver sent (TLS 1.3 session tickets, say) is read and thrown away; its
 * close_notify, an end of stream or an error means the connection is gone. */
bool scope_tls_peer_gone(void *ssl)
{
    char tmp[4096];
    for (int i = 0; i < 64; i++) {
        F.err_clear();
        int r = F.read(ssl, tmp, sizeof tmp);
        if (r > 0)
            continue;
        int e = F.get_error(ssl, r);
        return !(e == SSL_ERROR_WANT_READ_ || e == SSL_ERROR_WANT_WRITE_) || e == SSL_ERROR_ZERO_RETURN_;
    }
    return false;
}

void scope_tls_free(void *ssl, void *ctx)
{
    if (ssl)
        F.ssl_free(ssl);   /* no close_notify: the socket is closed right after */
    if (ctx)
        F.ctx_free(ctx);
}
