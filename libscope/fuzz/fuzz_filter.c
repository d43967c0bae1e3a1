/* fuzz_filter — the filter language (src/config/filterparse.c, filterval.c): SCOPE_FILTER and SCOPE_FILTER_NAMES text
 * parsed into scopes and freed (LeakSanitizer sees what an error path forgets). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "../src/config/filterdef.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    static struct fscopes fs;
    memset(&fs, 0, sizeof fs);
    const char *bad;
    (void)scope_filter_parse(text, &fs, &bad);
    scope_filter_names(text, &fs);
    scope_filter_free(&fs);
    free(text);
    return 0;
}
