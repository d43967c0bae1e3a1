/* openmode.h — for the bench's preloads (nullpreload.c, nosyscall.c): the mode argument of an
 * open(path, flags, ...) wrapper, read only when the flags say one was passed. Used inside the
 * variadic function itself (va_start needs its last named parameter). */
#ifndef BENCH_OPENMODE_H
#define BENCH_OPENMODE_H
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

#define OPEN_MODE(flags, mode)                                                                \
    do {                                                                                      \
        if ((flags) & (O_CREAT | O_TMPFILE)) {                                                \
            va_list ap_;                                                                      \
            va_start(ap_, flags);                                                             \
            (mode) = va_arg(ap_, mode_t);                                                     \
            va_end(ap_);                                                                      \
        }                                                                                     \
    } while (0)
#endif
