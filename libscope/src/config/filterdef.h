/* filterdef.h — the scopes SCOPE_FILTER describes, as filterparse.c builds them (with the values
 * of filterval.c) and filter.c applies them (private to those three). */
#ifndef SCOPE_FILTERDEF_H
#define SCOPE_FILTERDEF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCOPE_MAX_SCOPES 64
#define SCOPE_BIT(n) ((uint64_t)1 << ((n) - 1))   /* scope n, 1..64 */

/* A value as a filter gives it: text, where one leading and/or one trailing `*` make a suffix,
 * prefix or contains pattern, and the number it also is (when it is a decimal number). */
enum { FV_EXACT, FV_PREFIX, FV_SUFFIX, FV_CONTAINS };
struct fval {
    char *s;       /* without the pattern's stars */
    size_t n;
    int wild;
    bool isnum;
    double num;
    uint64_t ns;   /* binary=MNTNS:PATH: the mount namespace it needs too (0: any) */
};
struct fset {
    struct fval *v;
    size_t n;
};
/* One kind in one scope: the equal set, the not-equal set and the range. */
struct fcond {
    struct fset eq, ne;
    bool has_lo, has_hi;
    double lo, hi;
};

/* The kinds about the process: constant between its start, a fork and an exec. */
enum { FK_COMM, FK_BINARY, FK_PID, FK_PPID, FK_UID, FK_GID, FK_HOST, FK_CONTAINER, FK_MNTNS,
       FK_PIDNS, FK_TREE, FK_COUNT };

/* EVENT.data.FIELD or EVENT.error, constraining only records whose source is EVENT. */
struct fdata {
    char *event, *field;   /* field NULL: EVENT.error */
    struct fcond c;
    signed char fail;      /* EVENT.error: records must be failures (1), must not be (0) */
};

struct fscope {
    bool used[FK_COUNT];
    struct fcond proc[FK_COUNT];
    signed char pid_new, container, follow;   /* -1 not given, else the boolean given */
    bool all_events;                                 /* event=* */
    struct fcond event;
    bool has_sourcetype;
    struct fcond sourcetype;
    struct fdata *data;
    size_t ndata;
    char *name;   /* SCOPE_FILTER_NAMES, else the number */
};

struct fscopes {
    struct fscope s[SCOPE_MAX_SCOPES + 1];   /* by number; [0] unused */
    uint64_t defined;
};

/* The events a filter may name besides log files (an absolute path), start.msg last, and the
 * sourcetype of each. */
#define SCOPE_FEV_COUNT 19
#define SCOPE_FEV_START (SCOPE_FEV_COUNT - 1)
extern const char *const scope_fev_name[SCOPE_FEV_COUNT];
extern const char *const scope_fev_type[SCOPE_FEV_COUNT];
int scope_fev_index(const char *name);   /* -1: not one of them */
/* A decimal number (-?digits[.digits]), read whatever the app's locale. */
bool scope_filter_number(const char *s, size_t n, double *out);

/* Parses the text of SCOPE_FILTER into *out (zeroed by the caller). NULL when it is good, else
 * why, with *bad set to the filter at fault (both valid until the next call). */
const char *scope_filter_parse(const char *text, struct fscopes *out, const char **bad);
/* Names from SCOPE_FILTER_NAMES (`N=NAME;…`); malformed entries are logged and skipped. */
void scope_filter_names(const char *text, struct fscopes *fs);
void scope_filter_free(struct fscopes *fs);

/* Adds text to a set (filterparse.c builds them); pattern: one leading and/or trailing `*` makes a
 * suffix, prefix or contains pattern. False when memory runs out. */
bool scope_fset_add(struct fset *set, const char *text, bool pattern, uint64_t ns);
/* Value matching (filter.c). */
bool scope_fset_has_str(const struct fset *set, const char *s, size_t n);
bool scope_fset_has_num(const struct fset *set, double v);
#endif
