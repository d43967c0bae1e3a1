/* fuzz_classfile — the class-file rewriter of libscope's Java agent (src/util/classfile.c): any bytes
 * as a class file, the JDK's stream and engine methods wrapped when found; what comes out is read
 * whole, then rewritten again. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"

#include "../src/util/classfile.h"

static const uint8_t code[] = {0x2a, 0x2b, 0x1c, 0x1d, 0xb8, 0xff, 0x00, 0x2a, 0x2b, 0x1c, 0x1d, 0xb7, 0xff, 0x40, 0xb1};
static const struct scope_cf_wrap wraps[] = {{"write", "([BII)V", code, sizeof code, 4, 4},
                                             {"read", "([BII)I", code, sizeof code, 4, 5}};
static const struct scope_cf_native natives[] = {{"scope$out", "(Ljava/lang/Object;[BII)V"}};
static const struct scope_cf_field fields[] = {{"scope$fd", "I"}};

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode(&data, &size, &mode))
        return 0;
    int nwraps = (mode & 1) ? 2 : 1;
    size_t n = 0;
    unsigned char *out = scope_cf_wrap(data, size, wraps, nwraps, natives, 1, fields, (mode & 2) ? 1 : 0, &n);
    if (out) {
        fuzz_touch(out, n);
        size_t n2 = 0;
        unsigned char *again = scope_cf_wrap(out, n, wraps, 1, natives, 1, fields, 1, &n2);
        if (again)
            fuzz_touch(again, n2);
        free(again);
        free(out);
    }
    return 0;
}
