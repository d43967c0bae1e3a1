/* fuzz.h — what the fuzz targets share: reading every byte a parser hands out (so ASan sees a read
 * past what it points into), the input as a C string, and its first byte as the mode. */
#ifndef SCOPE_FUZZ_H
#define SCOPE_FUZZ_H
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static inline void fuzz_touch(const void *p, size_t n)
{
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < n; i++)
        sink ^= ((const unsigned char *)p)[i];
    (void)sink;
}

/* The input NUL-terminated, on the heap (ASan sees a read past its end); free() it. */
static inline char *fuzz_text(const unsigned char *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = 0;
    }
    return text;
}

/* The first input byte, which picks how the rest is fed; false when there is none. */
static inline bool fuzz_mode(const unsigned char **data, size_t *size, unsigned *mode)
{
    if (*size < 1)
        return false;
    *mode = **data;
    (*data)++;
    (*size)--;
    return true;
}
#endif
