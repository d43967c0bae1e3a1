/* redact.h — credentials given on the command line, kept out of `cmd`. */
#ifndef SCOPE_REDACT_H
#define SCOPE_REDACT_H
#include <stdbool.h>
#include <stddef.h>

/* The command line of /proc/self/cmdline (arguments each ended by a NUL, n bytes) joined by one
 * space into out (always terminated, cut at cap), each argument's secrets replaced by
 * "[REDACTED]" when redact is set. The rules and the word list are those of @scope/core's
 * redactArgs (packages/core/src/redact.ts), which documents them; the two are kept equal by
 * test/redact.test.ts. */
void scope_redact_cmdline(const char *raw, size_t n, char *out, size_t cap, bool redact);
#endif
