/* crashcore.c — an ELF core file written from inside the crashing process, without allocating:
 * what gdb needs to show the crashing thread. Built in-process rather than by the kernel (whose
 * core_pattern and RLIMIT_CORE belong to the machine's owner) or by a forked ptracer.
 *
 * Notes: NT_PRSTATUS, NT_FPREGSET and NT_SIGINFO for the crashing thread only, its registers from
 * the ucontext (other threads' registers cannot be read from inside without stopping them);
 * NT_PRPSINFO; NT_AUXV; NT_FILE (which file each mapping shows, so gdb finds the libraries).
 * Segments: one PT_LOAD per mapping of /proc/self/maps. Contents are written for what the files
 * do not hold: writable and anonymous mappings, and read-only file data (ELF headers, RELRO,
 * .dynamic); code (r-x) of files and device mappings are left to the files (p_filesz 0). Memory is
 * copied with write(2) straight from our address space: a page that cannot be read makes write
 * fail with EFAULT instead of faulting, and leaves a hole of zeros. x86-64 only. */
#include "libc/libc.h"
#include "crash/crash.h"

#if defined(__x86_64__)
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>
#include <asm/prctl.h>

#define PAGE 4096UL
static unsigned char notes[1 << 20];
static size_t nlen;

static void note(const char *name, unsigned type, const void *desc, size_t dlen)
{
    size_t namesz = strlen(name) + 1, need = 12 + ((namesz + 3) & ~3UL) + ((dlen + 3) & ~3UL);
    if (nlen + need > sizeof notes)
        return;
    Elf64_Nhdr h = {.n_namesz = (Elf64_Word)namesz, .n_descsz = (Elf64_Word)dlen, .n_type = type};
    unsigned char *p = notes + nlen;
    memset(p, 0, need);
    memcpy(p, &h, 12);
    memcpy(p + 12, name, namesz);
    memcpy(p + 12 + ((namesz + 3) & ~3UL), desc, dlen);
    nlen += need;
}

static void prstatus(int sig, const siginfo_t *si, const ucontext_t *uc, pid_t tid)
{
    struct elf_prstatus ps;
    memset(&ps, 0, sizeof ps);
    ps.pr_info.si_signo = sig;
    ps.pr_info.si_code = si ? si->si_code : 0;
    ps.pr_cursig = (short)sig;
    ps.pr_pid = tid;
    ps.pr_ppid = (pid_t)scope_real_syscall(SYS_getppid);
    ps.pr_pgrp = (pid_t)scope_real_syscall(SYS_getpgid, 0);
    ps.pr_sid = (pid_t)scope_real_syscall(SYS_getsid, 0);
    const greg_t *g = uc->uc_mcontext.gregs;
    struct user_regs_struct r;
    memset(&r, 0, sizeof r);
    r.r15 = (unsigned long)g[REG_R15], r.r14 = (unsigned long)g[REG_R14];
    r.r13 = (unsigned long)g[REG_R13], r.r12 = (unsigned long)g[REG_R12];
    r.rbp = (unsigned long)g[REG_RBP], r.rbx = (unsigned long)g[REG_RBX];
    r.r11 = (unsigned long)g[REG_R11], r.r10 = (unsigned long)g[REG_R10];
    r.r9 = (unsigned long)g[REG_R9], r.r8 = (unsigned long)g[REG_R8];
    r.rax = (unsigned long)g[REG_RAX], r.rcx = (unsigned long)g[REG_RCX];
    r.rdx = (unsigned long)g[REG_RDX], r.rsi = (unsigned long)g[REG_RSI];
    r.rdi = (unsigned long)g[REG_RDI], r.orig_rax = (unsigned long)-1;
    r.rip = (unsigned long)g[REG_RIP], r.eflags = (unsigned long)g[REG_EFL];
    r.rsp = (unsigned long)g[REG_RSP];
    r.cs = (unsigned long)g[REG_CSGSFS] & 0xffff;
    r.ss = 0x2b;   /* __USER_DS: not in the ucontext of every kernel */
    unsigned long fsbase = 0;
    scope_real_syscall(SYS_arch_prctl, ARCH_GET_FS, &fsbase);
    r.fs_base = fsbase;
    memcpy(&ps.pr_reg, &r, sizeof r < sizeof ps.pr_reg ? sizeof r : sizeof ps.pr_reg);
    ps.pr_fpvalid = uc->uc_mcontext.fpregs != NULL;
    note("CORE", NT_PRSTATUS, &ps, sizeof ps);
    if (uc->uc_mcontext.fpregs)
        note("CORE", NT_FPREGSET, uc->uc_mcontext.fpregs, sizeof(struct user_fpregs_struct));
    if (si)
        note("CORE", NT_SIGINFO, si, sizeof *si);
}

static void prpsinfo(void)
{
    struct elf_prpsinfo p;
    memset(&p, 0, sizeof p);
    p.pr_sname = 'R';
    p.pr_uid = (unsigned)scope_real_syscall(SYS_getuid);
    p.pr_gid = (unsigned)scope_real_syscall(SYS_getgid);
    p.pr_pid = (pid_t)scope_real_syscall(SYS_getpid);
    p.pr_ppid = (pid_t)scope_real_syscall(SYS_getppid);
    p.pr_pgrp = (pid_t)scope_real_syscall(SYS_getpgid, 0);
    p.pr_sid = (pid_t)scope_real_syscall(SYS_getsid, 0);
    char t[sizeof p.pr_psargs + 1];
    crash_read_file("/proc/self/comm", t, sizeof t);
    for (size_t i = 0; i < sizeof p.pr_fname - 1 && t[i] && t[i] != '\n'; i++)
        p.pr_fname[i] = t[i];
    ssize_t n = crash_read_file("/proc/self/cmdline", t, sizeof t);
    for (ssize_t i = 0; i < n && i < (ssize_t)sizeof p.pr_psargs - 1; i++)
        p.pr_psargs[i] = t[i] ? t[i] : ' ';
    note("CORE", NT_PRPSINFO, &p, sizeof p);
}

static void auxv(void)
{
    static char a[4096];
    ssize_t n = crash_read_file("/proc/self/auxv", a, sizeof a);
    if (n > 0)
        note("CORE", NT_AUXV, a, (size_t)n);
}

static bool skipped(const struct crash_map *m)
{
    return !strcmp(m->path, "[vvar]") || !strcmp(m->path, "[vsyscall]") || !strcmp(m->path, "[vvar_vclock]");
}

/* NT_FILE: count, page size, (start, end, offset in pages) per file mapping, then the names. */
static void file_note(const struct crash_map *m, size_t n)
{
    static unsigned char d[1 << 19];
    size_t count = 0, len = 16;
    for (size_t i = 0; i < n; i++)
        if (m[i].path[0] == '/')
            count++;
    size_t names = 16 + count * 24;
    if (names > sizeof d)
        return;
    len = names;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].path[0] != '/')
            continue;
        size_t pl = strlen(m[i].path) + 1;
        if (len + pl > sizeof d)
            return;
        uint64_t e[3] = {m[i].start, m[i].end, m[i].off / PAGE};
        memcpy(d + 16 + k * 24, e, 24);
        memcpy(d + len, m[i].path, pl);
        len += pl;
        k++;
    }
    uint64_t h[2] = {count, PAGE};
    memcpy(d, h, 16);
    note("CORE", NT_FILE, d, len);
}

static bool dumped(const struct crash_map *m)
{
    if (!(m->prot & PROT_READ) || m->dontdump)
        return false;
    if (m->path[0] == '/')
        return strncmp(m->path, "/dev/", 5) != 0 && !(m->prot & PROT_EXEC && !(m->prot & PROT_WRITE));
    return true;   /* anonymous, heap, stack, [vdso] */
}

void crash_core(int dirfd, int sig, const siginfo_t *si, const ucontext_t *uc, pid_t tid)
{
    const struct crash_map *m;
    size_t n = crash_maps(&m);
    crash_maps_dontdump();
    nlen = 0;
    prstatus(sig, si, uc, tid);
    prpsinfo();
    auxv();
    file_note(m, n);

    size_t nload = 0;
    for (size_t i = 0; i < n; i++)
        nload += !skipped(&m[i]);
    int fd = crash_openat(dirfd, "core", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    memset(&eh, 0, sizeof eh);
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (Elf64_Half)(nload + 1);
    crash_write(fd, &eh, sizeof eh);

    size_t off = sizeof eh + (nload + 1) * sizeof(Elf64_Phdr);
    Elf64_Phdr ph = {.p_type = PT_NOTE, .p_offset = off, .p_filesz = nlen, .p_align = 4};
    crash_write(fd, &ph, sizeof ph);
    size_t data = (off + nlen + PAGE - 1) & ~(PAGE - 1), at = data;
    for (size_t i = 0; i < n; i++) {
        if (skipped(&m[i]))
            continue;
        size_t len = m[i].end - m[i].start, file = dumped(&m[i]) ? len : 0;
        Elf64_Phdr l = {.p_type = PT_LOAD, .p_offset = at, .p_vaddr = m[i].start, .p_filesz = file,
                        .p_memsz = len, .p_align = PAGE,
                        .p_flags = (m[i].prot & PROT_READ ? PF_R : 0) | (m[i].prot & PROT_WRITE ? PF_W : 0) |
                                   (m[i].prot & PROT_EXEC ? PF_X : 0)};
        crash_write(fd, &l, sizeof l);
        at += file;
    }
    crash_write(fd, notes, nlen);
    at = data;
    for (size_t i = 0; i < n; i++) {
        if (skipped(&m[i]) || !dumped(&m[i]))
            continue;
        size_t len = m[i].end - m[i].start;
        scope_real_syscall(SYS_lseek, fd, (long)at, SEEK_SET);
        crash_write(fd, (const void *)m[i].start, len);   /* a short write leaves zeros */
        at += len;
    }
    /* the file's length, even when the last segment could not be read */
    scope_real_syscall(SYS_ftruncate, fd, (long)at);
    crash_close(fd);
}
#else
void crash_core(int dirfd, int sig, const siginfo_t *si, const ucontext_t *uc, pid_t tid)
{
    (void)dirfd, (void)sig, (void)si, (void)uc, (void)tid;
}
#endif
