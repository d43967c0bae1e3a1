/* gosym.c — a Go program's functions by name, from its .gopclntab (gosym.h).
 *
 * Go 1.18 and later (magic 0xfffffff0; 0xfffffff1 from 1.20) start the table with a header: the
 * magic, two pad bytes, the instruction quantum, the pointer size, then eight words: the number of
 * functions, of files, the start of the text the entries are offsets from, and the offsets (from
 * the header) of the function-name table, the compilation units, the file table, the pc tables and
 * the function table (the text's start is 0 in the file from recent linkers, which leave it to
 * the runtime: it is then .text's address; so is it in a position-independent build, whose
 * table holds it only after relocation). The function table is nfunc + 1 pairs of 32-bit words (entry offset, offset
 * of the function's record from the table); a record starts with its entry offset and the offset of
 * its name in the name table (NUL-terminated). Go's runtime/symtab.go (pcHeader, _func) defines it;
 * debug/gosym reads it the same way. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "util/gosym.h"

#define TABLE_MAX (256u << 20)   /* a larger table is not believed */

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static int read_at(int fd, scope_pread_fn pread_fn, void *buf, size_t n, uint64_t off)
{
    return off <= (uint64_t)INT64_MAX && pread_fn(fd, buf, n, (off_t)off) == (long)n;
}

/* The .gopclntab section's file offset and size, and the address of .text; 0 when there is no
 * .gopclntab. */
static int find_section(int fd, scope_pread_fn pread_fn, uint64_t *off, uint64_t *size, uint64_t *text, uint64_t *pie_entry)
{
    Elf64_Ehdr eh;
    if (!read_at(fd, pread_fn, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_shnum == 0 || eh.e_shnum > 4096 || eh.e_shstrndx >= eh.e_shnum)
        return 0;
    *pie_entry = eh.e_type == ET_DYN ? eh.e_entry : 0;
    Elf64_Shdr strs;
    if (!read_at(fd, pread_fn, &strs, sizeof strs, eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof strs))
        return 0;
    int found = 0;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        char name[24];
        if (!read_at(fd, pread_fn, &sh, sizeof sh, eh.e_shoff + (uint64_t)i * sizeof sh) || sh.sh_name >= strs.sh_size ||
            !read_at(fd, pread_fn, name, sizeof name, strs.sh_offset + sh.sh_name))
            continue;
        /* a position-independent build's is in its relocated read-only data */
        if ((!memcmp(name, ".gopclntab", 11) || !memcmp(name, ".data.rel.ro.gopclntab", 23)) && sh.sh_type == SHT_PROGBITS) {
            *off = sh.sh_offset;
            *size = sh.sh_size;
            found = 1;
        } else if (!memcmp(name, ".text", 6)) {
            *text = sh.sh_addr;
        }
    }
    return found;
}

enum scope_gosym_rc scope_gosym_find(int fd, scope_pread_fn pread_fn, const char *const *names, int n, uint64_t *addrs,
                                     uint64_t *pie_entry)
{
    for (int i = 0; i < n; i++)
        addrs[i] = 0;
    uint64_t off = 0, size = 0, text_section = 0;
    *pie_entry = 0;
    if (!find_section(fd, pread_fn, &off, &size, &text_section, pie_entry))
        return SCOPE_GOSYM_NOTGO;
    unsigned char head[72];
    if (size < sizeof head || !read_at(fd, pread_fn, head, sizeof head, off))
        return SCOPE_GOSYM_BAD;
    uint32_t magic = le32(head);
    if (magic == 0xfffffffb || magic == 0xfffffffa)
        return SCOPE_GOSYM_OLD;
    if ((magic != 0xfffffff0 && magic != 0xfffffff1) || head[4] || head[5] || head[7] != 8 || size > TABLE_MAX)
        return SCOPE_GOSYM_BAD;
    unsigned char *t = malloc(size);
    if (!t)
        return SCOPE_GOSYM_BAD;
    enum scope_gosym_rc rc = SCOPE_GOSYM_BAD;
    if (!read_at(fd, pread_fn, t, size, off))
        goto out;
    uint64_t nfunc = le64(t + 8), text = le64(t + 24), names_at = le64(t + 32), funcs_at = le64(t + 64);
    if (!text || *pie_entry)
        text = text_section;   /* recent linkers leave it to the runtime: it is where .text starts */
    if (names_at >= size || funcs_at >= size || nfunc > (size - funcs_at) / 8 - 1 || !text)
        goto out;
    const unsigned char *ftab = t + funcs_at;
    size_t flen = size - funcs_at;
    size_t lens[64];
    for (int k = 0; k < n && k < 64; k++)
        lens[k] = strlen(names[k]) + 1;
    for (uint64_t i = 0; i < nfunc; i++) {
        uint32_t entry = le32(ftab + i * 8), rec = le32(ftab + i * 8 + 4);
        if ((uint64_t)rec + 8 > flen)
            goto out;
        uint32_t name = le32(ftab + rec + 4);
        if ((uint64_t)names_at + name >= size)
            goto out;
        const char *s = (const char *)t + names_at + name;
        size_t room = size - names_at - name;
        for (int k = 0; k < n && k < 64; k++)
            if (!addrs[k] && lens[k] <= room && !memcmp(s, names[k], lens[k]))
                addrs[k] = text + entry;
    }
    rc = SCOPE_GOSYM_OK;
out:
    free(t);
    return rc;
}

const char *scope_gosym_why(enum scope_gosym_rc rc)
{
    switch (rc) {
    case SCOPE_GOSYM_OK: return "";
    case SCOPE_GOSYM_NOTGO: return "no Go function table (.gopclntab) as a section of its own (a position-independent build?)";
    case SCOPE_GOSYM_OLD: return "built with Go before 1.18, whose function table and calls are laid out otherwise";
    default: return "its Go function table (.gopclntab) could not be read";
    }
}
