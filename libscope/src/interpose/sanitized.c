/* sanitized.c — only in the sanitized build (npm run test:sanitize, -fsanitize=address,undefined):
 * what the ASan runtime of gcc 12 (preloaded right before libscope) needs to run every program the
 * tests run. The release build compiles this file to nothing.
 *
 * Three things the runtime itself gets wrong, each found under a real program:
 *  - its lazy start inside glibc's newlocale() corrupts the locale lock (curl, pgrep): swift_demangle;
 *  - its allocator is not locked around fork() (a child forked while another thread allocates
 *    inherits a held lock and hangs; newer runtimes lock it themselves): scope_sanitized_start;
 *  - a library constructor that runs before the runtime's (libcap-ng's, in runuser and su) calls a
 *    wrapper before the shadow memory exists: the wrappers are built without address checks in
 *    this build (CMakeLists.txt) and start the runtime first (scope.h, SCOPE_SANITIZER_START). */
#ifdef SCOPE_SANITIZED
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scope.h"

/* Whether the runtime's shadow memory of this thread's stack is mapped: mincore fails with ENOMEM
 * on an unmapped page. Called by the wrappers (scope.h) before the runtime may have started, so
 * built without address checks and with a raw system call (syscall() is one of our wrappers).
 * The shadow of address a is at (a >> 3) + offset, the offset fixed per architecture. */
__attribute__((no_sanitize_address)) bool scope_asan_shadow_mapped(void)
{
    unsigned char here = 0;
#if defined(__x86_64__)
    uintptr_t shadow = (((uintptr_t)&here >> 3) + 0x7fff8000ul) & ~(uintptr_t)4095;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_mincore), "D"(shadow), "S"(4096l), "d"(&here)
                     : "rcx", "r11", "memory");
    return r == 0;
#elif defined(__aarch64__)
    uintptr_t shadow = (((uintptr_t)&here >> 3) + (1ul << 36)) & ~(uintptr_t)4095;
    register long x8 __asm__("x8") = SYS_mincore;
    register long x0 __asm__("x0") = (long)shadow;
    register long x1 __asm__("x1") = 4096;
    register long x2 __asm__("x2") = (long)&here;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0 == 0;
#else
    return true;   /* offset unknown here: never started from a wrapper */
#endif
}

/* The runtime starts at the first malloc it sees. In a program that links p11-kit (curl through
 * gnutls, pgrep through libsystemd), that malloc comes from p11-kit's constructor, inside glibc's
 * newlocale(), which holds the locale lock for writing. The runtime's start looks up
 * swift_demangle with dlsym; when the symbol is missing, dlerror() translates its message through
 * gettext, which takes the same lock for reading: that fails (EDEADLK), the unlock after it
 * corrupts the lock, and the program's own setlocale() then waits for ever. With the symbol
 * present no message is made. Ours demangles nothing (NULL): the runtime falls back to C++. */
__attribute__((visibility("default"))) char *swift_demangle(const char *name, size_t len, char *out,
                                                            size_t *outlen, uint32_t flags);
char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags)
{
    (void)name, (void)len, (void)out, (void)outlen, (void)flags;
    return NULL;
}

/* The runtime's own locks, taken around fork() as newer runtimes do (LLVM 17's BeforeFork): the
 * thread registry, the allocator, the stack depot. They are internal symbols: found by name in the
 * runtime file's .symtab (Debian's libasan keeps it). */
enum { REG_LOCK, REG_UNLOCK, ALLOC_LOCK, ALLOC_UNLOCK, DEPOT_LOCK, DEPOT_UNLOCK, NLOCKS };
static const char *const lock_names[NLOCKS] = {
    "_ZN6__lsan18LockThreadRegistryEv", "_ZN6__lsan20UnlockThreadRegistryEv",
    "_ZN6__lsan13LockAllocatorEv",      "_ZN6__lsan15UnlockAllocatorEv",
    "_ZN11__sanitizer17StackDepotLockAllEv", "_ZN11__sanitizer19StackDepotUnlockAllEv",
};
static void (*locks[NLOCKS])(void);

struct runtime {
    char path[4096];
    uintptr_t base;
};
static int find_runtime(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct runtime *rt = data;
    const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    if (!slash || strncmp(slash + 1, "libasan.so", 10) != 0)
        return 0;
    snprintf(rt->path, sizeof rt->path, "%s", info->dlpi_name);
    rt->base = info->dlpi_addr;
    return 1;
}

/* Every name of lock_names in the file's .symtab; false when one is missing. */
static bool find_locks(const struct runtime *rt)
{
    int fd = (int)scope_real_syscall(SYS_openat, AT_FDCWD, rt->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return false;
    if (scope_real_syscall(SYS_fstat, fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        scope_real_syscall(SYS_close, fd);
        return false;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *f = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    scope_real_syscall(SYS_close, fd);
    if (f == MAP_FAILED)
        return false;
    const Elf64_Ehdr *eh = (const void *)f;
    int found = 0;
    if (eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) <= size) {
        const Elf64_Shdr *sh = (const void *)(f + eh->e_shoff);
        for (int i = 0; i < eh->e_shnum; i++) {
            if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
                continue;
            const Elf64_Shdr *str = &sh[sh[i].sh_link];
            if (sh[i].sh_offset + sh[i].sh_size > size || str->sh_offset + str->sh_size > size)
                break;
            const Elf64_Sym *sym = (const void *)(f + sh[i].sh_offset);
            size_t n = sh[i].sh_size / sizeof *sym;
            for (size_t s = 0; s < n && found < NLOCKS; s++) {
                if (ELF64_ST_TYPE(sym[s].st_info) != STT_FUNC || !sym[s].st_value || sym[s].st_name >= str->sh_size)
                    continue;
                const char *name = (const char *)f + str->sh_offset + sym[s].st_name;
                for (int k = 0; k < NLOCKS; k++)
                    if (!locks[k] && strcmp(name, lock_names[k]) == 0) {
                        locks[k] = (void (*)(void))(rt->base + sym[s].st_value);
                        found++;
                    }
            }
            break;
        }
    }
    munmap((void *)f, size);
    return found == NLOCKS;
}

static void before_fork(void)
{
    locks[REG_LOCK]();
    locks[ALLOC_LOCK]();
    locks[DEPOT_LOCK]();
}
static void after_fork(void)
{
    locks[DEPOT_UNLOCK]();
    locks[ALLOC_UNLOCK]();
    locks[REG_UNLOCK]();
}

/* Reports go to files named by LIBSCOPE_SANITIZER_LOG (<path>.<pid>). Not ASAN_OPTIONS=log_path:
 * the runtime then creates the path's directories while it starts, before its shadow memory
 * exists. UBSan is a runtime of its own (libubsan) with its own report file: without it, its
 * reports go to fd 2, which the reporting thread's own table does not have. */
void __sanitizer_set_report_path(const char *path);
static void report_paths(void)
{
    const char *p = getenv("LIBSCOPE_SANITIZER_LOG");
    if (!p || !*p)
        return;
    __sanitizer_set_report_path(p);
    void *u = scope_real_dlopen ? scope_real_dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD) : NULL;
    void (*set)(const char *) = u ? (void (*)(const char *))dlsym(u, "__sanitizer_set_report_path") : NULL;
    if (set) {
        char up[4096];
        snprintf(up, sizeof up, "%s.ubsan", p);
        set(up);
    }
}

/* Called first in libscope's start, before libscope registers its own fork handlers: the prepare
 * handler registered first runs last, right before the fork, and its child handler runs first. */
void scope_sanitized_start(void)
{
    report_paths();
    struct runtime rt = {0};
    if (!dl_iterate_phdr(find_runtime, &rt) || !find_locks(&rt)) {
        char msg[4352];
        int n = snprintf(msg, sizeof msg, "libscope (sanitized build): the ASan runtime's locks not found in %s: "
                                          "a fork while another thread allocates may hang\n",
                         rt.path[0] ? rt.path : "(no libasan loaded)");
        if (n > 0 && scope_real_write)
            scope_real_write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        return;
    }
    pthread_atfork(before_fork, after_fork, after_fork);
}
#else
typedef int scope_sanitized_unused; /* ISO C: a translation unit is not empty */
#endif
