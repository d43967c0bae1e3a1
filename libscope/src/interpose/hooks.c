/* hooks.c — the hook list a GOT patcher uses (got.c), generated from interpose.def: each
 * function's name, our wrapper's address as our symbol table has it, and the libc layer's pointer
 * to the real function (libc/real.c resolves those). */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <wchar.h>
#include <unistd.h>

#include "dest/log.h"
#include "scope.h"

/* Declaring every wrapper from the table makes the compiler reject a table row whose prototype
 * disagrees with libc's, and declares the fortify/_2 variants glibc only declares under fortify. */
#define SCOPE_FN(ret, name, params, cat) SCOPE_VIS_##cat ret name params;
#include "interpose/interpose.def"
#undef SCOPE_FN

const struct scope_hook scope_hooks[SCOPE_FN_COUNT] = {
#define SCOPE_FN(ret, name, params, cat) {#name, #cat, (void *)&name, (void **)&scope_real_##name},
#include "interpose/interpose.def"
#undef SCOPE_FN
};

static pthread_once_t wrappers_once = PTHREAD_ONCE_INIT;
static void *wrappers[SCOPE_FN_COUNT];

/* Our dynamic symbol table, to find our own definitions in (own_symbol). */
struct symbols {
    uintptr_t base;
    const ElfW(Sym) *symtab;
    const char *strtab;
    const uint32_t *gnu, *sysv;
};

/* The tables of the object loaded at base whose dynamic section is dyn. */
static bool symbols_of(struct symbols *t, uintptr_t base, const ElfW(Dyn) *dyn)
{
    memset(t, 0, sizeof *t);
    t->base = base;
#define ADDR(v) ((uintptr_t)(v) < base ? (uintptr_t)(v) + base : (uintptr_t)(v))
    for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++)
        switch (d->d_tag) {
        case DT_SYMTAB: t->symtab = (const ElfW(Sym) *)ADDR(d->d_un.d_ptr); break;
        case DT_STRTAB: t->strtab = (const char *)ADDR(d->d_un.d_ptr); break;
        case DT_GNU_HASH: t->gnu = (const uint32_t *)ADDR(d->d_un.d_ptr); break;
        case DT_HASH: t->sysv = (const uint32_t *)ADDR(d->d_un.d_ptr); break;
        }
#undef ADDR
    return t->symtab && t->strtab && (t->gnu || t->sysv);
}

static bool own_symbols(struct symbols *t)
{
    Dl_info info;
    memset(t, 0, sizeof *t);
    if (!dladdr((void *)&own_symbols, &info) || !info.dli_fbase)
        return false;
    return symbols_of(t, (uintptr_t)info.dli_fbase, _DYNAMIC);
}

/* Our own definition of name, looked up in our symbol table (GNU hash, or the SysV one). Neither
 * dlsym on a handle of ours (a preloaded object has no search list to be a handle with) nor
 * dlopen(RTLD_NOLOAD) (called from a wrapper that runs before our constructor, another
 * library's constructor calling statfs, it would run our constructor from inside this). */
static void *own_symbol(const struct symbols *t, const char *name)
{
    const ElfW(Sym) *symtab = t->symtab;
    if (t->gnu) {
        const uint32_t *gnu = t->gnu;
        uint32_t nbuckets = gnu[0], symoffset = gnu[1], bloom_size = gnu[2], h = 5381;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++)
            h = h * 33 + *c;
        const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(gnu + 4) + bloom_size);
        const uint32_t *chain = buckets + nbuckets;
        uint32_t i = nbuckets ? buckets[h % nbuckets] : 0;
        for (; i >= symoffset; i++) {
            uint32_t h2 = chain[i - symoffset];
            const ElfW(Sym) *s = &symtab[i];
            if ((h | 1) == (h2 | 1) && s->st_shndx != SHN_UNDEF && !strcmp(t->strtab + s->st_name, name))
                return (void *)(t->base + s->st_value);
            if (h2 & 1)
                break;
        }
        return NULL;
    }
    for (uint32_t i = 0; i < t->sysv[1]; i++)
        if (symtab[i].st_shndx != SHN_UNDEF && !strcmp(t->strtab + symtab[i].st_name, name))
            return (void *)(t->base + symtab[i].st_value);
    return NULL;
}

static void find_wrappers(void)
{
    struct symbols own;
    bool have = own_symbols(&own);
    for (int i = 0; i < SCOPE_FN_COUNT; i++) {
        /* Hidden wrappers are not in our symbol table, and &name is bound to them locally. */
        void *w = have && scope_fn_cat[i] != SCOPE_CAT_dl ? own_symbol(&own, scope_hooks[i].name) : NULL;
        wrappers[i] = w ? w : scope_hooks[i].wrapper;
    }
}

/* The main program's dynamic section: the first object dl_iterate_phdr reports. */
static int first_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct symbols *t = arg;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            symbols_of(t, info->dlpi_addr, (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr));
    return 1;
}

void *scope_exe_symbol(const char *name)
{
    struct symbols exe;
    memset(&exe, 0, sizeof exe);
    dl_iterate_phdr(first_object, &exe);
    if (!exe.symtab || !exe.strtab || (!exe.gnu && !exe.sysv))
        return NULL;
    void *p = own_symbol(&exe, name);
    return p && !scope_in_self(p) ? p : NULL;
}

void *scope_wrapper_addr(enum scope_fn fn)
{
    pthread_once(&wrappers_once, find_wrappers);
    return wrappers[fn];
}

/* Logged once the log destination exists (resolution itself happens before config is read). */
void scope_log_missing(void)
{
    for (int i = 0; i < SCOPE_FN_COUNT; i++)
        if (scope_real_ours((enum scope_fn)i))
            scope_log(SCOPE_LOG_ERROR, "dlsym(RTLD_NEXT, \"%s\") returned our own wrapper; "
                      "treated as missing, calls to it fail with ENOSYS", scope_hooks[i].name);
        else if (!scope_resolve((enum scope_fn)i))
            scope_log(SCOPE_LOG_DEBUG, "%s not found in libc; calls to it fail with ENOSYS",
                      scope_hooks[i].name);
}
