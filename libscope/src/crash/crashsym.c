/* crashsym.c — the crashing thread's backtrace, symbolized without allocating.
 *
 * The walk: glibc's backtrace(), which is _Unwind_Backtrace from libgcc_s driven by the DWARF
 * call frame information, not frame pointers. From inside the handler it goes through the signal
 * frame (glibc's __restore_rt carries CFI describing the saved ucontext), so the frames after it
 * are the crashing thread's; we print from the frame whose address is the ucontext's instruction
 * pointer. Safe enough: its one unsafe step, loading libgcc_s with dlopen, is done at start
 * (crash_backtrace_prime), as glibc's manual advises; afterwards it reads memory and, to find an
 * object's unwind tables, walks the loaded objects (_dl_find_object, or dl_iterate_phdr under the
 * loader's lock on older glibc: a crash inside dlopen on another thread could then wait for it).
 *
 * The names: from the object's own symbol table, read from its file (the path /proc/self/maps
 * gives) with open and mmap: .symtab when the file has one, which names static functions and the
 * functions of an executable that exports nothing, else .dynsym. A symbol must contain the
 * address (its size), so a neighbour never names a function it does not contain. dladdr is the
 * fallback, for an object whose file cannot be read. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libc/libc.h"
#include "crash/crash.h"

#define MAXMAPS 4096
#define MAXFRAMES 128

static char maps_text[1 << 20];
static struct crash_map maps[MAXMAPS];
static size_t nmaps;

static uintptr_t hexnum(char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * 16 + (uintptr_t)d;
    }
}

static char *skip_field(char *p)
{
    while (*p && *p != ' ' && *p != '\n')
        p++;
    while (*p == ' ')
        p++;
    return p;
}

size_t crash_maps(const struct crash_map **out)
{
    ssize_t n = crash_read_file("/proc/self/maps", maps_text, sizeof maps_text);
    nmaps = 0;
    for (char *p = maps_text; n > 0 && *p && nmaps < MAXMAPS;) {
        struct crash_map *m = &maps[nmaps];
        m->start = hexnum(&p);
        if (*p != '-')
            break;
        p++;
        m->end = hexnum(&p);
        p++;
        m->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
        m->shared = p[3] == 's';
        m->dontdump = false;
        p = skip_field(p);
        m->off = hexnum(&p);
        p = skip_field(p);   /* offset */
        p = skip_field(p);   /* dev */
        p = skip_field(p);   /* inode */
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        m->path = p;
        nmaps++;
        if (!nl)
            break;
        p = nl + 1;
    }
    *out = maps;
    return nmaps;
}

/* /proc/self/smaps read in pieces (it is long: a dozen lines per mapping): each mapping's header
 * line names its start, its VmFlags line says "dd" for MADV_DONTDUMP. The kernel leaves such
 * mappings out of its cores (the ASan runtime marks its terabytes of shadow memory so). */
void crash_maps_dontdump(void)
{
    static char buf[1 << 16];
    int fd = crash_openat(AT_FDCWD, "/proc/self/smaps", O_RDONLY, 0);
    if (fd < 0)
        return;
    size_t have = 0, k = 0;
    struct crash_map *cur = NULL;
    for (;;) {
        long r = scope_real_syscall(SYS_read, fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = 0;
        char *p = buf, *nl;
        while ((nl = strchr(p, '\n')) != NULL) {
            *nl = 0;
            char *q = p;
            uintptr_t start = hexnum(&q);
            if (q != p && *q == '-') {   /* a mapping's first line; the maps are in the same order */
                cur = NULL;
                while (k < nmaps && maps[k].start < start)
                    k++;
                if (k < nmaps && maps[k].start == start)
                    cur = &maps[k];
            } else if (cur && !strncmp(p, "VmFlags:", 8)) {
                for (char *f = p + 8; (f = strstr(f, " dd")) != NULL; f += 3)
                    if (f[3] == ' ' || f[3] == 0)
                        cur->dontdump = true;
            }
            p = nl + 1;
        }
        have -= (size_t)(p - buf);
        memmove(buf, p, have);
        if (have == sizeof buf - 1)   /* a line longer than the buffer: not ours to read */
            have = 0;
    }
    crash_close(fd);
}

const struct crash_map *crash_map_of(uintptr_t addr)
{
    for (size_t i = 0; i < nmaps; i++)
        if (addr >= maps[i].start && addr < maps[i].end)
            return &maps[i];
    return NULL;
}

void crash_backtrace_prime(void)
{
    void *f[2];
    backtrace(f, 2);
}

/* The symbol of the object file m maps that contains addr: name and offset, false when none. */
static bool file_symbol(const struct crash_map *m, uintptr_t addr, char *name, size_t cap, uintptr_t *off)
{
    if (m->path[0] != '/')
        return false;
    int fd = crash_openat(AT_FDCWD, m->path, O_RDONLY, 0);
    struct stat st;
    if (fd < 0)
        return false;
    if (scope_real_syscall(SYS_fstat, fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        crash_close(fd);
        return false;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *f = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    crash_close(fd);
    if (f == MAP_FAILED)
        return false;
    bool found = false;
    const Elf64_Ehdr *eh = (const void *)f;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > size ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        goto out;
    /* the load bias, from the segment this mapping's file offset falls in */
    const Elf64_Phdr *ph = (const void *)(f + eh->e_phoff);
    uintptr_t bias = 0;
    bool biased = false;
    for (int i = 0; i < eh->e_phnum && !biased; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_offset & ~(uintptr_t)0xfff) <= m->off &&
            m->off < ph[i].p_offset + ph[i].p_filesz) {
            bias = m->start - (ph[i].p_vaddr - ph[i].p_offset + m->off);
            biased = true;
        }
    if (!biased)
        goto out;
    uintptr_t want = addr - bias;
    const Elf64_Shdr *sh = (const void *)(f + eh->e_shoff);
    for (int pass = 0; pass < 2 && !found; pass++) {
        unsigned type = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
        for (int i = 0; i < eh->e_shnum && !found; i++) {
            if (sh[i].sh_type != type || sh[i].sh_link >= eh->e_shnum)
                continue;
            const Elf64_Shdr *str = &sh[sh[i].sh_link];
            if (sh[i].sh_offset + sh[i].sh_size > size || str->sh_offset + str->sh_size > size)
                continue;
            const Elf64_Sym *sym = (const void *)(f + sh[i].sh_offset);
            size_t nsym = sh[i].sh_size / sizeof *sym;
            for (size_t k = 0; k < nsym; k++) {
                if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_shndx == SHN_UNDEF ||
                    want < sym[k].st_value || want >= sym[k].st_value + (sym[k].st_size ? sym[k].st_size : 1) ||
                    sym[k].st_name >= str->sh_size)
                    continue;
                const char *s = (const char *)f + str->sh_offset + sym[k].st_name;
                size_t n = strnlen(s, str->sh_size - sym[k].st_name);
                n = n < cap - 1 ? n : cap - 1;
                memcpy(name, s, n);
                name[n] = 0;
                *off = want - sym[k].st_value;
                found = true;
                break;
            }
        }
    }
out:
    munmap((void *)f, size);
    return found;
}

static void frame(struct cbuf *c, int n, uintptr_t pc, bool first)
{
    /* a return address points after the call: look the caller up by the call itself */
    uintptr_t look = first ? pc : pc - 1;
    const struct crash_map *m = crash_map_of(look);
    char name[256];
    uintptr_t off = 0;
    bool named = m && file_symbol(m, look, name, sizeof name, &off);
    Dl_info d;
    if (!named && dladdr((void *)look, &d) && d.dli_sname) {
        size_t k = strnlen(d.dli_sname, sizeof name - 1);
        memcpy(name, d.dli_sname, k);
        name[k] = 0;
        off = look - (uintptr_t)d.dli_saddr;
        named = true;
    }
    if (!first)
        off += 1;
    cb_str(c, "#"), cb_dec(c, n), cb_str(c, " "), cb_hex(c, pc), cb_str(c, " ");
    if (named)
        cb_str(c, name), cb_str(c, "+"), cb_hex(c, off);
    else
        cb_str(c, "??");
    cb_str(c, " (");
    cb_str(c, m && m->path[0] ? m->path : "?");
    cb_str(c, ")\n");
}

void crash_backtrace(int dirfd, const ucontext_t *uc)
{
    static void *f[MAXFRAMES];
    int n = backtrace(f, MAXFRAMES);
    const struct crash_map *unused;
    crash_maps(&unused);
    struct cbuf c = {.fd = crash_openat(dirfd, "backtrace", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600)};
    if (c.fd < 0)
        return;
#if defined(__x86_64__)
    uintptr_t pc = uc ? (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] : 0;
#elif defined(__aarch64__)
    uintptr_t pc = uc ? (uintptr_t)uc->uc_mcontext.pc : 0;
#else
    uintptr_t pc = 0;   /* the trace starts at the handler's own frames */
#endif
    int from = 0;
    for (int i = 0; i < n; i++)
        if ((uintptr_t)f[i] == pc) {
            from = i;
            break;
        }
    if (from == 0 && pc) {   /* the unwinder did not pass the signal frame: the pc alone */
        frame(&c, 0, pc, true);
        cb_flush(&c);
        crash_close(c.fd);
        return;
    }
    for (int i = from; i < n; i++)
        frame(&c, i - from, (uintptr_t)f[i], i == from);
    cb_flush(&c);
    crash_close(c.fd);
}
