/* got.c — GOT patching, for a library that arrived by dlopen (scope_attach) instead of LD_PRELOAD.
 *
 * Under LD_PRELOAD our wrappers win the symbol lookup. Loaded late, they lose it: every object
 * already bound its imports to libc. So we rewrite the bindings: for each loaded object we walk
 * its PT_DYNAMIC relocation tables (DT_JMPREL for the PLT, DT_RELA for the GOT entries that
 * -fno-plt code and function pointers load), and each JUMP_SLOT or GLOB_DAT relocation of an
 * undefined symbol named in scope_hooks gets our wrapper's address in its slot; the old value is
 * kept to be put back on detach.
 *
 * A slot is only rewritten when the call would have gone to the real function the wrapper calls
 * anyway: the slot holds that function (bound), or still holds the object's own lazy-binding stub
 * and the global scope binds the name to that function. A slot bound elsewhere (another
 * interposer, a second OpenSSL, an old symbol version) is left alone: our wrapper would change
 * which code runs.
 *
 * Skipped objects: libscope (its calls are ours), the dynamic loader and the vdso (nothing of
 * ours to see there), objects outside the base namespace (dlmopen: they have a libc of their own,
 * and our wrappers would hand their calls to ours), and libc itself. Why libc: glibc binds its
 * internal calls directly (read inside fread never goes through a slot), so LD_PRELOAD never sees
 * them either; the few slots it has are for interposable names (malloc, calloc, ...) that we do
 * not wrap. On a libc that did route its own read or write through its GOT, patching them would
 * run our wrappers inside libc with its locks held (stdio, fork's handlers): the safe choice is
 * to leave libc as LD_PRELOAD would see it.
 *
 * Read-only pages (RELRO, or a whole GOT under -z now) are made writable for the store and given
 * back their protection; the protection is read from /proc/self/maps. An object whose RELRO is
 * still writable is being relocated by a dlopen in another thread: it is left for the pass after
 * that dlopen. */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "interpose/got.h"

#if defined(__x86_64__) && defined(__LP64__)
#define R_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define R_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB R_AARCH64_GLOB_DAT
#endif

static char error[256];
static void *global[SCOPE_FN_COUNT];   /* what the global scope binds each name to */
static void *wrapper[SCOPE_FN_COUNT];  /* our wrappers, as our own symbol table has them */
static unsigned long long seen_adds, seen_subs;
static bool half_loaded;               /* a pass met an object still being relocated */
static _Atomic int live;               /* slots holding our wrappers at the last pass */

const char *scope_got_error(void) { return error; }
int scope_got_count(void) { return atomic_load(&live); }

void scope_got_prepare(void)
{
    scope_resolve(SCOPE_FN_read);
    for (int i = 0; i < SCOPE_FN_COUNT; i++) {
        wrapper[i] = scope_wrapper_addr((enum scope_fn)i);
        global[i] = dlsym(RTLD_DEFAULT, scope_hooks[i].name);
    }
}

/* Hook names → ids: open addressing over a power of two well above the hook count. */
#define NAMES 1024
_Static_assert(SCOPE_FN_COUNT * 2 < NAMES, "name table too small");
static int16_t names[NAMES];   /* fn + 1, 0: empty */

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int hook_of(const char *name)
{
    if (!names[fnv(scope_hooks[0].name) & (NAMES - 1)])
        for (int i = 0; i < SCOPE_FN_COUNT; i++) {
            uint32_t h = fnv(scope_hooks[i].name);
            while (names[h & (NAMES - 1)])
                h++;
            names[h & (NAMES - 1)] = (int16_t)(i + 1);
        }
    for (uint32_t h = fnv(name);; h++) {
        int v = names[h & (NAMES - 1)];
        if (!v)
            return -1;
        if (!strcmp(scope_hooks[v - 1].name, name))
            return v - 1;
    }
}

/* Old values by slot address: open addressing, grown at half full. */
struct saved {
    void **slot;
    void *old;
};
static struct saved *saved;
static size_t nsaved, cap_saved;

static size_t slot_hash(void **slot, size_t cap) { return ((uintptr_t)slot >> 3) * 0x9e3779b97f4a7c15ull >> 20 & (cap - 1); }

static struct saved *find_saved(void **slot)
{
    if (!cap_saved)
        return NULL;
    for (size_t i = slot_hash(slot, cap_saved);; i = (i + 1) & (cap_saved - 1)) {
        if (saved[i].slot == slot)
            return &saved[i];
        if (!saved[i].slot)
            return NULL;
    }
}

static bool save(void **slot, void *old)
{
    struct saved *s = find_saved(slot);
    if (s) {
        s->old = old;
        return true;
    }
    if ((nsaved + 1) * 2 > cap_saved) {
        size_t cap = cap_saved ? cap_saved * 2 : 1024;
        struct saved *t = calloc(cap, sizeof *t);
        if (!t)
            return false;
        for (size_t i = 0; i < cap_saved; i++)
            if (saved[i].slot) {
                size_t j = slot_hash(saved[i].slot, cap);
                while (t[j].slot)
                    j = (j + 1) & (cap - 1);
                t[j] = saved[i];
            }
        free(saved);
        saved = t;
        cap_saved = cap;
    }
    size_t j = slot_hash(slot, cap_saved);
    while (saved[j].slot)
        j = (j + 1) & (cap_saved - 1);
    saved[j] = (struct saved){slot, old};
    nsaved++;
    return true;
}

/* The protection of every mapping, read once per pass when a store first needs it. */
struct mapping {
    uintptr_t lo, hi;
    int prot;
};
struct maps {
    struct mapping *m;
    size_t n;
    bool read;
};

static void maps_read(struct maps *mp)
{
    mp->read = true;
    int fd = scope_real_open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t len = 0, cap = 0;
    char *text = NULL;
    for (;;) {
        if (len + 65536 > cap) {
            char *t = realloc(text, cap = cap ? cap * 2 : 262144);
            if (!t)
                break;
            text = t;
        }
        ssize_t n = scope_real_read(fd, text + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    scope_real_close(fd);
    if (!text)
        return;
    text[len] = 0;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    mp->m = malloc((lines + 1) * sizeof *mp->m);
    for (char *p = text; mp->m && *p;) {
        char *end;
        uintptr_t lo = strtoull(p, &end, 16);
        if (*end != '-')
            break;
        uintptr_t hi = strtoull(end + 1, &end, 16);
        if (*end != ' ' || !end[1] || !end[2] || !end[3])
            break;
        int prot = (end[1] == 'r' ? PROT_READ : 0) | (end[2] == 'w' ? PROT_WRITE : 0) |
                   (end[3] == 'x' ? PROT_EXEC : 0);
        mp->m[mp->n++] = (struct mapping){lo, hi, prot};
        char *nl = strchr(end, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    free(text);
}

/* -1: not known (no /proc, or an address outside every mapping). */
static int prot_of(struct maps *mp, uintptr_t a)
{
    if (!mp->read)
        maps_read(mp);
    size_t lo = 0, hi = mp->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a < mp->m[mid].lo)
            hi = mid;
        else if (a >= mp->m[mid].hi)
            lo = mid + 1;
        else
            return mp->m[mid].prot;
    }
    return -1;
}

struct pass {
    bool restore;
    bool *unresolved;
    int written, held, failed;
    const ElfW(Dyn) **base;   /* the l_ld of each object of the base namespace */
    size_t nbase;
    bool base_read;
    struct maps maps;
    uintptr_t ldso, vdso;
};

/* Under dl_iterate_phdr's lock, which is also the one the loader takes to change the list. */
static void read_base(struct pass *p)
{
    p->base_read = true;
    size_t n = 0;
    for (struct link_map *l = _r_debug.r_map; l; l = l->l_next)
        n++;
    p->base = malloc((n + 1) * sizeof *p->base);
    for (struct link_map *l = _r_debug.r_map; p->base && l; l = l->l_next)
        p->base[p->nbase++] = l->l_ld;
}

static bool in_base(const struct pass *p, const ElfW(Dyn) *ld)
{
    if (!p->base)
        return true;   /* could not tell: treat every object as the base namespace's */
    for (size_t i = 0; i < p->nbase; i++)
        if (p->base[i] == ld)
            return true;
    return false;
}

static bool inside(const struct dl_phdr_info *info, uintptr_t a)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && a >= lo && a < lo + ph->p_memsz)
            return true;
    }
    return false;
}

static bool skipped(const struct pass *p, const struct dl_phdr_info *info, const ElfW(Dyn) *ld)
{
    if (ld == _DYNAMIC)
        return true;   /* ourselves */
    if (p->vdso && (uintptr_t)info->dlpi_phdr - p->vdso < 65536)
        return true;
    if (p->ldso && info->dlpi_addr == p->ldso)
        return true;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (!strncmp(base, "ld-linux", 8) || !strncmp(base, "ld64.so", 7) || !strncmp(base, "libc.so", 7))
        return true;
    return scope_real_read && inside(info, (uintptr_t)scope_real_read);   /* libc, by its read */
}

static bool store(struct pass *p, void **slot, void *val, bool relro)
{
    uintptr_t a = (uintptr_t)slot;
    int prot = prot_of(&p->maps, a);
    if (prot < 0)
        prot = relro ? PROT_READ : PROT_READ | PROT_WRITE;
    if (prot & PROT_WRITE) {
        __atomic_store_n(slot, val, __ATOMIC_RELEASE);
        return true;
    }
    uintptr_t page = a & ~((uintptr_t)getpagesize() - 1);
    if (mprotect((void *)page, (size_t)getpagesize(), prot | PROT_WRITE) != 0) {
        snprintf(error, sizeof error, "mprotect %p: %s", (void *)page, scope_strerror(errno));
        return false;
    }
    __atomic_store_n(slot, val, __ATOMIC_RELEASE);
    mprotect((void *)page, (size_t)getpagesize(), prot);
    return true;
}

struct dyn {
    const ElfW(Sym) *symtab;
    const char *strtab;
    size_t strsz;
    const ElfW(Rela) *rela, *jmprel;
    size_t relasz, jmprelsz, relaent;
    bool plt_rela;
};

static void read_dyn(const ElfW(Dyn) *d, uintptr_t base, struct dyn *o)
{
    /* glibc rewrites most d_ptr values in place to addresses; a read-only dynamic section keeps
     * them as offsets. An offset is below the load address. */
#define ADDR(v) ((uintptr_t)(v) < base ? (uintptr_t)(v) + base : (uintptr_t)(v))
    memset(o, 0, sizeof *o);
    o->relaent = sizeof(ElfW(Rela));
    o->plt_rela = true;
    for (; d->d_tag != DT_NULL; d++)
        switch (d->d_tag) {
        case DT_SYMTAB: o->symtab = (const ElfW(Sym) *)ADDR(d->d_un.d_ptr); break;
        case DT_STRTAB: o->strtab = (const char *)ADDR(d->d_un.d_ptr); break;
        case DT_STRSZ: o->strsz = d->d_un.d_val; break;
        case DT_RELA: o->rela = (const ElfW(Rela) *)ADDR(d->d_un.d_ptr); break;
        case DT_RELASZ: o->relasz = d->d_un.d_val; break;
        case DT_RELAENT: o->relaent = d->d_un.d_val ? d->d_un.d_val : sizeof(ElfW(Rela)); break;
        case DT_JMPREL: o->jmprel = (const ElfW(Rela) *)ADDR(d->d_un.d_ptr); break;
        case DT_PLTRELSZ: o->jmprelsz = d->d_un.d_val; break;
        case DT_PLTREL: o->plt_rela = d->d_un.d_val == DT_RELA; break;
        }
#undef ADDR
}

#ifdef R_SLOT
static void one_table(struct pass *p, const struct dl_phdr_info *info, const struct dyn *dy,
                      const ElfW(Rela) *tab, size_t size, uintptr_t relro_lo, uintptr_t relro_hi)
{
    if (!tab || !size)
        return;
    for (size_t off = 0; off + sizeof *tab <= size; off += dy->relaent) {
        const ElfW(Rela) *r = (const ElfW(Rela) *)((const char *)tab + off);
        unsigned type = (unsigned)ELF64_R_TYPE(r->r_info);
        size_t si = ELF64_R_SYM(r->r_info);
        if ((type != R_SLOT && type != R_GLOB) || !si)
            continue;
        const ElfW(Sym) *sym = &dy->symtab[si];
        if (sym->st_shndx != SHN_UNDEF || sym->st_name >= dy->strsz)
            continue;   /* the object's own definition: its calls stay its own */
        int fn = hook_of(dy->strtab + sym->st_name);
        if (fn < 0)
            continue;
        void **slot = (void **)(info->dlpi_addr + r->r_offset);
        void *cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        void *real = __atomic_load_n(scope_hooks[fn].real, __ATOMIC_ACQUIRE);
        bool relro = (uintptr_t)slot >= relro_lo && (uintptr_t)slot < relro_hi;
        if (p->restore) {
            if (cur != wrapper[fn])
                continue;
            struct saved *s = find_saved(slot);
            if (store(p, slot, s ? s->old : real, relro))
                p->written++;
            else
                p->failed++;
            continue;
        }
        if (cur == wrapper[fn]) {
            p->held++;
            continue;
        }
        if (!real) {
            if (p->unresolved)
                p->unresolved[fn] = true;
            continue;
        }
        bool stub = inside(info, (uintptr_t)cur) && (!global[fn] || global[fn] == real);
        if (cur != real && !stub)
            continue;
        if (!save(slot, cur)) {
            p->failed++;
            continue;
        }
        if (store(p, slot, wrapper[fn], relro)) {
            p->written++;
            p->held++;
        } else {
            p->failed++;
        }
    }
}
#endif

static int object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct pass *p = arg;
    seen_adds = info->dlpi_adds;
    seen_subs = info->dlpi_subs;
    if (!p->base_read)
        read_base(p);
    const ElfW(Phdr) *dynph = NULL;
    uintptr_t relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dynph = ph;
        else if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = info->dlpi_addr + ph->p_vaddr;
            relro_hi = relro_lo + ph->p_memsz;
        }
    }
    if (!dynph)
        return 0;
    const ElfW(Dyn) *ld = (const ElfW(Dyn) *)(info->dlpi_addr + dynph->p_vaddr);
    if (skipped(p, info, ld) || !in_base(p, ld))
        return 0;
    /* RELRO still writable: the loader has not finished relocating it (the loader makes the
     * whole pages of the range read-only once it has) */
    size_t pg = (size_t)getpagesize();
    uintptr_t first = (relro_lo + pg - 1) & ~(uintptr_t)(pg - 1), last = relro_hi & ~(uintptr_t)(pg - 1);
    if (!p->restore && relro_hi && first < last) {
        int prot = prot_of(&p->maps, first);
        if (prot >= 0 && (prot & PROT_WRITE)) {
            half_loaded = true;
            return 0;
        }
    }
#ifdef R_SLOT
    struct dyn dy;
    read_dyn(ld, info->dlpi_addr, &dy);
    if (!dy.symtab || !dy.strtab)
        return 0;
    one_table(p, info, &dy, dy.rela, dy.relasz, relro_lo, relro_hi);
    if (dy.plt_rela && dy.jmprel != dy.rela)
        one_table(p, info, &dy, dy.jmprel, dy.jmprelsz, relro_lo, relro_hi);
#endif
    return 0;
}

static int run(struct pass *p)
{
#ifndef R_SLOT
    (void)p;
    snprintf(error, sizeof error, "GOT patching is not implemented on this architecture");
    return -ENOSYS;
#else
    p->ldso = getauxval(AT_BASE);
    p->vdso = getauxval(AT_SYSINFO_EHDR);
    half_loaded = false;
    dl_iterate_phdr(object, p);
    free(p->base);
    free(p->maps.m);
    atomic_store(&live, p->restore ? 0 : p->held);
    if (p->failed)
        return -EFAULT;
    return p->written;
#endif
}

int scope_got_patch(bool unresolved[SCOPE_FN_COUNT])
{
    struct pass p = {.unresolved = unresolved};
    error[0] = 0;
    return run(&p);
}

int scope_got_restore(void)
{
    struct pass p = {.restore = true};
    error[0] = 0;
    return run(&p);
}

static int counts(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    unsigned long long *c = arg;
    c[0] = info->dlpi_adds;
    c[1] = info->dlpi_subs;
    return 1;
}

bool scope_got_changed(void)
{
    unsigned long long c[2] = {seen_adds, seen_subs};
    dl_iterate_phdr(counts, c);
    return half_loaded || c[0] != seen_adds || c[1] != seen_subs;
}
