/* watch.h — AppScope's event watch types and their name / field / value filters. */
#ifndef SCOPE_WATCH_H
#define SCOPE_WATCH_H
#include <stdbool.h>
#include <stddef.h>

enum scope_watch { SCOPE_W_FILE, SCOPE_W_CONSOLE, SCOPE_W_FS, SCOPE_W_NET, SCOPE_W_DNS, SCOPE_W_HTTP,
                   SCOPE_W_COUNT };

/* One data field of an event: a string (s, n bytes) or a number. */
struct scope_field {
    const char *key;
    const char *s;
    size_t n;
    long long num;
    bool json;   /* s is a JSON value written as it is (an array) */
    size_t klen; /* strlen(key), or 0: measured when written */
};

/* events: an event destination is on; without one every type is off. */
void scope_watch_load(bool events);
bool scope_watch_on(enum scope_watch w);
/* Every type off (or back as loaded): SCOPE_FILTER found that no event of this process can match. */
void scope_watch_mute(bool mute);
/* The event's source passes the type's name filter. */
bool scope_watch_name(enum scope_watch w, const char *name);
/* Some field value passes the value filter. */
bool scope_watch_value(enum scope_watch w, const struct scope_field *f, int nf);
/* The field is kept by the field filter. */
bool scope_watch_field(enum scope_watch w, const char *key);
/* Whether any field of type w can be left out (a field pattern is set): else every one is kept. */
bool scope_watch_fields_filtered(enum scope_watch w);
/* The regular expression the setting `key` holds (PCRE escapes translated), or NULL when it is
 * unset, matches everything, or cannot be used (logged). */
#include <regex.h>
regex_t *scope_watch_compile(const char *key);
#endif
