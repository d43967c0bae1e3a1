/* real.c — the real libc functions behind our wrappers, generated from interpose.def: one pointer
 * each, resolved together with dlsym(RTLD_NEXT), plus the hook list a GOT patcher uses. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <wchar.h>
#include <unistd.h>

#include "log.h"
#include "scope.h"

/* Declaring every wrapper from the table makes the compiler reject a table row whose prototype
 * disagrees with libc's, and declares the fortify/_2 variants glibc only declares under fortify. */
#define SCOPE_FN(ret, name, params, cat) SCOPE_API ret name params;
#include "interpose.def"
#undef SCOPE_FN

#define SCOPE_FN(ret, name, params, cat) ret(*scope_real_##name) params;
#include "interpose.def"
#undef SCOPE_FN

const unsigned char scope_fn_cat[SCOPE_FN_COUNT] = {
#define SCOPE_FN(ret, name, params, cat) SCOPE_CAT_##cat,
#include "interpose.def"
#undef SCOPE_FN
};

const struct scope_hook scope_hooks[SCOPE_FN_COUNT] = {
#define SCOPE_FN(ret, name, params, cat) {#name, #cat, (void *)&name, (void **)&scope_real_##name},
#include "interpose.def"
#undef SCOPE_FN
};

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static bool missing[SCOPE_FN_COUNT], ours[SCOPE_FN_COUNT];

static void resolve_all(void)
{
    for (int i = 0; i < SCOPE_FN_COUNT; i++) {
        void *p = dlsym(RTLD_NEXT, scope_hooks[i].name);
        /* Our own wrapper coming back (library loaded twice, or odd link order) would recurse
         * forever; a missing function is better. */
        if (p == scope_hooks[i].wrapper) {
            ours[i] = true;
            p = NULL;
        }
        if (!p)
            missing[i] = true;
        __atomic_store_n(scope_hooks[i].real, p, __ATOMIC_RELEASE);
    }
}

bool scope_resolve(enum scope_fn fn)
{
    pthread_once(&resolve_once, resolve_all);
    return !missing[fn];
}

/* Logged once the log destination exists (resolution itself happens before config is read). */
void scope_log_missing(void)
{
    for (int i = 0; i < SCOPE_FN_COUNT; i++)
        if (ours[i])
            scope_log(SCOPE_LOG_ERROR, "dlsym(RTLD_NEXT, \"%s\") returned our own wrapper; "
                      "treated as missing, calls to it fail with ENOSYS", scope_hooks[i].name);
        else if (missing[i])
            scope_log(SCOPE_LOG_DEBUG, "%s not found in libc; calls to it fail with ENOSYS",
                      scope_hooks[i].name);
}
