/* fuzz_config — the KEY=VALUE reader of scope.env files and attach/update requests
 * (scope_config_parse in src/config/config.c). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "../src/config/config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct scope_kv *kv;
    size_t n = scope_config_parse(text, &kv);
    volatile size_t sink = 0;
    for (size_t i = 0; i < n; i++)
        sink += strlen(kv[i].key) + strlen(kv[i].val);
    (void)sink;
    scope_kv_free(kv, n);
    free(text);
    return 0;
}
