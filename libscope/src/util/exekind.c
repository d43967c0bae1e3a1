/* exekind.c — static, Go or dynamic, from an executable's ELF headers (exekind.h).
 *
 * Go is recognised as `go build` marks it: a `.go.buildinfo` section (every Go since 1.13, also
 * with -ldflags=-s) or a PT_NOTE with the "Go" build-id note (type 4). A Go program with cgo has
 * a dynamic loader, and still makes its file and network calls without libc. */
#include <elf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/exekind.h"

#define NT_GO_BUILDID 4
#define MAX_HEADERS 4096   /* program or section headers looked at; real files have tens */
/* Headers are read CHUNK bytes at a time (a few reads per file, on a small stack). */
#define CHUNK 2048

struct src {
    int fd;
    scope_pread_fn pread;
};

static bool read_at(const struct src *s, void *buf, size_t n, uint64_t off)
{
    return off <= (uint64_t)LONG_MAX && s->pread(s->fd, buf, n, (off_t)off) == (long)n;
}

/* A PT_NOTE segment holding Go's build-id note. */
static bool go_note(const struct src *s, const Elf64_Phdr *ph)
{
    unsigned char buf[512];
    size_t n = ph->p_filesz < sizeof buf ? (size_t)ph->p_filesz : sizeof buf;
    if (!read_at(s, buf, n, ph->p_offset))
        return false;
    for (size_t off = 0; off + sizeof(Elf64_Nhdr) <= n;) {
        Elf64_Nhdr nh;
        memcpy(&nh, buf + off, sizeof nh);
        if (nh.n_namesz == 3 && nh.n_type == NT_GO_BUILDID && off + sizeof nh + 3 <= n &&
            !memcmp(buf + off + sizeof nh, "Go\0", 3))
            return true;
        off += sizeof nh + ((nh.n_namesz + 3u) & ~3u) + ((nh.n_descsz + 3u) & ~3u);
    }
    return false;
}

/* A section named .go.buildinfo. */
static bool go_section(const struct src *s, const Elf64_Ehdr *eh)
{
    static const char want[] = ".go.buildinfo";
    Elf64_Shdr strtab;
    if (!eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum ||
        !read_at(s, &strtab, sizeof strtab, eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof strtab))
        return false;
    char names[CHUNK];   /* the section names, when they fit (they do in real files) */
    bool have_names = strtab.sh_size <= sizeof names && read_at(s, names, (size_t)strtab.sh_size, strtab.sh_offset);
    Elf64_Shdr sh[CHUNK / sizeof(Elf64_Shdr)];
    unsigned total = eh->e_shnum < MAX_HEADERS ? eh->e_shnum : MAX_HEADERS;
    for (unsigned i = 0; i < total;) {
        unsigned k = total - i < sizeof sh / sizeof *sh ? total - i : (unsigned)(sizeof sh / sizeof *sh);
        if (!read_at(s, sh, k * sizeof *sh, eh->e_shoff + (uint64_t)i * sizeof *sh))
            return false;
        for (unsigned j = 0; j < k; j++) {
            if (sh[j].sh_name + sizeof want > strtab.sh_size)
                continue;
            char one[sizeof want];
            const char *name = have_names ? names + sh[j].sh_name
                             : read_at(s, one, sizeof one, strtab.sh_offset + sh[j].sh_name) ? one : NULL;
            if (name && !memcmp(name, want, sizeof want))
                return true;
        }
        i += k;
    }
    return false;
}

enum scope_exe_kind scope_exe_kind_fd(int fd, scope_pread_fn pread_fn)
{
    const struct src s = {fd, pread_fn};
    Elf64_Ehdr eh;
    if (!read_at(&s, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
        eh.e_phentsize != sizeof(Elf64_Phdr))
        return SCOPE_EXE_UNKNOWN;
    bool interp = false, go = false;
    Elf64_Phdr ph[CHUNK / sizeof(Elf64_Phdr)];
    unsigned total = eh.e_phnum < MAX_HEADERS ? eh.e_phnum : MAX_HEADERS;
    for (unsigned i = 0; i < total;) {
        unsigned k = total - i < sizeof ph / sizeof *ph ? total - i : (unsigned)(sizeof ph / sizeof *ph);
        if (!read_at(&s, ph, k * sizeof *ph, eh.e_phoff + (uint64_t)i * sizeof *ph))
            return SCOPE_EXE_UNKNOWN;
        for (unsigned j = 0; j < k; j++) {
            if (ph[j].p_type == PT_INTERP)
                interp = true;
            else if (ph[j].p_type == PT_NOTE && !go)
                go = go_note(&s, &ph[j]);
        }
        i += k;
    }
    if (go || go_section(&s, &eh))
        return interp ? SCOPE_EXE_GO : SCOPE_EXE_GO_STATIC;
    return interp ? SCOPE_EXE_DYNAMIC : SCOPE_EXE_STATIC;
}
