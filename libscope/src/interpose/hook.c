/* hook.c — function-entry hooks for x86-64 (hook.h).
 *
 * A hook moves the first instructions of target (at least 5 bytes of them) to a trampoline page
 * mapped within ±2 GiB, rip-relative operands adjusted so they still name the same bytes, followed
 * by a jmp back to the rest of target: the trampoline is the function as it was (h->original).
 * Beside it, a stub `jmp [rip+0]; .quad replacement` (the replacement, in a shared library, may be
 * farther than a rel32 reaches). Target then starts with `jmp rel32` to the stub.
 *
 * The hard part is that other threads may be running target while we patch it, and a thread may
 * be stopped at any instruction boundary inside the bytes we replace (just after `push rbp`, say):
 * resumed there after the patch, it would run the middle of our jmp. So the patch goes in steps:
 *   1. an int3 over the first byte, in one aligned 8-byte store, cores serialized: a thread
 *      arriving at target now traps, and our SIGTRAP handler sends it to the trampoline;
 *   2. every other thread gets a SIGTRAP of ours (a probe); the handler moves an interrupted RIP
 *      found inside the replaced bytes to the same offset in the trampoline (instructions are
 *      copied in order with their lengths, so boundaries map 1:1) and acknowledges. Once all have
 *      answered, no thread is inside, and none can get in but through the int3;
 *   3. the jmp in one aligned 8-byte store, cores serialized.
 * Remove is one store of the saved word: a thread is before the jmp (and now runs the original),
 * or past it, in the trampoline, which stays mapped.
 *
 * Why the probe is a queued SIGTRAP with a cookie rather than plain tgkill: SIGTRAP is not a
 * real-time signal, so while one is pending, another is dropped. A thread may take our int3 while
 * our probe is pending: the handler then sees the probe (not SI_KERNEL) with RIP one past target.
 * When the first instruction is longer than one byte, target+1 is no boundary and the thread can
 * only have come from the int3. When it is one byte (push rbp), target+1 is also where a thread
 * stopped after that instruction would be: for push reg we tell them apart by the stack (after the
 * push, [rsp] holds the register; at entry it holds the return address), and other one-byte first
 * instructions are accepted only when running them twice changes nothing (nop, cld, ...). An
 * acknowledgement is likewise any entry of our handler in that thread after the int3 is in place
 * (the dropped probe's thread still acknowledges, from its int3).
 *
 * Threads that block SIGTRAP cannot be probed; one asleep in the kernel is read instead from
 * /proc/self/task/<tid>/syscall, whose last field is the user RIP it will return to: outside the
 * replaced bytes, it can only come back in through the int3. (node's inspector thread blocks every
 * signal and sleeps in sem_wait.) One that runs with SIGTRAP blocked gives EBUSY: it could be
 * anywhere, and if it did reach our int3 the kernel would reset SIGTRAP to its default action.
 *
 * Our SIGTRAP handler is installed with the rt_sigaction system call (our sigaction wrapper, when
 * libscope is preloaded, is not in the way, and the module stands alone) and stays installed; a
 * trap that is not ours goes to the previous action exactly as before: its handler with its mask
 * and flags, or for SIG_DFL (and SIG_IGN on a trap the kernel raised, which it would not ignore)
 * the default action, restored and re-raised. The handler is async-signal-safe, allocates nothing
 * and makes only system calls that leave errno alone.
 *
 * A thread stopped inside the replaced bytes by another signal, whose handler is running when we
 * patch, is not seen: the probe reads the handler's RIP, not the one saved beneath it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "interpose/hook.h"
#include "util/x86insn.h"   /* the instruction length decoder */

#if defined(__x86_64__) && defined(__LP64__)

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>

#define PAGE 4096UL
#define STUB_OFF 64          /* the stub's place in the trampoline page */
#define MAX_RECS 64          /* functions hooked in a process, ever */
#define MAX_PROBE 256        /* threads probed in one batch */
#define PROBE_WAIT_NS 1000000000L   /* a runnable thread may wait long for a CPU on a busy machine */
#define ACKED (1ULL << 31)   /* in a probe slot, beside the tid (< 2^22) */
#define REACH ((1L << 31) - 2 * (long)PAGE)   /* a rel32's reach, with room for the page itself */

#ifndef MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE (1 << 5)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE (1 << 6)
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define SA_RESTORER_ 0x04000000UL

/* The kernel's struct sigaction (not glibc's: a 64-bit mask, the restorer explicit). */
struct ksigaction {
  void *handler;
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

/* What a hooked function became. Immutable once published (nrecs), never freed: the handler reads
 * them without a lock, and a pending int3 or a thread in a trampoline may outlive a hook. */
struct rec {
  uintptr_t target;
  uintptr_t tramp;      /* the trampoline page: moved code at 0, stub at STUB_OFF */
  void *replacement;
  uint64_t word;        /* the aligned word at target the trampoline was made from */
  uint8_t n;            /* bytes moved */
  uint8_t len0;         /* length of the first instruction */
  uint8_t op0;          /* its byte, when it is one byte long */
  uint16_t bounds;      /* bit k: target+k is an instruction boundary, 0 < k < n */
};
static struct rec recs[MAX_RECS];
static _Atomic int nrecs;

/* The probe in flight: slot = generation << 32 | tid, ACKED added by that thread's handler. */
static _Atomic uint64_t probe_slot[MAX_PROBE];
static _Atomic int probe_count;   /* 0: no probe in flight */
static _Atomic uint32_t probe_gen;
static const char probe_cookie;   /* its address, in si_value, marks our probes */

/* The SIGTRAP action before ours, read by the handler: a pointer to an immutable copy, replaced
 * when someone put their own action in front of ours and we took SIGTRAP back. */
static struct ksigaction prev_store[16];
static int nprev;
static const struct ksigaction dfl_action;   /* SIG_DFL, for SA_RESETHAND */
static const struct ksigaction *_Atomic prev_action;

static atomic_flag lock = ATOMIC_FLAG_INIT;
static bool membarrier_ok;
static bool membarrier_tried;

/* ---- system calls: raw, so that nothing of ours (the sigaction and syscall wrappers) is in the
 * way and errno is left alone, which the handler needs ---- */

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define sys(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static int sys_getpid(void) { return (int)sys(SYS_getpid, 0, 0, 0); }
static int sys_gettid(void) { return (int)sys(SYS_gettid, 0, 0, 0); }

static void nap(long ns)
{
  struct timespec ts = { 0, ns };
  sys(SYS_nanosleep, &ts, 0, 0);
}

static long now_ns(void)
{
  struct timespec ts;
  sys(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* rt_sigreturn for our action, in the form unwinders recognize (libgcc and gdb match these exact
 * bytes, mov $15,%rax; syscall, to find the signal frame); the nop before it is for those that
 * look up pc-1. */
__asm__(".text\n"
        ".p2align 4\n"
        "nop\n"
        ".type scope_hook_sigreturn,@function\n"
        "scope_hook_sigreturn:\n"
        "  movq $15, %rax\n"
        "  syscall\n"
        ".size scope_hook_sigreturn,.-scope_hook_sigreturn\n");
extern void scope_hook_sigreturn(void) __attribute__((visibility("hidden")));

/* ---- the handler ---- */

static const struct rec *rec_around(uintptr_t rip)
{
  for (int i = atomic_load_explicit(&nrecs, memory_order_acquire) - 1; i >= 0; i--)
    if (rip > recs[i].target && rip < recs[i].target + recs[i].n) return &recs[i];
  return NULL;
}

/* For a thread stopped at target+1 when the first instruction is one byte: did it run that
 * instruction (it stopped after it), or did it take our int3 (it stands at the entry)? */
static bool ran_first(const struct rec *r, const greg_t *g)
{
  static const int regs[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI };
  if (r->op0 >= 0x50 && r->op0 <= 0x57) {
    /* After push reg, [rsp] is reg (push rsp stored rsp before the push); at the entry it is the
     * return address, which no register holds in compiled code. */
    unsigned k = r->op0 - 0x50;
    uint64_t v = k == 4 ? (uint64_t)g[REG_RSP] + 8 : (uint64_t)g[regs[k]];
    return *(const uint64_t *)(uintptr_t)g[REG_RSP] == v;
  }
  return false;   /* an instruction that may run twice (install checks): run it again */
}

/* Moves a RIP inside r's replaced bytes to the same place in the trampoline. */
static void move_out(const struct rec *r, greg_t *g)
{
  uintptr_t off = (uintptr_t)g[REG_RIP] - r->target;
  if (off == 1 && (!(r->bounds & 2) || !ran_first(r, g))) g[REG_RIP] = (greg_t)r->tramp;   /* after our int3 */
  else if (r->bounds & (1u << off)) g[REG_RIP] = (greg_t)(r->tramp + off);
}

static void ack(void)
{
  int count = atomic_load_explicit(&probe_count, memory_order_acquire);
  uint64_t want = (uint64_t)atomic_load_explicit(&probe_gen, memory_order_acquire) << 32 | (uint32_t)sys_gettid();
  for (int i = 0; i < count; i++) {
    uint64_t v = want;
    if (atomic_compare_exchange_strong(&probe_slot[i], &v, want | ACKED)) break;
  }
}

/* A trap that is not ours, to the action before ours as the kernel would have run it. */
static void chain(int sig, siginfo_t *si, void *ctx)
{
  const struct ksigaction *p = atomic_load_explicit(&prev_action, memory_order_acquire);
  void *h = p ? p->handler : (void *)SIG_DFL;
  if (h == (void *)SIG_IGN && si->si_code <= 0) return;   /* sent, and ignored */
  if (h == (void *)SIG_DFL || h == (void *)SIG_IGN) {
    /* The default action (a core dump), also for a trap the kernel raised under SIG_IGN: it
     * resets such an action to the default rather than ignore its own trap. Re-raised with the
     * default in place; it is delivered when SIGTRAP is unblocked below. */
    struct ksigaction dfl = { (void *)SIG_DFL, 0, 0, 0 };
    uint64_t trap = 1ULL << (SIGTRAP - 1);
    sys4(SYS_rt_sigaction, SIGTRAP, &dfl, 0, 8);
    sys(SYS_tgkill, sys_getpid(), sys_gettid(), SIGTRAP);
    sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &trap, 0, 8);
    return;
  }
  /* The mask its own delivery would have set: the interrupted one, its sa_mask, and SIGTRAP
   * unless SA_NODEFER. (Ours blocks everything; sigreturn restores the interrupted mask.) */
  ucontext_t *uc = ctx;
  uint64_t mask;
  memcpy(&mask, &uc->uc_sigmask, sizeof mask);
  mask |= p->mask;
  if (!(p->flags & SA_NODEFER)) mask |= 1ULL << (SIGTRAP - 1);
  if (p->flags & SA_RESETHAND) atomic_store_explicit(&prev_action, &dfl_action, memory_order_release);
  sys4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, 0, 8);
  if (p->flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))h)(sig, si, ctx);
  else ((void (*)(int))h)(sig);
}

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
  greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
  bool probing = atomic_load_explicit(&probe_count, memory_order_acquire) > 0;
  bool ours = si->si_code == SI_QUEUE && si->si_value.sival_ptr == &probe_cookie && si->si_pid == sys_getpid();
  const struct rec *r = rec_around((uintptr_t)g[REG_RIP]);
  if (r && si->si_code == SI_KERNEL && (uintptr_t)g[REG_RIP] == r->target + 1) {
    g[REG_RIP] = (greg_t)r->tramp;   /* our int3: run the original from its start */
    ours = true;
  } else if (r && (ours || probing)) {
    move_out(r, g);
  }
  if (probing) ack();   /* any entry after the int3 went in: this thread is out */
  if (!ours) chain(sig, si, ctx);
}

/* Puts our handler in front of SIGTRAP, keeping what was there for chain. Again when someone has
 * replaced ours since: theirs becomes the previous action. */
static int take_sigtrap(void)
{
  struct ksigaction cur, old;
  long e = sys4(SYS_rt_sigaction, SIGTRAP, 0, &cur, 8);
  if (e) return (int)e;
  if (cur.handler == (void *)on_trap) return 0;
  if (nprev + 2 > (int)(sizeof prev_store / sizeof prev_store[0])) return -EBUSY;
  prev_store[nprev] = cur;
  atomic_store_explicit(&prev_action, &prev_store[nprev++], memory_order_release);
  struct ksigaction mine = { (void *)on_trap, SA_SIGINFO | SA_RESTART | SA_RESTORER_ | (cur.flags & SA_ONSTACK),
                             scope_hook_sigreturn, ~0ULL };
  e = sys4(SYS_rt_sigaction, SIGTRAP, &mine, &old, 8);
  if (e) return (int)e;
  if (old.handler != cur.handler || old.flags != cur.flags || old.mask != cur.mask) {   /* changed between */
    prev_store[nprev] = old;
    atomic_store_explicit(&prev_action, &prev_store[nprev++], memory_order_release);
  }
  return 0;
}

/* ---- memory ---- */

/* Every core runs the new bytes from its next instruction on. The mprotect that takes write
 * access back already sent a TLB-flush IPI (and its iret) to the cores running us; membarrier
 * makes it certain where the kernel has it. */
static void serialize(void)
{
  if (!membarrier_tried) {
    membarrier_tried = true;
    membarrier_ok = sys(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0;
  }
  if (membarrier_ok) sys(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
}

struct maps {
  uintptr_t target;
  int prot;              /* of the mapping holding target; -1 none */
  uintptr_t prev_end;
  uintptr_t cand[8];     /* free pages nearest to target, nearest first */
  int ncand;
};

static uintptr_t distance(uintptr_t a, uintptr_t b) { return a > b ? a - b : b - a; }

static void maps_candidate(struct maps *m, uintptr_t c)
{
  if (c < 0x10000 || distance(c, m->target) > (uintptr_t)REACH) return;
  int at = m->ncand < 8 ? m->ncand++ : 8;
  while (at > 0 && distance(m->cand[at - 1], m->target) > distance(c, m->target)) {
    if (at < 8) m->cand[at] = m->cand[at - 1];
    at--;
  }
  if (at < 8) m->cand[at] = c;
}

static uintptr_t hex(const char **s)
{
  uintptr_t v = 0;
  for (;; (*s)++) {
    char c = **s;
    if (c >= '0' && c <= '9') v = v * 16 + (uintptr_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v = v * 16 + (uintptr_t)(c - 'a' + 10);
    else return v;
  }
}

static void maps_line(struct maps *m, const char *s, const char *end)
{
  if (end - s < 20) return;
  uintptr_t lo = hex(&s);
  if (*s++ != '-') return;
  uintptr_t hi = hex(&s);
  if (*s++ != ' ' || end - s < 4) return;
  if (m->target >= lo && m->target < hi)
    m->prot = (s[0] == 'r' ? PROT_READ : 0) | (s[1] == 'w' ? PROT_WRITE : 0) | (s[2] == 'x' ? PROT_EXEC : 0);
  if (lo > m->prev_end && lo - m->prev_end >= PAGE) {   /* a gap: its page nearest to target */
    if (lo <= m->target) maps_candidate(m, lo - PAGE);
    else maps_candidate(m, m->prev_end);
  }
  if (hi > m->prev_end) m->prev_end = hi;
}

/* Reads /proc/self/maps: target's protection and the free pages nearest to it. */
static int read_maps(struct maps *m, uintptr_t target)
{
  char buf[4096];
  size_t have = 0;
  bool skipping = false;   /* the rest of a line longer than buf */
  memset(m, 0, sizeof *m);
  m->target = target;
  m->prot = -1;
  int fd = (int)sys(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  for (;;) {
    long got = sys(SYS_read, fd, buf + have, sizeof buf - have);
    if (got == -EINTR) continue;
    if (got <= 0) break;
    have += (size_t)got;
    size_t start = 0;
    for (char *nl; (nl = memchr(buf + start, '\n', have - start)); start = (size_t)(nl - buf) + 1) {
      if (!skipping) maps_line(m, buf + start, nl);
      skipping = false;
    }
    memmove(buf, buf + start, have - start);
    have -= start;
    if (have == sizeof buf) {
      if (!skipping) maps_line(m, buf, buf + have);
      skipping = true;
      have = 0;
    }
  }
  sys(SYS_close, fd, 0, 0);
  if (0x7ffffffff000UL > m->prev_end) maps_candidate(m, m->prev_end);   /* above the last mapping */
  return m->prot < 0 ? -EFAULT : 0;
}

/* One page within reach of target, or 0. */
static uintptr_t map_near(struct maps *m)
{
  for (int i = 0; i < m->ncand; i++) {
    long a = sys6(SYS_mmap, (long)m->cand[i], (long)PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (a < 0 && a > -4096) continue;   /* taken since we read the maps */
    if ((uintptr_t)a == m->cand[i]) return (uintptr_t)a;
    sys(SYS_munmap, a, PAGE, 0);   /* a kernel without MAP_FIXED_NOREPLACE put it elsewhere */
  }
  return 0;
}

/* Stores v into the aligned word at w, in one 8-byte store: a thread fetching those bytes sees
 * all of the old word or all of the new one. */
static int poke(uintptr_t w, uint64_t v, int prot)
{
  uintptr_t page = w & ~(PAGE - 1);
  long e = sys(SYS_mprotect, page, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
  if (e) return (int)e;
  atomic_store_explicit((_Atomic uint64_t *)w, v, memory_order_seq_cst);
  e = sys(SYS_mprotect, page, PAGE, prot);
  serialize();
  return (int)e;
}

static uint64_t word_with(uint64_t word, unsigned shift, const uint8_t *bytes, unsigned n)
{
  uint8_t b[8];
  memcpy(b, &word, 8);
  memcpy(b + shift, bytes, n);
  memcpy(&word, b, 8);
  return word;
}

/* ---- the probe ---- */

static void utoa(char *out, unsigned v)
{
  char tmp[12];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10));
  while (n) *out++ = tmp[--n];
  *out = 0;
}

/* A thread asleep in the kernel, from /proc/self/task/<tid>/syscall ("running" when it is not):
 * 1 when the user RIP it will return to is outside r's replaced bytes; 0 when it may be inside. */
static int asleep_outside(int tid, const struct rec *r)
{
  char path[64] = "/proc/self/task/", buf[256];
  utoa(path + strlen(path), (unsigned)tid);
  strcat(path, "/syscall");
  int fd = (int)sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd == -ENOENT || fd == -ESRCH ? 1 : 0;   /* gone */
  long got = sys(SYS_read, fd, buf, sizeof buf - 1);
  sys(SYS_close, fd, 0, 0);
  if (got <= 0) return 0;
  buf[got] = 0;
  if (buf[0] == 'r') return 0;   /* running */
  const char *last = NULL;
  for (char *s = buf; *s; s++)
    if (s[0] == '0' && s[1] == 'x') last = s + 2;
  if (!last) return 0;
  uintptr_t pc = hex(&last);
  return pc <= r->target || pc >= r->target + r->n;
}

/* Probes the threads in probe_slot[0..count) (generation gen): 0 once each answered, is asleep
 * outside r's bytes or has exited; -EBUSY after PROBE_WAIT_NS. */
static int probe_batch(const int *tids, int count, const struct rec *r)
{
  bool done[MAX_PROBE] = { false };
  int pid = sys_getpid();
  uint32_t gen = atomic_fetch_add(&probe_gen, 1) + 1;
  for (int i = 0; i < count; i++) atomic_store(&probe_slot[i], (uint64_t)gen << 32 | (uint32_t)tids[i]);
  atomic_store_explicit(&probe_count, count, memory_order_release);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGTRAP;
  si.si_code = SI_QUEUE;
  si.si_pid = pid;
  si.si_uid = (uid_t)sys(SYS_getuid, 0, 0, 0);
  si.si_value.sival_ptr = (void *)&probe_cookie;
  for (int i = 0; i < count; i++) {
    if (asleep_outside(tids[i], r) == 1) {
      done[i] = true;
      continue;
    }
    if (sys4(SYS_rt_tgsigqueueinfo, pid, tids[i], SIGTRAP, &si) == -ESRCH) done[i] = true;
  }
  int left = count;
  long start = now_ns();
  for (unsigned round = 0;; round++) {
    left = 0;
    for (int i = 0; i < count; i++) {
      if (!done[i] && (atomic_load(&probe_slot[i]) & ACKED)) done[i] = true;
      /* now and then: exited, or asleep outside (one that blocks SIGTRAP) */
      if (!done[i] && round % 64 == 63 &&
          (sys(SYS_tgkill, pid, tids[i], 0) == -ESRCH || asleep_outside(tids[i], r) == 1))
        done[i] = true;
      left += !done[i];
    }
    if (!left || now_ns() - start > PROBE_WAIT_NS) break;
    nap(round < 64 ? 5000 : 50000);
  }
  atomic_store_explicit(&probe_count, 0, memory_order_release);
  return left ? -EBUSY : 0;
}

/* Brings every other thread out of r's replaced bytes (the int3 is in place). */
static int probe_all(const struct rec *r)
{
  struct dent {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
  };
  char buf[2048] __attribute__((aligned(8)));
  int tids[MAX_PROBE], count = 0, self = sys_gettid(), e = 0;
  int fd = (int)sys(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fd;
  for (;;) {
    long got = sys(SYS_getdents64, fd, buf, sizeof buf);
    if (got == -EINTR) continue;
    if (got < 0) e = (int)got;
    if (got <= 0) break;
    for (long at = 0; at < got;) {
      const struct dent *d = (const struct dent *)(buf + at);
      at += d->reclen;
      if (d->name[0] < '0' || d->name[0] > '9') continue;
      int tid = 0;
      for (const char *s = d->name; *s; s++) tid = tid * 10 + (*s - '0');
      if (tid == self) continue;
      tids[count++] = tid;
      if (count == MAX_PROBE) {
        if ((e = probe_batch(tids, count, r))) goto out;
        count = 0;
      }
    }
  }
  if (!e && count) e = probe_batch(tids, count, r);
out:
  sys(SYS_close, fd, 0, 0);
  return e;
}

/* ---- install and remove ---- */

static void take_lock(void)
{
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) nap(10000);
}
static void drop_lock(void) { atomic_flag_clear_explicit(&lock, memory_order_release); }

/* One-byte first instructions that leave the same state when run twice (see ran_first). */
static bool idempotent(uint8_t op)
{
  return op == 0x90 || op == 0xf8 || op == 0xf9 || op == 0xfc || op == 0xfd || op == 0x98 || op == 0x99 ||
         op == 0x9e || op == 0x9f;
}

/* Decodes target's first instructions into r (without the trampoline). */
static int plan(struct rec *r, uintptr_t target, unsigned *disps)
{
  const uint8_t *p = (const uint8_t *)target;
  unsigned off = 0, k = 0;
  memset(r, 0, sizeof *r);
  r->target = target;
  while (off < 5) {
    unsigned disp;
    bool branch;
    unsigned len = scope_x86_insn_len(p + off, &disp, &branch);
    uint8_t op = p[off];
    /* a relative branch would need rewriting; ret, iret and int3 end (or are not) the function */
    if (!len || branch || op == 0xc3 || op == 0xc2 || op == 0xcb || op == 0xca || op == 0xcf || op == 0xcc)
      return -EINVAL;
    if (off == 0) {
      r->len0 = (uint8_t)len;
      r->op0 = op;
      if (len == 1 && !(op >= 0x50 && op <= 0x57) && !idempotent(op)) return -EINVAL;
    }
    disps[k++] = disp ? off + disp : 0;
    off += len;
    if (off < 16) r->bounds |= (uint16_t)(1u << off);
  }
  r->n = (uint8_t)off;
  r->bounds &= (uint16_t)((1u << off) - 1);   /* 0 < k < n */
  return 0;
}

/* Writes the trampoline for r into a page near target; r->tramp set. */
static int build(struct rec *r, struct maps *m, const unsigned *disps, void *replacement)
{
  uintptr_t t = map_near(m);
  if (!t) return -ENOMEM;
  uint8_t *code = (uint8_t *)t;
  memset(code, 0xcc, 128);
  memcpy(code, (const void *)r->target, r->n);
  long delta = (long)(r->target - t);
  for (unsigned i = 0; i < 5; i++) {   /* the same bytes, from a new place */
    if (!disps[i]) continue;
    int32_t d;
    memcpy(&d, code + disps[i], 4);
    long nd = (long)d + delta;
    if (nd != (int32_t)nd) {
      sys(SYS_munmap, t, PAGE, 0);
      return -ENOMEM;
    }
    d = (int32_t)nd;
    memcpy(code + disps[i], &d, 4);
  }
  int32_t back = (int32_t)((long)(r->target + r->n) - (long)(t + r->n + 5));
  code[r->n] = 0xe9;
  memcpy(code + r->n + 1, &back, 4);
  static const uint8_t jmp_ind[6] = { 0xff, 0x25, 0, 0, 0, 0 };   /* jmp [rip+0] */
  memcpy(code + STUB_OFF, jmp_ind, 6);
  memcpy(code + STUB_OFF + 6, &replacement, 8);
  long e = sys(SYS_mprotect, t, PAGE, PROT_READ | PROT_EXEC);
  if (e) {
    sys(SYS_munmap, t, PAGE, 0);
    return (int)e;
  }
  r->tramp = t;
  r->replacement = replacement;
  return 0;
}

int scope_entry_hook_install(struct scope_entry_hook *h, void *target, void *replacement)
{
  uintptr_t t = (uintptr_t)target, w = t & ~7UL;
  unsigned shift = (unsigned)(t & 7), disps[5] = { 0 };
  if (!h || !target || !replacement) return -EINVAL;
  if (shift > 3) return -EINVAL;   /* the 5 bytes of the jmp in one aligned word */
  take_lock();
  struct maps m;
  struct rec plan_rec;
  const struct rec *r = NULL;
  int e = read_maps(&m, t);
  if (!e && !(m.prot & PROT_EXEC)) e = -EINVAL;
  if (!e) e = plan(&plan_rec, t, disps);
  if (e) goto out;
  uint64_t word = atomic_load((_Atomic uint64_t *)w);
  /* The trampoline of an earlier hook of the same bytes to the same replacement is this one. */
  for (int i = atomic_load(&nrecs) - 1; i >= 0 && !r; i--)
    if (recs[i].target == t && recs[i].word == word && recs[i].replacement == replacement) r = &recs[i];
  if (!r) {
    int i = atomic_load(&nrecs);
    if (i == MAX_RECS) {
      e = -ENOMEM;
      goto out;
    }
    plan_rec.word = word;
    if ((e = build(&plan_rec, &m, disps, replacement))) goto out;
    recs[i] = plan_rec;
    atomic_store_explicit(&nrecs, i + 1, memory_order_release);   /* before any int3: the handler needs it */
    r = &recs[i];
  }
  if ((e = take_sigtrap())) goto out;
  static const uint8_t int3 = 0xcc;
  if ((e = poke(w, word_with(word, shift, &int3, 1), m.prot))) {
    poke(w, word, m.prot);
    goto out;
  }
  if ((e = probe_all(r))) {
    poke(w, word, m.prot);   /* a thread that trapped meanwhile is in the trampoline: still mapped */
    goto out;
  }
  uint8_t jmp[5] = { 0xe9 };
  int32_t rel = (int32_t)((long)(r->tramp + STUB_OFF) - (long)(t + 5));
  memcpy(jmp + 1, &rel, 4);
  uint64_t patch = word_with(word, shift, jmp, 5);
  /* The replacement may run (in another thread) before we return: it finds h->original set. */
  void *was = h->original;
  __atomic_store_n(&h->original, (void *)r->tramp, __ATOMIC_RELEASE);
  if ((e = poke(w, patch, m.prot))) {
    poke(w, word, m.prot);
    __atomic_store_n(&h->original, was, __ATOMIC_RELEASE);
    goto out;
  }
  h->target = target;
  h->rec = (int)(r - recs);
  h->installed = true;
  h->saved = word;
  h->patch = patch;
out:
  drop_lock();
  return e;
}

int scope_entry_hook_remove(struct scope_entry_hook *h)
{
  if (!h || !h->installed || !h->target) return -EINVAL;
  uintptr_t t = (uintptr_t)h->target, w = t & ~7UL;
  struct maps m;
  take_lock();
  int e = read_maps(&m, t);
  if (!e && atomic_load((_Atomic uint64_t *)w) != h->patch) e = -EINVAL;   /* someone else's bytes now */
  if (!e) e = poke(w, h->saved, m.prot);
  if (!e) {
    h->installed = false;
    h->target = NULL;   /* h->original stays: the trampoline still runs the function */
  }
  drop_lock();
  return e;
}

#else /* not x86-64 */

#include <errno.h>

int scope_entry_hook_install(struct scope_entry_hook *h, void *target, void *replacement)
{
  (void)h;
  (void)target;
  (void)replacement;
  return -ENOSYS;
}

int scope_entry_hook_remove(struct scope_entry_hook *h)
{
  (void)h;
  return -ENOSYS;
}

#endif
