/* real.c — the real libc functions, generated from interpose/interpose.def: one pointer each,
 * resolved together with dlsym(RTLD_NEXT), for our wrappers (interpose/) and for libscope's own
 * calls alike (libc.h says why the latter never use the public names). The hook table that pairs
 * them with our wrappers for the GOT patcher is the interposition layer's (interpose/hooks.c). */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "libc/libc.h"

__thread int scope_guard __attribute__((tls_model("initial-exec")));

#define SCOPE_FN(ret, name, params, cat) SCOPE_HOT_DATA ret(*scope_real_##name) params;
#include "interpose/interpose.def"
#undef SCOPE_FN

const unsigned char scope_fn_cat[SCOPE_FN_COUNT] = {
#define SCOPE_FN(ret, name, params, cat) SCOPE_CAT_##cat,
#include "interpose/interpose.def"
#undef SCOPE_FN
};

const char *const scope_fn_name[SCOPE_FN_COUNT] = {
#define SCOPE_FN(ret, name, params, cat) #name,
#include "interpose/interpose.def"
#undef SCOPE_FN
};

void **const scope_real_slot[SCOPE_FN_COUNT] = {
#define SCOPE_FN(ret, name, params, cat) (void **)&scope_real_##name,
#include "interpose/interpose.def"
#undef SCOPE_FN
};

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static bool missing[SCOPE_FN_COUNT], ours[SCOPE_FN_COUNT];

/* Whether p lies in this library: dlsym handing back one of our own definitions (loaded twice,
 * or an odd link order) would make a wrapper call itself forever; a missing function is better.
 * Told by the address range of our loaded segments, found once: dladdr, which also looks for the
 * nearest symbol, cost ~90 000 instructions a call, 5 ms of every scoped process's start. */
struct self_range {
    const void *probe;
    uintptr_t lo, hi;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct self_range *r = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0, at = (uintptr_t)r->probe;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t b = info->dlpi_addr + ph->p_vaddr, e = b + ph->p_memsz;
        lo = b < lo ? b : lo;
        hi = e > hi ? e : hi;
    }
    if (at < lo || at >= hi)
        return 0;
    r->lo = lo;
    r->hi = hi;
    return 1;
}

static struct self_range self_range(void)
{
    struct self_range r = {.probe = (const void *)&scope_in_self};
    dl_iterate_phdr(find_self, &r);
    return r;
}

static bool in_range(const void *p, const struct self_range *r)
{
    return r->hi && (uintptr_t)p >= r->lo && (uintptr_t)p < r->hi;
}

bool scope_in_self(const void *p)
{
    struct self_range r = self_range();
    return in_range(p, &r);
}

static void resolve_all(void)
{
    struct self_range self = self_range();
    for (int i = 0; i < SCOPE_FN_COUNT; i++) {
        void *p = dlsym(RTLD_NEXT, scope_fn_name[i]);
        if (p && in_range(p, &self)) {
            ours[i] = true;
            p = NULL;
        }
        if (!p)
            missing[i] = true;
        __atomic_store_n(scope_real_slot[i], p, __ATOMIC_RELEASE);
    }
}

bool scope_resolve(enum scope_fn fn)
{
    pthread_once(&resolve_once, resolve_all);
    return !missing[fn];
}

bool scope_real_ours(enum scope_fn fn)
{
    pthread_once(&resolve_once, resolve_all);
    return ours[fn];
}
