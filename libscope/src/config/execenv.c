/* execenv.c — the settings an exec carries to the new image: LD_PRELOAD naming this library (and,
 * in the sanitized build, the ASan runtime), the SCOPE_* variables in force, the filter scopes
 * the image may follow, the descriptors handed over after a change of user. Taken at init or after
 * a config change (scope_exec_prepare, malloc allowed); the exec wrappers (interpose/wrap_exec.c)
 * then build the new environment on their own stack (scope_exec_env: no allocation, a vfork child
 * may run it). It lives in config/ because what it carries is the configuration: the control
 * thread (control/ctl.c) updates it after a change of settings, and turns it off on detach,
 * without reaching into the interposition layer. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/execenv.h"
#include "config/filter.h"
#include "control/handover.h"
#include "report/ident.h"
#include "scope.h"

extern char **environ;

static char preload_var[2 * PATH_MAX + 16];   /* "LD_PRELOAD=<this library>" */
static char self_buf[PATH_MAX];
static const char *self_path;
/* "SCOPE_X=..." handed to the new image. Replaced whole after a config change while an exec may
 * be reading the old set on another thread: an old set is never freed (a few per process). */
struct carry {
    int n;
    bool override;    /* attach: these replace the SCOPE_* of the app's environment */
    char *v[MAX_CARRIED];
};
static struct carry *_Atomic carried;
static _Atomic bool exec_keep;

/* Init time or a config change (malloc allowed): everything execve needs later without
 * allocating. Started by LD_PRELOAD, the new image is given the SCOPE_* the environment had at
 * start; attached, the settings in force (the environment's SCOPE_* were never ours). */
#ifdef SCOPE_SANITIZED
/* The sanitized build (npm run test:sanitize) needs the ASan runtime preloaded too, after us
 * (test/lib.ts says why): an image we preload ourselves into gets it as well. */
void __asan_init(void);
static const char *preload_also(void)
{
    Dl_info rt;
    if (dladdr((void *)&__asan_init, &rt) && rt.dli_fname && rt.dli_fname[0] == '/')
        return rt.dli_fname;
    return "";
}
#else
static const char *preload_also(void) { return ""; }
#endif

/* A variable the new image gets from us when its environment lacks it: ours, and in the sanitized
 * build the runtime's settings (an image started with an empty environment would otherwise refuse
 * the runtime's place in LD_PRELOAD, and report nowhere). */
static bool carried_var(const char *e)
{
    if (!strchr(e, '='))
        return false;
#ifdef SCOPE_SANITIZED
    if (!strncmp(e, "ASAN_OPTIONS=", 13) || !strncmp(e, "LSAN_OPTIONS=", 13) ||
        !strncmp(e, "UBSAN_OPTIONS=", 14) || !strncmp(e, "LIBSCOPE_SANITIZER_LOG=", 23))
        return true;
#endif
    return !strncmp(e, "SCOPE_", 6);
}

void scope_exec_prepare(bool from_config)
{
    Dl_info info;
    if (!self_path && dladdr((void *)&scope_exec_prepare, &info) && info.dli_fname &&
        info.dli_fname[0] == '/') {
        const char *also = preload_also();
        int k = snprintf(self_buf, sizeof self_buf, "%s", info.dli_fname);
        if (k > 0 && (size_t)k < sizeof self_buf) {
            k = snprintf(preload_var, sizeof preload_var, "LD_PRELOAD=%s%s%s", self_buf, *also ? ":" : "", also);
            if (k > 0 && (size_t)k < sizeof preload_var)
                self_path = self_buf;
        }
    }
    atomic_store(&exec_keep, scope_cfg.execve);
    if (!from_config && atomic_load(&carried))
        return;   /* preloaded: the environment of the start stays what the new image gets */
    struct carry *c = calloc(1, sizeof *c);
    if (!c)
        return;
    if (from_config) {
        c->override = true;
        for (size_t i = 0; i < scope_cfg.npairs && c->n < MAX_CARRIED; i++) {
            size_t kl = strlen(scope_cfg.pairs[i].key), vl = strlen(scope_cfg.pairs[i].val);
            char *v = malloc(kl + vl + 2);
            if (!v)
                break;
            memcpy(v, scope_cfg.pairs[i].key, kl);
            v[kl] = '=';
            memcpy(v + kl + 1, scope_cfg.pairs[i].val, vl + 1);
            c->v[c->n++] = v;
        }
    } else {
        for (char **e = environ; e && *e && c->n < MAX_CARRIED; e++)
            if (carried_var(*e))
                c->v[c->n++] = strdup(*e);
    }
    /* The set it replaces is not freed: an exec on another thread (or in a vfork child) may be
     * copying it right now, without a lock. One set per settings update. */
    scope_left_behind(atomic_exchange(&carried, c));
}

void scope_exec_off(void) { atomic_store(&exec_keep, false); }

const char *scope_exec_self(void)
{
    return atomic_load(&exec_keep) && self_path && atomic_load(&carried) ? self_path : NULL;
}

static bool has_key(char *const envp[], const char *var)
{
    size_t klen = strcspn(var, "=") + 1;
    for (size_t i = 0; envp && envp[i]; i++)
        if (!strncmp(envp[i], var, klen))
            return true;
    return false;
}

#define FOLLOW_KEY "SCOPE_FILTER_FOLLOW="

/* Fills env (room for n + ENV_EXTRA entries) with the environment that keeps the new image
 * scoped and names the filter scopes it may follow; merged is room for a combined LD_PRELOAD.
 * Returns envp itself when nothing needs changing. Stack memory only (a vfork child). */
static bool preload_has_self(char *const envp[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strncmp(envp[i], "LD_PRELOAD=", 11) && strstr(envp[i] + 11, self_path))
            return true;
    return false;
}

bool scope_exec_without_self(const char *var, char *out, size_t cap)
{
    if (!self_path)
        return false;
    size_t self_len = strlen(self_path), k = 11, left = 0;
    if (cap < 12)
        return false;
    memcpy(out, "LD_PRELOAD=", 11);
    for (const char *p = var + 11; *p;) {
        size_t len = strcspn(p, ": ");
        if (len && !(len == self_len && !memcmp(p, self_path, len)) && k + len + 2 < cap) {
            if (left)
                out[k++] = ':';
            memcpy(out + k, p, len);
            k += len;
            left++;
        }
        p += len;
        while (*p == ':' || *p == ' ')
            p++;
    }
    out[k] = 0;
    return left > 0;
}

char *const *scope_exec_env(char *const envp[], size_t n, char **env, char *merged, size_t mlen,
                            char hand[SCOPE_PIN_COUNT][32], bool supervised)
{
    /* The new image keeps this pid and so its parent: what it may follow is what our parent
     * matched, whatever value the environment inherited (even when the image is scoped only
     * because the app kept LD_PRELOAD). */
    const char *follow = scope_filter_follow_var(scope_vforked());
    struct carry *c = atomic_load(&carried);
    bool keep = atomic_load(&exec_keep) && self_path && c;
    /* SCOPE_EXECVE=false: the new image must not load us, even from an inherited LD_PRELOAD */
    bool strip = !atomic_load(&exec_keep) && self_path && preload_has_self(envp, n);
    if (!keep && !follow && !strip && !supervised)
        return envp;
    size_t flen = follow ? sizeof FOLLOW_KEY - 1 : 0;
    size_t k = 0;
    bool preload = !keep;
    for (size_t i = 0; i < n; i++) {
        char *v = envp[i];
        if (flen && !strncmp(v, FOLLOW_KEY, flen))
            continue;
        if (!strncmp(v, "SCOPE_HOST_PID=", 15))
            continue;   /* ours, for one image only (ident.c) */
        if (supervised && !strncmp(v, "SCOPE_SUPERVISED=", 17))
            continue;
        if (keep && c->override && !strncmp(v, "SCOPE_", 6))
            continue;
        if (strip && !strncmp(v, "LD_PRELOAD=", 11)) {
            if (!scope_exec_without_self(v, merged, mlen))
                continue;   /* nothing else was preloaded: the variable goes */
            v = merged;
        }
        if (keep && !strncmp(v, "LD_PRELOAD=", 11)) {
            preload = true;
            if (!strstr(v + 11, self_path) &&
                (size_t)snprintf(merged, mlen, "%s:%s", preload_var, v + 11) < mlen)
                v = merged;
        }
        env[k++] = v;
    }
    if (!preload)
        env[k++] = preload_var;
    for (int i = 0; keep && i < c->n; i++)
        if ((c->override || !has_key(envp, c->v[i])) && !(flen && !strncmp(c->v[i], FOLLOW_KEY, flen)))
            env[k++] = c->v[i];
    if (follow)
        env[k++] = (char *)follow;
    for (int i = 0; keep && i < SCOPE_PIN_COUNT; i++)
        if (hand[i][0])
            env[k++] = hand[i];
    const char *host = keep ? scope_ident_host_var() : NULL;
    if (host)
        env[k++] = (char *)host;
    if (supervised)   /* followed from outside (interpose/supexec.c): its tree's libscopes know */
        env[k++] = "SCOPE_SUPERVISED=1";
    env[k] = NULL;
    return env;
}

/* Descriptors pinned after a change of user go to the new image (handover.c), if it is to be
 * scoped at all. */
void scope_exec_handing(int fds[SCOPE_PIN_COUNT], char vars[SCOPE_PIN_COUNT][32])
{
    if (atomic_load(&exec_keep) && self_path && atomic_load(&carried)) {
        scope_pin_pull();
        scope_pin_hand(fds, vars);
    }
    else
        for (int i = 0; i < SCOPE_PIN_COUNT; i++) {
            fds[i] = -1;
            vars[i][0] = 0;
        }
}
