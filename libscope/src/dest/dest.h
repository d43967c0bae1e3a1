/* dest.h — where records go: a destination URL, written through a descriptor the reporting thread
 * keeps in its own table, or a transient one from any other thread (dest.c says why); network
 * destinations (unix, tcp, udp, tls) buffer lines and are driven by the reporting thread only
 * (destnet.c). */
#ifndef SCOPE_DEST_H
#define SCOPE_DEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

enum scope_dest_kind { SCOPE_DEST_NONE, SCOPE_DEST_FILE, SCOPE_DEST_STDOUT, SCOPE_DEST_STDERR,
                       SCOPE_DEST_UNSUPPORTED, SCOPE_DEST_UNIX, SCOPE_DEST_TCP, SCOPE_DEST_UDP,
                       SCOPE_DEST_TLS };

struct scope_net;   /* destnet.h: a network destination's connection and buffer */

struct scope_dest {
    enum scope_dest_kind kind;
    const char *what;    /* "event", "metric", "log": for diagnostics */
    char url[512];
    char path[4096];
    int fd;              /* the reporting thread's; -1 when not open */
    int lent;            /* a copy of the app's stdout/stderr, made for the reporting thread */
    dev_t dev;
    ino_t ino;
    bool told;           /* "unsupported"/"failed" logged once */
    bool awaiting;       /* a file waiting for its descriptor from a handover (attachfds.h) */
    bool given;          /* its descriptor came from a handover: the path may not open for us */
    uint64_t dropped;    /* lines we could not deliver */
    uint64_t cap;        /* file://PATH: bytes the file may grow to (SCOPE_FILE_MAXBYTES), 0: no cap */
    bool capped;         /* the cap was reached: nothing more is written to it */
    bool cap_reached;    /* this process's write reached it: the notice is owed (report.c) */
    uint64_t lines;      /* lines delivered */
    /* Connection state, for the control socket's status: */
    uint64_t attempts, failures;   /* opens tried; of those (and of writes) failed */
    char last_failure[512];        /* "" when none */
    int64_t last_failure_time;     /* epoch seconds, 0: none */
    int64_t connected_since;       /* epoch seconds, 0: not connected */
    bool down;                     /* the last open failed: retried at retry_ms, no sooner */
    uint64_t retry_ms;             /* CLOCK_MONOTONIC ms of the next attempt while down */
    uint32_t backoff_ms;           /* 1 s doubling to 256 s; 0 after a success */
    /* Network kinds only: */
    struct scope_net *net;         /* owned; NULL for the other kinds */
    bool connecting;               /* resolving, connecting or in the TLS handshake */
    uint64_t buffered;             /* bytes waiting in our buffer */
};

/* The exit's deadline (CLOCK_MONOTONIC ms; 0: none): a write to a pipe, socket or terminal that
 * would block waits until then at most, and what it could not write is dropped and counted. */
extern _Atomic uint64_t scope_dest_stop_ms;

/* One line written to a capped file past its cap: the notice saying the cap was reached. */
void scope_dfile_write_notice(struct scope_dest *d, const char *buf, size_t len);

/* True in the reporting thread: it keeps descriptors open; every other thread writes transiently. */
extern __thread bool scope_dest_keeps_fds __attribute__((tls_model("initial-exec")));

/* Parses the URL and checks the file can be opened; opens nothing that stays open. While a
 * handover is pending (attachfds.h), a file is not opened: it waits for scope_dest_give. */
void scope_dest_open(struct scope_dest *d, const char *url, const char *what);
/* Reporting thread, after a handover: a file destination waiting for its descriptor takes fd (it
 * is then written through it, in the thread's own table); given none (fd -1), it opens its path
 * as usual, and why (the handover's failure, or "") goes into its last failure if that fails. */
void scope_dest_give(struct scope_dest *d, int fd, const char *why);
/* Handing the app's stdout/stderr to the reporting thread's own table, without a race with the app
 * closing them: the starting thread lends a copy (lend), the reporting thread keeps it in its copy
 * of the table (adopt returns the fd to keep, or -1), then the starting thread closes its own
 * (unlend) — only once the reporting thread has its own table. */
void scope_dest_lend(struct scope_dest *d);
int scope_dest_adopt(struct scope_dest *d);
void scope_dest_unlend(struct scope_dest *d);
/* Writes buf (whole lines) completely; returns false (and counts) when the lines were dropped. */
bool scope_dest_write(struct scope_dest *d, const char *buf, size_t len, size_t lines);
bool scope_dest_on(const struct scope_dest *d);
/* Reporting thread, each turn of its loop: a destination that is down is tried again once its
 * backoff has passed (so it comes up with nothing to write). True when it just came up. */
bool scope_dest_tick(struct scope_dest *d);
/* Reporting thread: closes what it keeps open and forgets the destination (kind NONE). */
void scope_dest_close(struct scope_dest *d);
/* Network kinds (reporting thread): each turn, after scope_dest_tick, sends what is buffered as far
 * as the socket takes it now. With final, returns whether waiting a little more may deliver more
 * (progress is being made, or a connection started moments ago may still complete). */
bool scope_dest_pump(struct scope_dest *d, bool final);
/* At exit, a network destination that is down and has lines waiting is tried once more now. */
void scope_dest_last_chance(struct scope_dest *d);
/* An exec's flush is over (the exec may fail and the process go on): attempts are ordinary again. */
void scope_dest_end_over(struct scope_dest *d);
/* Lines that must open a new connection (the process-start record): put before what is buffered.
 * For the other kinds the same as scope_dest_write. */
bool scope_dest_write_first(struct scope_dest *d, const char *buf, size_t len, size_t lines);
bool scope_dest_is_net(const struct scope_dest *d);
/* At the end: lines still buffered count as dropped; "N lines delivered, M dropped" is logged when
 * anything was dropped. */
void scope_dest_final(struct scope_dest *d);
/* In a forked child: the parent's connection lives in the parent's reporting thread and its
 * buffered lines are the parent's; forget both (nothing is closed or freed). */
void scope_dest_child(struct scope_dest *d);
/* "connected", "connecting", "down" or "off". */
const char *scope_dest_state(const struct scope_dest *d);
int scope_fd_high(int fd);

#endif
