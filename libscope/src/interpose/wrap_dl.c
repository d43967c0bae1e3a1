/* wrap_dl.c — dlopen and dlmopen, for attach mode: what they load is patched (got.c) before they
 * return, so a plugin's first calls are seen as they would be under LD_PRELOAD.
 *
 * These wrappers are hidden: only a patched GOT slot reaches them. Why not exported: glibc's
 * dlopen decides where a bare name is searched by its caller (the calling object's RUNPATH or
 * RPATH, $ORIGIN), from its return address. Through a wrapper, the caller would be libscope,
 * which has neither. Under LD_PRELOAD nothing needs the wrapper, so the app keeps calling libc's
 * dlopen itself. Attached, the wrapper does the caller-dependent part of the search the way the
 * loader would for the real caller: $ORIGIN in the name is the caller's directory; a bare name is
 * first looked for among the loaded objects (RTLD_NOLOAD), then, when the caller has a RUNPATH, in
 * LD_LIBRARY_PATH and that RUNPATH, or when it has an RPATH, in that RPATH; what is left (the
 * executable's RPATH, LD_LIBRARY_PATH, ld.so.cache, the system directories) is the same from
 * libscope as from the caller. Not reproduced: the RPATHs of the objects that loaded the caller. */
#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "control/ctl.h"
#include "scope.h"

/* dlopen is dlmopen(LM_ID_BASE) but for the function called */
static void *real_open(bool m, Lmid_t lmid, const char *file, int mode)
{
    return m ? scope_real_dlmopen(lmid, file, mode) : scope_real_dlopen(file, mode);
}

/* The directory $ORIGIN stands for in names the caller passes. */
static bool origin_of(const struct link_map *lm, char *out, size_t cap)
{
    char exe[PATH_MAX];
    const char *name = lm->l_name;
    if (!name || !*name) {   /* the executable */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return false;
        exe[n] = 0;
        name = exe;
    }
    const char *slash = strrchr(name, '/');
    if (!slash)
        return false;
    size_t n = slash == name ? 1 : (size_t)(slash - name);
    if (n >= cap)
        return false;
    memcpy(out, name, n);
    out[n] = 0;
    return true;
}

/* s (n bytes) with $ORIGIN and ${ORIGIN} replaced; false for any other DST (left to the loader)
 * or no room. */
static bool expand(const char *s, size_t n, const char *origin, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t skip = 0;
        if (s[i] == '$') {
            if (n - i >= 7 && !strncmp(s + i, "$ORIGIN", 7) &&
                (i + 7 == n || !(s[i + 7] == '_' || (s[i + 7] >= 'A' && s[i + 7] <= 'Z'))))
                skip = 7;
            else if (n - i >= 9 && !strncmp(s + i, "${ORIGIN}", 9))
                skip = 9;
            else
                return false;
        }
        if (skip && !origin)
            return false;
        const char *piece = skip ? origin : s + i;
        size_t len = skip ? strlen(origin) : 1;
        if (o + len >= cap)
            return false;
        memcpy(out + o, piece, len);
        o += len;
        i += skip ? skip : 1;
    }
    out[o] = 0;
    return true;
}

/* The caller's own DT_RUNPATH and DT_RPATH strings. */
static void paths_of(const struct link_map *lm, const char **runpath, const char **rpath)
{
    const char *strtab = NULL;
    ElfW(Xword) run = 0, rp = 0;
    bool has_run = false, has_rp = false;
    for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++)
        if (d->d_tag == DT_STRTAB)   /* glibc makes it an address; a read-only dynamic keeps the offset */
            strtab = (const char *)(d->d_un.d_ptr < lm->l_addr ? d->d_un.d_ptr + lm->l_addr : d->d_un.d_ptr);
        else if (d->d_tag == DT_RUNPATH)
            run = d->d_un.d_val, has_run = true;
        else if (d->d_tag == DT_RPATH)
            rp = d->d_un.d_val, has_rp = true;
    *runpath = strtab && has_run ? strtab + run : NULL;
    *rpath = strtab && has_rp && !has_run ? strtab + rp : NULL;
}

static void *search(bool m, Lmid_t lmid, const char *dirs, const char *file, const char *origin, int mode)
{
    char dir[PATH_MAX], path[PATH_MAX];
    for (const char *p = dirs;; p++) {
        size_t n = strcspn(p, ":");
        bool ok = n ? expand(p, n, origin, dir, sizeof dir)
                    : (strcpy(dir, "."), true);   /* an empty entry: the current directory */
        p += n;
        if (ok && (size_t)snprintf(path, sizeof path, "%s/%s", dir, file) < sizeof path &&
            scope_real_access(path, F_OK) == 0) {
            void *h = real_open(m, lmid, path, mode);   /* a mismatch (another ELF class): go on */
            if (h)
                return h;
        }
        if (!*p)
            return NULL;
    }
}

static void *load(bool m, Lmid_t lmid, const char *file, int mode, const void *caller)
{
    Dl_info di;
    struct link_map *lm = NULL;
    if (!file || (m && lmid != LM_ID_BASE) || (strchr(file, '/') && !strchr(file, '$')) ||
        !dladdr1(caller, &di, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return real_open(m, lmid, file, mode);
    char origin[PATH_MAX];
    bool have_origin = origin_of(lm, origin, sizeof origin);
    if (strchr(file, '$')) {
        char path[PATH_MAX];
        if (have_origin && expand(file, strlen(file), origin, path, sizeof path) && strchr(path, '/'))
            return real_open(m, lmid, path, mode);
        return real_open(m, lmid, file, mode);
    }
    const char *runpath, *rpath;
    paths_of(lm, &runpath, &rpath);
    if (!runpath && !rpath)
        return real_open(m, lmid, file, mode);
    void *h = real_open(m, lmid, file, mode | RTLD_NOLOAD);
    if (h)
        return h;
    const char *o = have_origin ? origin : NULL;
    if (runpath) {
        const char *llp = getauxval(AT_SECURE) ? NULL : getenv("LD_LIBRARY_PATH");
        if ((llp && *llp && (h = search(m, lmid, llp, file, o, mode))) ||
            (h = search(m, lmid, runpath, file, o, mode)))
            return h;
    } else if ((h = search(m, lmid, rpath, file, o, mode))) {
        return h;
    }
    return real_open(m, lmid, file, mode);
}

static void *loaded(void *h)
{
    if (h) {
        int saved_errno = errno;
        scope_ctl_loaded();
        errno = saved_errno;
    }
    return h;
}

SCOPE_HIDDEN void *dlopen(const char *file, int mode)
{
    SCOPE_NEED_REAL(dlopen, NULL);
    if (scope_guard)   /* our own code (it calls scope_real_dlopen anyway, libc/libc.h) */
        return scope_real_dlopen(file, mode);
    return loaded(load(false, LM_ID_BASE, file, mode, __builtin_return_address(0)));
}

SCOPE_HIDDEN void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
    SCOPE_NEED_REAL(dlmopen, NULL);
    if (scope_guard)
        return scope_real_dlmopen(lmid, file, mode);
    return loaded(load(true, lmid, file, mode, __builtin_return_address(0)));
}
