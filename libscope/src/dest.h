/* dest.h — where records go: a destination URL opened as a descriptor we own and keep alive. */
#ifndef SCOPE_DEST_H
#define SCOPE_DEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum scope_dest_kind { SCOPE_DEST_NONE, SCOPE_DEST_FILE, SCOPE_DEST_STDOUT, SCOPE_DEST_STDERR,
                       SCOPE_DEST_UNSUPPORTED };

struct scope_dest {
    enum scope_dest_kind kind;
    const char *what;    /* "event", "metric", "log": for diagnostics */
    char url[512];
    char path[4096];
    int fd;              /* ours, moved high; -1 when not open */
    dev_t dev;
    ino_t ino;
    bool told;           /* "unsupported"/"failed" logged once */
    uint64_t dropped;    /* lines we could not deliver */
};

void scope_dest_open(struct scope_dest *d, const char *url, const char *what);
/* Writes buf (whole lines) completely, reopening the descriptor first if the app closed or
 * replaced it. Returns false (and counts) when the lines were dropped. */
bool scope_dest_write(struct scope_dest *d, const char *buf, size_t len, size_t lines);
bool scope_dest_on(const struct scope_dest *d);
int scope_fd_high(int fd);

#endif
