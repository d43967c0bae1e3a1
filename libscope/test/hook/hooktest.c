/* hooktest.c — function-entry hooks (src/interpose/hook.c), linked with hook.c alone, on assembly
 * functions whose prologues are the cases that matter: push rbp; mov rbp,rsp; push r14 (OpenSSL's
 * SSL_read in node), endbr64, rip-relative lea and mov, sub rsp imm32, xor/test/push imm, and the
 * refused ones (jmp rel8, call rel32, a 3-byte function). Modes (argv[1]), each printing one line
 * that test/hook.test.ts checks, status 0 on success, a message and status 1 on failure:
 *   decode        scope_x86_insn_len over a table of encodings       "decode ok N"
 *   relocate      every function hooked, through the replacement and h.original; refusals; EBUSY
 *                 for a running thread that blocks SIGTRAP            "relocate ok"
 *   race          4 threads calling the push-rbp function (and 1 a slow one, cpuid in its first
 *                 bytes) while both are hooked and unhooked 2000 times
 *                 "race ok installs=2000 calls=C hooked=H slow_calls=S slow_hooked=T busy=B"
 *                 (B: installs that gave EBUSY, a thread not scheduled within a second, and were
 *                 made again)
 *   remove        the bytes back, calls back, the trampoline still usable   "remove ok"
 *   foreign-trap  the program's SIGTRAP handler still gets its raise and its int3; SIG_DFL and
 *                 SIG_IGN behave as without hooks                     "foreign ok" */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "interpose/hook.h"
#include "util/x86insn.h"

/* The functions under test, each 16-byte aligned as compilers align functions. */
__asm__(".intel_syntax noprefix\n"
        ".text\n"
        /* (a, b) -> 3a + b + 7, with SSL_read's prologue */
        ".p2align 4\n"
        "hk_push:\n"
        "  push rbp\n"
        "  mov rbp, rsp\n"
        "  push r14\n"
        "  push r13\n"
        "  lea rax, [rdi + rdi * 2]\n"
        "  lea rax, [rax + rsi + 7]\n"
        "  pop r13\n"
        "  pop r14\n"
        "  pop rbp\n"
        "  ret\n"
        /* (a, b) -> a + b, slowly: cpuid (a VM exit under a hypervisor) among the first 5 bytes
         * leaves threads stopped at every boundary inside them, not only at the entry */
        ".p2align 4\n"
        "hk_slow:\n"
        "  push rbp\n"
        "  push rbx\n"
        "  cpuid\n"
        "  pop rbx\n"
        "  pop rbp\n"
        "  lea rax, [rdi + rsi]\n"
        "  ret\n"
        /* a -> a + 100 */
        ".p2align 4\n"
        "hk_endbr:\n"
        "  endbr64\n"
        "  mov rax, rdi\n"
        "  add rax, 100\n"
        "  ret\n"
        /* -> hk_quad, through its address */
        ".p2align 4\n"
        "hk_lea:\n"
        "  lea rax, [rip + hk_quad]\n"
        "  mov rax, [rax]\n"
        "  ret\n"
        /* a -> hk_long + a */
        ".p2align 4\n"
        "hk_movrip:\n"
        "  mov eax, [rip + hk_long]\n"
        "  add rax, rdi\n"
        "  ret\n"
        /* a -> a + 5, through the stack */
        ".p2align 4\n"
        "hk_sub:\n"
        "  sub rsp, 0x88\n"
        "  mov [rsp], rdi\n"
        "  mov rax, [rsp]\n"
        "  add rax, 5\n"
        "  add rsp, 0x88\n"
        "  ret\n"
        /* a -> a + 0x11: xor, test, push imm8 in the first 6 bytes */
        ".p2align 4\n"
        "hk_misc:\n"
        "  xor eax, eax\n"
        "  test edi, edi\n"
        "  push 0x11\n"
        "  pop rcx\n"
        "  lea rax, [rdi + rcx]\n"
        "  ret\n"
        /* a -> a + 9: nopl first (5 bytes), then cmp with a rip-relative operand */
        ".p2align 4\n"
        "hk_nopl:\n"
        "  nop dword ptr [rax + rax * 1 + 0]\n"
        "  cmp dword ptr [rip + hk_long], 0\n"
        "  lea rax, [rdi + 9]\n"
        "  ret\n"
        /* refused: a relative jmp, a relative call, a ret within 5 bytes */
        ".p2align 4\n"
        "hk_jmp8:\n"
        "  jmp 1f\n"
        "  nop\n"
        "1:\n"
        "  mov eax, 1\n"
        "  ret\n"
        ".p2align 4\n"
        "hk_call:\n"
        "  call 2f\n"
        "2:\n"
        "  pop rax\n"
        "  mov eax, 2\n"
        "  ret\n"
        ".p2align 4\n"
        "hk_tiny:\n"
        "  xor eax, eax\n"
        "  ret\n"
        /* an int3 of the program's own */
        ".p2align 4\n"
        "hk_int3:\n"
        "  int3\n"
        "hk_int3_after:\n"
        "  ret\n"
        ".data\n"
        ".p2align 3\n"
        "hk_quad: .quad 0x1122334455667788\n"
        "hk_long: .long 1000\n"
        ".text\n"
        ".att_syntax prefix\n");

typedef long (*fn2)(long, long);
#define HIDDEN __attribute__((visibility("hidden")))
extern long hk_push(long, long) HIDDEN;
extern long hk_slow(long, long) HIDDEN;
extern long hk_endbr(long, long) HIDDEN;
extern long hk_lea(long, long) HIDDEN;
extern long hk_movrip(long, long) HIDDEN;
extern long hk_sub(long, long) HIDDEN;
extern long hk_misc(long, long) HIDDEN;
extern long hk_nopl(long, long) HIDDEN;
extern long hk_jmp8(long, long) HIDDEN;
extern long hk_call(long, long) HIDDEN;
extern long hk_tiny(long, long) HIDDEN;
extern void hk_int3(void) HIDDEN;
extern char hk_int3_after[] HIDDEN;
extern long hk_quad HIDDEN;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("hooktest: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* ---- decode ---- */

struct enc {
  const char *hex;
  unsigned len, rip_disp;
  bool branch;
};

static const struct enc encs[] = {
  { "55", 1, 0, false },                         /* push rbp */
  { "4889e5", 3, 0, false },                     /* mov rbp,rsp */
  { "4156", 2, 0, false },                       /* push r14 */
  { "f30f1efa", 4, 0, false },                   /* endbr64 */
  { "4883ec08", 4, 0, false },                   /* sub rsp,8 */
  { "4881ec88000000", 7, 0, false },             /* sub rsp,0x88 */
  { "488d0578563412", 7, 3, false },             /* lea rax,[rip+x] */
  { "8b0578563412", 6, 2, false },               /* mov eax,[rip+x] */
  { "488b3d78563412", 7, 3, false },             /* mov rdi,[rip+x] */
  { "483b0578563412", 7, 3, false },             /* cmp rax,[rip+x] */
  { "c70578563412efbeadde", 10, 2, false },      /* mov dword [rip+x],imm32 */
  { "803d7856341200", 7, 2, false },             /* cmp byte [rip+x],0 */
  { "f6057856341201", 7, 2, false },             /* test byte [rip+x],1 */
  { "0fb60578563412", 7, 3, false },             /* movzx eax,byte [rip+x] */
  { "678b0578563412", 7, 3, false },             /* mov eax,[eip+x] */
  { "c5f96f0578563412", 8, 4, false },           /* vmovdqa xmm0,[rip+x] */
  { "ff2578563412", 6, 2, false },               /* jmp [rip+x]: indirect */
  { "ff1578563412", 6, 2, false },               /* call [rip+x]: indirect */
  { "0f1f00", 3, 0, false },                     /* nopl [rax] */
  { "0f1f4000", 4, 0, false },                   /* nopl [rax+0] */
  { "0f1f440000", 5, 0, false },                 /* nopl [rax+rax+0] */
  { "660f1f440000", 6, 0, false },               /* nopw */
  { "0f1f8000000000", 7, 0, false },             /* nopl [rax+0] disp32 */
  { "662e0f1f840000000000", 10, 0, false },      /* cs nopw [rax+rax+0] */
  { "31c0", 2, 0, false },                       /* xor eax,eax */
  { "85ff", 2, 0, false },                       /* test edi,edi */
  { "4885ff", 3, 0, false },                     /* test rdi,rdi */
  { "f7c700000100", 6, 0, false },               /* test edi,imm32 */
  { "66f7c70001", 5, 0, false },                 /* test di,imm16 */
  { "f7d8", 2, 0, false },                       /* neg eax */
  { "3d01000000", 5, 0, false },                 /* cmp eax,imm32 */
  { "663d0100", 4, 0, false },                   /* cmp ax,imm16 */
  { "83ff01", 3, 0, false },                     /* cmp edi,1 */
  { "4881ff00100000", 7, 0, false },             /* cmp rdi,imm32 */
  { "6a01", 2, 0, false },                       /* push 1 */
  { "6878563412", 5, 0, false },                 /* push imm32 */
  { "66683412", 4, 0, false },                   /* push imm16 */
  { "48b88877665544332211", 10, 0, false },      /* mov rax,imm64 */
  { "b878563412", 5, 0, false },                 /* mov eax,imm32 */
  { "66b83412", 4, 0, false },                   /* mov ax,imm16 */
  { "41b878563412", 6, 0, false },               /* mov r8d,imm32 */
  { "49bf8877665544332211", 10, 0, false },      /* mov r15,imm64 */
  { "488b442408", 5, 0, false },                 /* mov rax,[rsp+8] */
  { "488b842400010000", 8, 0, false },           /* mov rax,[rsp+0x100] */
  { "8b042578563412", 7, 0, false },             /* mov eax,[abs32]: SIB, no base */
  { "488b8000010000", 7, 0, false },             /* mov rax,[rax+0x100] */
  { "8b44b510", 4, 0, false },                   /* mov eax,[rbp+rsi*4+0x10] */
  { "4c8d0c7f", 4, 0, false },                   /* lea r9,[rdi+rdi*2] */
  { "48c7c0ffffffff", 7, 0, false },             /* mov rax,-1 */
  { "c6450001", 4, 0, false },                   /* mov byte [rbp+0],1 */
  { "66c745000100", 6, 0, false },               /* mov word [rbp+0],1 */
  { "f0480fb10a", 5, 0, false },                 /* lock cmpxchg [rdx],rcx */
  { "f348ab", 3, 0, false },                     /* rep stosq */
  { "64488b042528000000", 9, 0, false },         /* mov rax,fs:0x28 */
  { "0f05", 2, 0, false },                       /* syscall */
  { "c5f877", 3, 0, false },                     /* vzeroupper */
  { "c4e3790fc108", 6, 0, false },               /* vpalignr xmm0,xmm0,xmm1,8 */
  { "660f3a0fc108", 6, 0, false },               /* palignr */
  { "660f3800c1", 5, 0, false },                 /* pshufb */
  { "660f70c01b", 5, 0, false },                 /* pshufd */
  { "0fa2", 2, 0, false },                       /* cpuid */
  { "480fafc7", 4, 0, false },                   /* imul rax,rdi */
  { "6bc00c", 3, 0, false },                     /* imul eax,eax,12 */
  { "69c000010000", 6, 0, false },               /* imul eax,eax,256 */
  { "4863c7", 3, 0, false },                     /* movsxd rax,edi */
  { "c8100000", 4, 0, false },                   /* enter 16,0 */
  { "c1e004", 3, 0, false },                     /* shl eax,4 */
  { "d1e0", 2, 0, false },                       /* shl eax,1 */
  { "480fbae003", 5, 0, false },                 /* bt rax,3 */
  { "a18877665544332211", 9, 0, false },         /* mov eax,[moffs64] */
  { "0f0b", 2, 0, false },                       /* ud2 */
  { "c3", 1, 0, false },                         /* ret */
  { "c21000", 3, 0, false },                     /* ret 16 */
  { "cc", 1, 0, false },                         /* int3 */
  { "eb05", 2, 0, true },                        /* jmp rel8 */
  { "e978563412", 5, 0, true },                  /* jmp rel32 */
  { "e878563412", 5, 0, true },                  /* call rel32 */
  { "7405", 2, 0, true },                        /* je rel8 */
  { "0f8478563412", 6, 0, true },                /* je rel32 */
  { "e305", 2, 0, true },                        /* jrcxz */
  { "e2fe", 2, 0, true },                        /* loop */
  { "c7f878563412", 6, 0, true },                /* xbegin */
  { "06", 0, 0, false },                         /* push es: invalid in 64-bit mode */
  { "4040", 0, 0, false },                       /* two REX */
  { "62f17c48100578563412", 0, 0, false },       /* EVEX: unknown */
  { "d4", 0, 0, false },                         /* aam: invalid */
  { "6666666666666666666666666666" "90", 15, 0, false },    /* 14 prefixes: 15 bytes */
  { "666666666666666666666666666666" "90", 0, 0, false },   /* 15 prefixes: too long */
};

static int decode(void)
{
  unsigned n = 0;
  for (size_t k = 0; k < sizeof encs / sizeof encs[0]; k++) {
    uint8_t buf[32];
    memset(buf, 0x90, sizeof buf);   /* what follows must not matter */
    size_t len = strlen(encs[k].hex) / 2;
    for (size_t i = 0; i < len; i++) sscanf(encs[k].hex + 2 * i, "%2hhx", &buf[i]);
    unsigned disp = 99;
    bool br = !encs[k].branch;
    unsigned got = scope_x86_insn_len(buf, &disp, &br);
    if (got != encs[k].len || (got && (disp != encs[k].rip_disp || br != encs[k].branch)))
      fail("decode %s: len %u rip_disp %u branch %d, want %u %u %d", encs[k].hex, got, disp, br, encs[k].len,
           encs[k].rip_disp, encs[k].branch);
    n++;
  }
  printf("decode ok %u\n", n);
  return 0;
}

/* ---- replacements: count, then call the original ---- */

enum { F_PUSH, F_ENDBR, F_LEA, F_MOVRIP, F_SUB, F_MISC, F_NOPL, F_SLOW, NF };
static _Atomic long rep_calls[NF];
/* The hooks, one per function: a replacement may run before install returns (another thread),
 * and while the same hook is removed and installed again (the race), so it reads h.original from
 * here, which install sets before the jmp goes in and remove leaves. */
static struct scope_entry_hook hooks[NF];
#define REPLACEMENT(name, i) \
  static long name(long a, long b) \
  { \
    atomic_fetch_add(&rep_calls[i], 1); \
    return ((fn2)__atomic_load_n(&hooks[i].original, __ATOMIC_ACQUIRE))(a, b); \
  }
REPLACEMENT(r_push, F_PUSH)
REPLACEMENT(r_endbr, F_ENDBR)
REPLACEMENT(r_lea, F_LEA)
REPLACEMENT(r_movrip, F_MOVRIP)
REPLACEMENT(r_sub, F_SUB)
REPLACEMENT(r_misc, F_MISC)
REPLACEMENT(r_nopl, F_NOPL)
REPLACEMENT(r_slow, F_SLOW)

static const struct {
  const char *name;
  fn2 f, rep;
} fns[NF] = {
  [F_PUSH] = { "push rbp", hk_push, r_push },   [F_ENDBR] = { "endbr64", hk_endbr, r_endbr },
  [F_LEA] = { "lea rip", hk_lea, r_lea },       [F_MOVRIP] = { "mov rip", hk_movrip, r_movrip },
  [F_SUB] = { "sub rsp", hk_sub, r_sub },       [F_MISC] = { "xor/test/push", hk_misc, r_misc },
  [F_NOPL] = { "nopl", hk_nopl, r_nopl },       [F_SLOW] = { "push; push; cpuid", hk_slow, r_slow },
};

static long expect(int i, long a, long b)
{
  switch (i) {
    case F_PUSH: return 3 * a + b + 7;
    case F_ENDBR: return a + 100;
    case F_LEA: return hk_quad;
    case F_MOVRIP: return 1000 + a;
    case F_SUB: return a + 5;
    case F_MISC: return a + 0x11;
    case F_SLOW: return a + b;
    default: return a + 9;
  }
}

/* Through a volatile pointer: the call is made as written, after the patch. */
static long call(fn2 f, long a, long b)
{
  fn2 volatile p = f;
  return p(a, b);
}

static struct scope_entry_hook *hook(int i)
{
  int e = scope_entry_hook_install(&hooks[i], (void *)fns[i].f, (void *)fns[i].rep);
  if (e) fail("install %s: %s", fns[i].name, strerror(-e));
  return &hooks[i];
}

static _Atomic int spin_stop;
static void *spinner(void *arg)
{
  sigset_t trap;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  pthread_sigmask(SIG_BLOCK, &trap, NULL);
  atomic_store(&spin_stop, -1);   /* blocked: ready */
  if (arg) {
    while (!atomic_load(&spin_stop)) usleep(1000);   /* asleep in the kernel */
  } else {
    while (atomic_load(&spin_stop) < 1) {}   /* running */
  }
  return NULL;
}

static void refused(fn2 f, const char *name)
{
  uint8_t before[16], after[16];
  struct scope_entry_hook h;
  memset(&h, 0, sizeof h);
  memcpy(before, (void *)f, 16);
  int e = scope_entry_hook_install(&h, (void *)f, (void *)r_push);
  memcpy(after, (void *)f, 16);
  if (e != -EINVAL) fail("%s: install gave %d, want -EINVAL", name, e);
  if (memcmp(before, after, 16)) fail("%s: bytes changed by a refused install", name);
}

static int relocate(void)
{
  struct scope_entry_hook *h = hooks;
  uint8_t before[NF][16];
  for (int i = 0; i < NF; i++) {
    long want = expect(i, 41, 2);
    if (call(fns[i].f, 41, 2) != want) fail("%s unhooked: %ld", fns[i].name, call(fns[i].f, 41, 2));
    memcpy(before[i], (void *)fns[i].f, 16);
    hook(i);
    if (((uint8_t *)fns[i].f)[0] != 0xe9) fail("%s: no jmp at the entry", fns[i].name);
    long got = call(fns[i].f, 41, 2);
    if (got != want) fail("%s hooked: %ld, want %ld", fns[i].name, got, want);
    if (atomic_load(&rep_calls[i]) != 1) fail("%s: replacement called %ld times", fns[i].name, atomic_load(&rep_calls[i]));
    got = call((fn2)h[i].original, 41, 2);
    if (got != want) fail("%s original: %ld, want %ld", fns[i].name, got, want);
    if (atomic_load(&rep_calls[i]) != 1) fail("%s: h.original reached the replacement", fns[i].name);
  }
  /* all hooked at once, each still right */
  for (int i = 0; i < NF; i++)
    if (call(fns[i].f, 7, 3) != expect(i, 7, 3) || atomic_load(&rep_calls[i]) != 2) fail("%s: second call", fns[i].name);
  refused(hk_jmp8, "jmp rel8");
  refused(hk_call, "call rel32");
  refused(hk_tiny, "xor eax,eax; ret");
  refused(hk_push, "an installed hook (jmp rel32 first)");
  for (int i = 0; i < NF; i++) {
    int e = scope_entry_hook_remove(&h[i]);
    if (e) fail("remove %s: %s", fns[i].name, strerror(-e));
    if (memcmp(before[i], (void *)fns[i].f, 16)) fail("%s: bytes not restored", fns[i].name);
  }
  if (scope_entry_hook_remove(&h[0]) != -EINVAL) fail("a second remove did not give -EINVAL");

  /* A thread running with SIGTRAP blocked cannot be probed: EBUSY, nothing changed. */
  pthread_t t;
  memcpy(before[0], (void *)hk_endbr, 16);
  atomic_store(&spin_stop, 0);
  pthread_create(&t, NULL, spinner, NULL);
  while (atomic_load(&spin_stop) != -1) usleep(100);
  struct scope_entry_hook *hb = &hooks[F_ENDBR];
  int e = scope_entry_hook_install(hb, (void *)hk_endbr, (void *)r_endbr);
  if (e != -EBUSY) fail("install beside a running thread blocking SIGTRAP: %d, want -EBUSY", e);
  if (memcmp(before[0], (void *)hk_endbr, 16)) fail("bytes changed by an EBUSY install");
  atomic_store(&spin_stop, 1);
  pthread_join(t, NULL);
  /* One asleep in the kernel with SIGTRAP blocked is read from /proc: no EBUSY. */
  atomic_store(&spin_stop, 0);
  pthread_create(&t, NULL, spinner, (void *)1);
  while (atomic_load(&spin_stop) != -1) usleep(100);
  usleep(20000);
  e = scope_entry_hook_install(hb, (void *)hk_endbr, (void *)r_endbr);
  if (e) fail("install beside a sleeping thread blocking SIGTRAP: %s", strerror(-e));
  if (call(hk_endbr, 1, 0) != 101) fail("endbr64 after the sleeper");
  atomic_store(&spin_stop, 1);
  pthread_join(t, NULL);
  if (scope_entry_hook_remove(hb)) fail("remove endbr64 after the sleeper");
  printf("relocate ok\n");
  return 0;
}

/* ---- race ---- */

#define RACERS 4       /* on hk_push */
#define SLOW_RACERS 1  /* on hk_slow */
#define INSTALLS 2000
static _Atomic int race_stop;
static long race_calls[RACERS + SLOW_RACERS], race_wrong[RACERS + SLOW_RACERS];

static void *racer(void *arg)
{
  long id = (long)arg, n = 0, wrong = 0;
  while (!atomic_load_explicit(&race_stop, memory_order_relaxed)) {
    long a = n ^ (id << 24), b = id * 1000003 + (n & 1023), r;
    if (id < RACERS) {   /* direct calls (call rel32), as node calls SSL_read */
      r = hk_push(a, b);
      wrong += r != 3 * a + b + 7;
    } else {
      r = hk_slow(a, b);
      wrong += r != a + b;
    }
    n++;
  }
  race_calls[id] = n;
  race_wrong[id] = wrong;
  return NULL;
}

/* A crash in the race says where: the function, its trampoline, and the faulting RIP. */
static void *race_tramp;
static void on_crash(int sig, siginfo_t *si, void *ctx)
{
  const greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
  char msg[256];
  int n = snprintf(msg, sizeof msg, "hooktest: race: signal %d at rip %#llx (addr %p, rsp %#llx); hk_push %p, trampoline %p\n",
                   sig, (unsigned long long)g[REG_RIP], si->si_addr, (unsigned long long)g[REG_RSP], (void *)hk_push,
                   race_tramp);
  if (write(2, msg, (size_t)n) < 0) {}
  _exit(3);
}

/* fn handles sig (SA_SIGINFO, nothing masked). */
static void handle(int sig, void (*fn)(int, siginfo_t *, void *))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO;
  sigaction(sig, &sa, NULL);
}

static int race(void)
{
  handle(SIGSEGV, on_crash);
  handle(SIGILL, on_crash);
  handle(SIGBUS, on_crash);
  pthread_t t[RACERS + SLOW_RACERS];
  struct scope_entry_hook *h = &hooks[F_PUSH], *hs = &hooks[F_SLOW];
  struct timespec gap = { 0, 3000 };
  for (long i = 0; i < RACERS + SLOW_RACERS; i++) pthread_create(&t[i], NULL, racer, (void *)i);
  usleep(10000);
  void *first = NULL;
  long busy = 0;
  for (int k = 0; k < INSTALLS; k++) {
    /* EBUSY (a thread not scheduled in time, on a loaded machine) changes nothing: again */
    int e;
    while ((e = scope_entry_hook_install(h, (void *)hk_push, (void *)r_push)) == -EBUSY) busy++;
    if (e) fail("install %d: %s", k, strerror(-e));
    while ((e = scope_entry_hook_install(hs, (void *)hk_slow, (void *)r_slow)) == -EBUSY) busy++;
    if (e) fail("install slow %d: %s", k, strerror(-e));
    if (!first) race_tramp = first = h->original;
    else if (h->original != first) fail("install %d: a new trampoline for the same hook", k);
    nanosleep(&gap, NULL);
    if ((e = scope_entry_hook_remove(h))) fail("remove %d: %s", k, strerror(-e));
    if ((e = scope_entry_hook_remove(hs))) fail("remove slow %d: %s", k, strerror(-e));
    nanosleep(&gap, NULL);
  }
  usleep(10000);
  atomic_store(&race_stop, 1);
  long calls = 0, wrong = 0, slow = 0;
  for (int i = 0; i < RACERS + SLOW_RACERS; i++) {
    pthread_join(t[i], NULL);
    *(i < RACERS ? &calls : &slow) += race_calls[i];
    wrong += race_wrong[i];
  }
  long hooked = atomic_load(&rep_calls[F_PUSH]), slow_hooked = atomic_load(&rep_calls[F_SLOW]);
  if (wrong) fail("%ld wrong results of %ld calls", wrong, calls + slow);
  if (hooked <= 0 || hooked > calls) fail("replacement called %ld times, of %ld calls", hooked, calls);
  if (slow_hooked <= 0 || slow_hooked > slow) fail("slow: replacement called %ld times, of %ld calls", slow_hooked, slow);
  if (busy > INSTALLS / 100) fail("%ld installs of %d gave EBUSY", busy, 2 * INSTALLS);
  printf("race ok installs=%d calls=%ld hooked=%ld slow_calls=%ld slow_hooked=%ld busy=%ld\n", INSTALLS, calls, hooked,
         slow, slow_hooked, busy);
  return 0;
}

/* ---- remove ---- */

static int remove_mode(void)
{
  struct scope_entry_hook *h;
  uint8_t before[8];
  memcpy(before, (void *)hk_push, 8);
  h = hook(F_PUSH);
  void *tramp = h->original;
  if (call(hk_push, 5, 6) != 28 || atomic_load(&rep_calls[F_PUSH]) != 1) fail("hooked call");
  int e = scope_entry_hook_remove(h);
  if (e) fail("remove: %s", strerror(-e));
  if (memcmp(before, (void *)hk_push, 8)) fail("the first 8 bytes differ after remove");
  if (call(hk_push, 5, 6) != 28 || atomic_load(&rep_calls[F_PUSH]) != 1) fail("a call after remove reached the replacement");
  if (h->original != tramp) fail("h.original changed by remove");
  if (call((fn2)tramp, 5, 6) != 28 || atomic_load(&rep_calls[F_PUSH]) != 1) fail("the trampoline after remove");
  /* and again: a hook after a remove works the same */
  hook(F_PUSH);
  if (call(hk_push, 1, 1) != 11 || atomic_load(&rep_calls[F_PUSH]) != 2) fail("hooked again");
  if (scope_entry_hook_remove(h) || memcmp(before, (void *)hk_push, 8)) fail("second remove");
  printf("remove ok\n");
  return 0;
}

/* ---- foreign traps ---- */

static volatile sig_atomic_t app_traps, app_code;
static volatile uintptr_t app_rip;
static void app_handler(int sig, siginfo_t *si, void *ctx)
{
  (void)sig;
  app_traps++;
  app_code = si->si_code;
  app_rip = (uintptr_t)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
}

/* In a child: hooks with SIGTRAP at disp (SIG_DFL or SIG_IGN), raises SIGTRAP, then runs an int3.
 * Returns the child's wait status. */
static int child_status(void (*disp)(int))
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);   /* the default action dumps core: not here */
    signal(SIGTRAP, disp);
    hook(F_ENDBR);   /* takes SIGTRAP back, disp becoming the previous action */
    raise(SIGTRAP);
    if (disp == SIG_DFL) _exit(10);   /* should have died */
    hk_int3();
    _exit(11);
  }
  int status;
  waitpid(pid, &status, 0);
  return status;
}

static int foreign(void)
{
  handle(SIGTRAP, app_handler);
  hook(F_PUSH);
  raise(SIGTRAP);
  if (app_traps != 1 || app_code != SI_TKILL) fail("raise(SIGTRAP): the program's handler ran %d times, si_code %d", (int)app_traps, (int)app_code);
  hk_int3();
  if (app_traps != 2 || app_code != SI_KERNEL || app_rip != (uintptr_t)hk_int3_after)
    fail("int3: the program's handler ran %d times, si_code %d, rip %#lx (want %p)", (int)app_traps, (int)app_code,
         (unsigned long)app_rip, (void *)hk_int3_after);
  if (call(hk_push, 2, 3) != 16 || atomic_load(&rep_calls[F_PUSH]) != 1) fail("the hook after foreign traps");
  struct sigaction sa;
  sigaction(SIGTRAP, NULL, &sa);
  if (sa.sa_sigaction == app_handler) fail("our handler is not installed");
  int st = child_status(SIG_DFL);
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTRAP) fail("SIG_DFL and raise(SIGTRAP): status %#x, want killed by SIGTRAP", st);
  st = child_status(SIG_IGN);
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTRAP) fail("SIG_IGN, raise ignored, then int3: status %#x, want killed by SIGTRAP", st);
  printf("foreign ok\n");
  return 0;
}

int main(int argc, char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "decode")) return decode();
  if (!strcmp(mode, "relocate")) return relocate();
  if (!strcmp(mode, "race")) return race();
  if (!strcmp(mode, "remove")) return remove_mode();
  if (!strcmp(mode, "foreign-trap")) return foreign();
  fprintf(stderr, "usage: hooktest decode|relocate|race|remove|foreign-trap\n");
  return 2;
}
