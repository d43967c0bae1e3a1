/* real.c — the real libc functions, generated from interpose/interpose.def: one pointer each,
 * resolved together with dlsym(RTLD_NEXT), for our wrappers (interpose/) and for libscope's own
 * calls alike (libc.h says why the latter never use the public names). The hook table that pairs
 * them with our wrappers for the GOT patcher is the interposition layer's (interpose/hooks.c). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "libc/libc.h"

__thread int scope_guard __attribute__((tls_model("initial-exec")));

#define SCOPE_FN(ret, name, params, cat) ret(*scope_real_##name) params;
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
 * or an odd link order) would make a wrapper call itself forever; a missing function is better. */
static bool in_self(const void *p, const void *self_base)
{
    Dl_info d;
    return self_base && dladdr(p, &d) && d.dli_fbase == self_base;
}

bool scope_in_self(const void *p)
{
    Dl_info self;
    return in_self(p, dladdr((void *)&scope_in_self, &self) ? self.dli_fbase : NULL);
}

static void resolve_all(void)
{
    Dl_info self;
    const void *base = dladdr((void *)&resolve_all, &self) ? self.dli_fbase : NULL;
    for (int i = 0; i < SCOPE_FN_COUNT; i++) {
        void *p = dlsym(RTLD_NEXT, scope_fn_name[i]);
        if (p && in_self(p, base)) {
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
