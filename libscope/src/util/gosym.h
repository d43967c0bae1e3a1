/* gosym.h — functions of a Go program found by name in its own function table (.gopclntab), which
 * Go's linker keeps in every executable, stripped (-s -w) or not: read by scope-supervise to set
 * its breakpoints in crypto/tls (supervise/gotls.c). */
#ifndef SCOPE_GOSYM_H
#define SCOPE_GOSYM_H
#include <stdint.h>

#include "util/exekind.h"   /* scope_pread_fn */

enum scope_gosym_rc {
    SCOPE_GOSYM_OK,      /* read: each name's address, or 0 when the program has no such function */
    SCOPE_GOSYM_NOTGO,   /* no .gopclntab section: not Go (or its section headers were taken out) */
    SCOPE_GOSYM_OLD,     /* a table from before Go 1.18 (another layout; Go 1.16 and before also pass
                          * arguments on the stack) */
    SCOPE_GOSYM_BAD,     /* a table that does not hold together, or a file that cannot be read */
};

/* Looks up names[0..n) in the 64-bit little-endian ELF executable open at fd; addrs[i] is the entry
 * of names[i] as linked (0: absent). *pie_entry: for a position-independent executable (ET_DYN),
 * its entry point as linked, the addresses being then offsets from where it is loaded (its entry
 * in the running process, AT_ENTRY, less this); 0 otherwise. Reads the table whole (malloc). */
enum scope_gosym_rc scope_gosym_find(int fd, scope_pread_fn pread_fn, const char *const *names, int n, uint64_t *addrs,
                                     uint64_t *pie_entry);

/* Why rc, in words ("" for OK). */
const char *scope_gosym_why(enum scope_gosym_rc rc);
#endif
