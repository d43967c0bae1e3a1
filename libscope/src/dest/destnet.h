/* destnet.h — inside the destinations: files (destfile.c), the connection and buffer of a network
 * destination (destnet.c, destsend.c, destconn.c), libssl loaded at run time (desttls.c), and the state
 * helpers dest.c shares with them (backoff, failures). Not used outside dest*.c. */
#ifndef SCOPE_DESTNET_H
#define SCOPE_DESTNET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct scope_dest;

/* Why 1 MiB: enough for some seconds of a busy process's events (a few thousand lines) while the
 * receiver restarts, small beside the 8 MiB resident budget, per destination. SCOPE_DEST_BUFFER. */
#define SCOPE_NET_BUFFER_DEFAULT (1024 * 1024)
#define SCOPE_NET_MAX_ADDRS 8

enum scope_net_phase { NP_DOWN, NP_RESOLVING, NP_CONNECTING, NP_HANDSHAKE, NP_UP };

struct scope_resolve;   /* destconn.c: a lookup shared with its helper thread */

struct scope_net {
    /* where, from the URL and the settings, fixed at open */
    char host[256], port[8];
    struct sockaddr_storage lit;   /* a unix path or a literal address: no lookup */
    socklen_t litlen;
    int socktype;                  /* SOCK_STREAM or SOCK_DGRAM */
    bool tls, verify, ip_literal;
    char ca[1024];                 /* "" : the system's default verify paths */
    uint64_t timeout_ms;           /* SCOPE_CONNECT_TIMEOUT_SECS: a pending connect or handshake */
    /* the connection: the reporting thread's only */
    enum scope_net_phase phase;
    int fd;
    void *ssl, *ctx;
    uint64_t phase_ms;             /* when the current phase began */
    uint64_t progress_ms;          /* when bytes last went out (or the connection came up) */
    bool fresh;                    /* just came up: scope_dest_tick has yet to say so */
    bool at_end;                   /* an exit or exec is retrying this down destination once more */
    bool begun_at_end;             /* the current attempt was begun then: never waited for */
    struct scope_resolve *res;
    struct sockaddr_storage addr[SCOPE_NET_MAX_ADDRS];
    socklen_t alen[SCOPE_NET_MAX_ADDRS];
    int naddr, next;
    /* whole lines not yet written; out bytes of the first one already went out on this connection */
    char *buf;
    size_t len, cap, max, out;
    size_t tls_retry;              /* an SSL_write to repeat with this very length (WANT_*) */
};

/* dest.c */
uint64_t scope_dest_mono_ms(void);
void scope_dest_failed(struct scope_dest *d, const char *op, const char *why);
void scope_dest_went_down(struct scope_dest *d, const char *op, const char *why);
void scope_dest_came_up(struct scope_dest *d);
bool scope_dest_due(const struct scope_dest *d);

/* destfile.c */
bool scope_dfile_open(struct scope_dest *d, const char *url);
bool scope_dfile_tick(struct scope_dest *d);
/* The bytes written: all of them, or whole lines up to a failure (the rest is not written). */
size_t scope_dfile_write(struct scope_dest *d, const char *buf, size_t len);

/* destnet.c */
bool scope_dnet_open(struct scope_dest *d, const char *url);
void scope_dnet_close(struct scope_dest *d);
bool scope_dnet_tick(struct scope_dest *d);
bool scope_dnet_write(struct scope_dest *d, const char *buf, size_t len, size_t lines, bool first);
bool scope_dnet_pump(struct scope_dest *d, bool final);
void scope_dnet_final(struct scope_dest *d);
void scope_dnet_child(struct scope_dest *d);

/* destsend.c */
void scope_dnet_lost(struct scope_dest *d, const char *op, const char *why);
/* Reporting thread: sends what the socket takes now (nothing while the connection is fresh). */
void scope_dnet_flush(struct scope_dest *d);
size_t scope_lines_count(const char *p, size_t len);
/* The longest run of whole lines of p that fits in room bytes. */
size_t scope_lines_fit(const char *p, size_t len, size_t room);

/* destconn.c: moving a connection forward (resolve, connect, handshake), no data */
void scope_conn_step(struct scope_dest *d);
void scope_conn_drop(struct scope_net *n);
bool scope_conn_parse(struct scope_net *n, const char *url, int kind, char *why, size_t whylen);

/* desttls.c: libssl, found at run time */
bool scope_tls_load(char *why, size_t n);
void *scope_tls_start(int fd, const char *host, bool ip_literal, bool verify, const char *ca,
                      void **ctx, char *why, size_t n);
int scope_tls_handshake(void *ssl, char *why, size_t n);   /* 1 done, 0 again, -1 failed */
long scope_tls_write(void *ssl, const char *p, size_t len);  /* bytes, 0 again, -1 lost */
bool scope_tls_peer_gone(void *ssl);                         /* reads and discards what came */
void scope_tls_free(void *ssl, void *ctx);
#endif
