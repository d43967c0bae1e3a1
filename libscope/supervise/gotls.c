/* gotls.c — Go's TLS plaintext, from breakpoints (gotls.h).
 *
 * Go's crypto/tls does its own cryptography: no library call to interpose, and the program may be
 * static and stripped. Its functions are found by name in the program's own table (.gopclntab,
 * util/gosym.c), which every Go executable keeps: (*Conn).Write is handed the plaintext, and
 * (*Conn).Read has filled its buffer when it returns. Since Go 1.17 (amd64) arguments and results
 * are in registers: the receiver in RAX, the slice's pointer and length in RBX and RCX; Read's n
 * comes back in RAX. R14 is the goroutine (g), whose first two words are its stack's bounds.
 *
 * The breakpoints are int3 bytes this supervisor (the program's tracer) writes over instructions
 * through /proc/PID/mem. A thread that reaches one stops with SIGTRAP (si_code SI_KERNEL), which
 * only its tracer sees: we read what we need, and the thread goes on at a copy of the displaced
 * instruction in a page mapped into the program for the purpose (a slot: the instruction, its
 * rip-relative operand or branch adjusted to where it now runs, then a jmp back after the
 * original), with no signal: nothing of the program runs differently, and no breakpoint is ever
 * taken out while threads run (which would let one pass unseen).
 *
 *  - Write and Read: on the first instruction of the body, after the prologue's stack check (a
 *    call that grows its stack runs the check twice, the body once). The socket is the tls.Conn's
 *    net.Conn: an interface whose data word points at a net.TCPConn, whose first word is its
 *    netFD, whose poll.FD holds the descriptor after a 16-byte mutex (the same since Go 1.9).
 *  - Read's return: a breakpoint on its return address, the instruction after the call, set
 *    while a call from there is pending, and cleared when a goroutine with none pending passes
 *    it (other goroutines pass there too: a reader of a file or a plain socket through the same
 *    bufio code). The
 *    call it ends is found by goroutine and by depth below the top of its stack: Go moves a
 *    growing stack, which changes the stack pointer but not that distance, and a buffer on the old
 *    stack is found at the same distance on the new one.
 *
 * Every stop costs the thread two context switches to this process: one a Write, two a Read. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <sys/user.h>
#endif

#include "gotls.h"

#include "util/gosym.h"    /* libscope's: functions by name in .gopclntab */
#include "util/x86insn.h"  /* libscope's: instruction lengths */

#if defined(__x86_64__)

#define SLOT 32               /* bytes of a slot: an instruction (<= 15) and a jmp back, or a jcc and a jmp */
#define XOL_LEN (4 * 4096)    /* 512 slots: two for the functions, the rest for Read's callers */
#define MAX_BP 256
#define MAX_PENDING 1024      /* Reads under way at once (goroutines blocked reading) */
#define COPY_MAX (256u << 10) /* bytes of one call copied; the rest is counted, not seen */
#define REACH 0x7fff0000LL

enum kind { K_WRITE, K_READ, K_RET };

struct bp {
    uint64_t addr, slot;
    uint8_t orig;
    uint8_t kind;
    bool armed;
    int refs;   /* K_RET: Reads pending that return here */
};

struct pending {
    uint64_t g, depth, buf, lo, hi, ret;   /* g 0: a free entry */
    int fd;
};

#define FDCACHE 256
struct fdcache {
    uint64_t conn, data;
    int fd;
};

struct goproc {
    pid_t pid;
    struct fdcache fds[FDCACHE];
    int mem;        /* /proc/PID/mem, read and written */
    uint64_t xol;   /* the slots' page(s) */
    int nslots;
    struct bp bp[MAX_BP];
    int nbp;
    struct pending *pend;   /* MAX_PENDING */
    const char *said;       /* why a caller's Reads are not seen, not told yet (NULL: none) */
    bool told;
};

static struct goproc **procs;
static size_t nprocs;
static unsigned char copybuf[COPY_MAX];

static struct goproc *proc_of(pid_t pid)
{
    for (size_t i = 0; i < nprocs; i++)
        if (procs[i]->pid == pid)
            return procs[i];
    return NULL;
}

static void proc_free(struct goproc *p)
{
    if (p->mem >= 0)
        close(p->mem);
    free(p->pend);
    free(p);
}

void gotls_forget(pid_t pid)
{
    for (size_t i = 0; i < nprocs; i++)
        if (procs[i]->pid == pid) {
            proc_free(procs[i]);
            procs[i] = procs[--nprocs];
            return;
        }
}

static struct goproc *proc_new(pid_t pid)
{
    struct goproc **grown = realloc(procs, (nprocs + 1) * sizeof *procs);
    if (!grown)
        return NULL;
    procs = grown;
    struct goproc *p = calloc(1, sizeof *p);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    if (p && (p->pend = calloc(MAX_PENDING, sizeof *p->pend)) && (p->mem = open(path, O_RDWR | O_CLOEXEC)) >= 0) {
        p->pid = pid;
        procs[nprocs++] = p;
        return p;
    }
    if (p) {
        free(p->pend);
        free(p);
    }
    return NULL;
}

static bool peek(struct goproc *p, uint64_t addr, void *out, size_t n)
{
    return addr && pread(p->mem, out, n, (off_t)addr) == (ssize_t)n;
}

static bool poke(struct goproc *p, uint64_t addr, const void *in, size_t n)
{
    return pwrite(p->mem, in, n, (off_t)addr) == (ssize_t)n;
}

static uint64_t word(struct goproc *p, uint64_t addr)
{
    uint64_t v = 0;
    return peek(p, addr, &v, sizeof v) ? v : 0;
}

static bool reach(uint64_t from, uint64_t to)
{
    long long d = (long long)(to - from);
    return d >= -REACH && d <= REACH;
}

/* The slot for the instruction at addr (its bytes in code): written into the page. 0, or why not. */
static const char *make_slot(struct goproc *p, uint64_t addr, const uint8_t *code, uint64_t *slot_out)
{
    unsigned disp = 0;
    bool branch = false;
    unsigned len = scope_x86_insn_len(code, &disp, &branch);
    if (!len || code[0] == 0xcc)
        return "an instruction it cannot move";
    if (p->nslots >= XOL_LEN / SLOT)
        return "no slot left";
    uint64_t slot = p->xol + (uint64_t)p->nslots * SLOT;
    uint8_t out[SLOT];
    memset(out, 0xcc, sizeof out);
    unsigned n = 0;
    uint64_t next = addr + len;   /* where the original goes on */
    if (branch) {
        /* jmp and jcc, made rel32 and aimed at the same target; a call would leave a return
         * address in our page on the goroutine's stack, which Go's unwinder does not know */
        uint64_t target;
        if (code[0] == 0xeb || (code[0] >= 0x70 && code[0] <= 0x7f))
            target = next + (uint64_t)(int64_t)(int8_t)code[1];
        else if (code[0] == 0xe9 || (code[0] == 0x0f && code[1] >= 0x80 && code[1] <= 0x8f))
            target = next + (uint64_t)(int64_t)(int32_t)(code[len - 4] | code[len - 3] << 8 | code[len - 2] << 16 |
                                                          (uint32_t)code[len - 1] << 24);
        else
            return "a call or loop instruction after the call";
        if (code[0] == 0xeb || code[0] == 0xe9) {
            out[n++] = 0xe9;
        } else {
            out[n++] = 0x0f;
            out[n++] = code[0] == 0x0f ? code[1] : (uint8_t)(0x80 + (code[0] - 0x70));
        }
        if (!reach(slot + n + 4, target))
            return "its page is out of a branch's reach";
        int32_t rel = (int32_t)(target - (slot + n + 4));
        memcpy(out + n, &rel, 4);
        n += 4;
    } else {
        memcpy(out, code, len);
        n = len;
        if (disp) {   /* [rip + disp32]: the same bytes from the slot */
            int32_t d;
            memcpy(&d, code + disp, 4);
            uint64_t target = next + (uint64_t)(int64_t)d;
            if (!reach(slot + len, target))
                return "its page is out of reach of the instruction's operand";
            d = (int32_t)(target - (slot + len));
            memcpy(out + disp, &d, 4);
        }
    }
    /* back: jmp rel32 to the instruction after the original */
    if (!reach(slot + n + 5, next))
        return "its page is out of a jump's reach";
    out[n++] = 0xe9;
    int32_t back = (int32_t)(next - (slot + n + 4));
    memcpy(out + n, &back, 4);
    if (!poke(p, slot, out, sizeof out))
        return "its page could not be written";
    p->nslots++;
    *slot_out = slot;
    return NULL;
}

static struct bp *bp_at(struct goproc *p, uint64_t addr)
{
    for (int i = 0; i < p->nbp; i++)
        if (p->bp[i].addr == addr)
            return &p->bp[i];
    return NULL;
}

static bool arm(struct goproc *p, struct bp *b, bool on)
{
    if (b->armed == on)
        return true;
    uint8_t byte = on ? 0xcc : b->orig;
    if (!poke(p, b->addr, &byte, 1))
        return false;
    b->armed = on;
    return true;
}

/* A breakpoint at addr (its slot made), not armed. NULL with why set when it cannot be. */
static struct bp *bp_new(struct goproc *p, uint64_t addr, enum kind k, const char **why)
{
    uint8_t code[16];
    if (p->nbp >= MAX_BP) {
        *why = "too many breakpoints";
        return NULL;
    }
    if (!peek(p, addr, code, sizeof code)) {
        *why = "its code could not be read";
        return NULL;
    }
    struct bp *b = &p->bp[p->nbp++];
    *b = (struct bp){addr, 0, code[0], (uint8_t)k, false, 0};
    /* kept without a slot when none can be made: never armed, and not tried again */
    return (*why = make_slot(p, addr, code, &b->slot)) ? NULL : b;
}

/* The first instruction of the body of the Go function at entry: after `cmp rsp|r12, [r14+16]`
 * and its `jbe`. 0 when the prologue is not that. */
static uint64_t body_of(struct goproc *p, uint64_t entry)
{
    uint8_t code[64];
    if (!peek(p, entry, code, sizeof code))
        return 0;
    bool compared = false;
    for (unsigned at = 0; at + 16 <= sizeof code;) {
        unsigned disp;
        bool branch;
        unsigned len = scope_x86_insn_len(code + at, &disp, &branch);
        if (!len)
            return 0;
        const uint8_t *c = code + at;
        /* 49 3b 66 10: cmp rsp, [r14+16]; 4d 3b 66 10: cmp r12, [r14+16] (a large frame's) */
        if (len == 4 && (c[0] == 0x49 || c[0] == 0x4d) && c[1] == 0x3b && c[2] == 0x66 && c[3] == 0x10)
            compared = true;
        else if (compared && (c[0] == 0x76 || (c[0] == 0x0f && c[1] == 0x86)))
            return entry + at + len;
        else if (branch)
            return 0;
        at += len;
    }
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool is_socket(pid_t pid, int fd)
{
    char path[64], link[32];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    return n > 7 && !memcmp(link, "socket:", 7);
}

/* The descriptor under a *tls.Conn whose net.Conn is a *net.TCPConn (or any conn{fd *netFD}): -1
 * when the words do not lead to a socket of the process. Remembered by the tls.Conn and its
 * net.Conn's data word together (both reused for another connection at once is not to be
 * expected), which saves two reads of the program's memory a call. */
static int conn_fd(struct goproc *p, uint64_t conn)
{
    uint64_t data = word(p, conn + 8);
    if (!data)
        return -1;
    struct fdcache *c = &p->fds[((conn >> 4) ^ (data >> 4)) % FDCACHE];
    if (c->conn == conn && c->data == data)
        return c->fd;
    uint64_t nfd = word(p, data);
    int64_t fd = nfd ? (int64_t)word(p, nfd + 16) : -1;
    if (fd < 0 || fd >= (1 << 20) || !is_socket(p->pid, (int)fd))
        return -1;   /* another net.Conn (a wrapper of its own): its words are not these */
    *c = (struct fdcache){conn, data, (int)fd};
    return (int)fd;
}

static void emit(struct goproc *p, pid_t tid, int fd, bool tx, uint64_t buf, uint64_t total,
                 void (*out)(void *, const struct gotls_io *), void *ctx)
{
    if (!total || total > (1ULL << 40))
        return;
    size_t len = total < COPY_MAX ? (size_t)total : COPY_MAX;
    if (!peek(p, buf, copybuf, len))
        len = 0;
    struct gotls_io io = {p->pid, tid, fd, tx, copybuf, len, (size_t)total, now_ns()};
    out(ctx, &io);
}

static struct pending *pending_of(struct goproc *p, uint64_t g, uint64_t depth)
{
    struct pending *free_one = NULL;
    for (int i = 0; i < MAX_PENDING; i++) {
        if (p->pend[i].g == g && p->pend[i].depth == depth)
            return &p->pend[i];
        if (!p->pend[i].g && !free_one)
            free_one = &p->pend[i];
    }
    return free_one;
}

/* A Read that returns at ret has ended. Its breakpoint stays armed (the next Read from there would
 * arm it again): it is cleared when another goroutine passes it with none pending (a miss). */
static void unref(struct goproc *p, uint64_t ret)
{
    struct bp *r = bp_at(p, ret);
    if (r && r->refs > 0)
        r->refs--;
}

/* Read's body: its call remembered, and the breakpoint at its return address armed. */
static void read_entry(struct goproc *p, const struct user_regs_struct *regs)
{
    uint64_t g = regs->r14, stack[2] = {0, 0}, ret = word(p, regs->rsp);
    if (!g || !ret || !peek(p, g, stack, sizeof stack))
        return;
    uint64_t lo = stack[0], hi = stack[1];
    if (!hi || regs->rsp >= hi)
        return;
    uint64_t depth = hi - regs->rsp;
    struct pending *e = pending_of(p, g, depth);
    if (!e)
        return;   /* more Reads under way than we keep: this one is not seen */
    if (e->g) {   /* the same goroutine at the same depth: an earlier call ended unseen (a panic) */
        unref(p, e->ret);
        e->g = 0;
    }
    struct bp *r = bp_at(p, ret);
    const char *why;
    if (!r && !(r = bp_new(p, ret, K_RET, &why))) {
        if (!p->said)
            p->said = why;   /* told once, by gotls_notice */
        return;
    }
    if (r->kind != K_RET || !r->slot || !arm(p, r, true))
        return;   /* an instruction there we cannot move: this caller's Reads are not seen */
    r->refs++;
    *e = (struct pending){g, depth, regs->rbx, lo, hi, ret, conn_fd(p, regs->rax)};
}

/* At a return address: the Read it ends, if one of this goroutine's is pending there. */
static void read_return(struct goproc *p, pid_t tid, const struct user_regs_struct *regs,
                        void (*out)(void *, const struct gotls_io *), void *ctx)
{
    uint64_t g = regs->r14, hi = g ? word(p, g + 8) : 0;
    if (!hi || regs->rsp >= hi)
        return;
    struct pending *e = pending_of(p, g, hi - regs->rsp + 8);
    if (!e || !e->g) {
        struct bp *r = bp_at(p, regs->rip - 1);
        if (r && !r->refs)
            arm(p, r, false);   /* a miss, and no Read pending here: cleared */
        return;
    }
    struct pending was = *e;
    e->g = 0;
    unref(p, was.ret);
    int64_t n = (int64_t)regs->rax;
    uint64_t buf = was.buf;
    if (buf >= was.lo && buf < was.hi)
        buf = buf - was.hi + hi;   /* on the goroutine's stack, which may have moved */
    if (n > 0)
        emit(p, tid, was.fd, false, buf, (uint64_t)n, out, ctx);
}

bool gotls_trap(pid_t pid, pid_t tid, void (*out)(void *ctx, const struct gotls_io *io), void *ctx)
{
    struct goproc *p = proc_of(pid);
    siginfo_t si;
    struct user_regs_struct regs;
    if (!p || ptrace(PTRACE_GETSIGINFO, tid, 0, &si) != 0 || si.si_code != SI_KERNEL ||
        ptrace(PTRACE_GETREGS, tid, 0, &regs) != 0)
        return false;
    struct bp *b = bp_at(p, regs.rip - 1);
    if (!b)
        return false;
    if (!b->armed) {
        regs.rip = b->addr;   /* it trapped before we cleared it: the original instruction runs */
    } else {
        if (b->kind == K_WRITE)
            emit(p, tid, conn_fd(p, regs.rax), true, regs.rbx, regs.rcx, out, ctx);
        else if (b->kind == K_READ)
            read_entry(p, &regs);
        else
            read_return(p, tid, &regs, out, ctx);
        regs.rip = b->slot;
    }
    return ptrace(PTRACE_SETREGS, tid, 0, &regs) == 0;
}

/* AT_ENTRY of process pid (0 when unread). */
static uint64_t entry_now(pid_t pid)
{
    char path[64];
    uint64_t aux[2 * 64];
    snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, aux, sizeof aux) : -1;
    if (fd >= 0)
        close(fd);
    for (ssize_t i = 0; i + 1 < n / 8; i += 2)
        if (aux[i] == AT_ENTRY)
            return aux[i + 1];
    return 0;
}

static const char *const fn_names[] = {"crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read"};

static long pread_fn(int fd, void *buf, size_t n, off_t off) { return (long)pread(fd, buf, n, off); }

const char *gotls_image(pid_t pid, pid_t tid, gotls_map_fn map_fn)
{
    gotls_forget(pid);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    uint64_t at[2], pie_entry = 0;
    enum scope_gosym_rc rc = scope_gosym_find(fd, pread_fn, fn_names, 2, at, &pie_entry);
    close(fd);
    if (rc == SCOPE_GOSYM_NOTGO)
        return NULL;   /* not Go (a static C program), or Go the notice at its start already names */
    if (rc != SCOPE_GOSYM_OK)
        return scope_gosym_why(rc);
    if (!at[0] && !at[1])
        return NULL;   /* no crypto/tls in it */
    if (pie_entry) {   /* where it was loaded: its entry now, less its entry as linked */
        uint64_t bias = entry_now(pid) - pie_entry;
        if (bias == -pie_entry)
            return "a position-independent Go build whose load address could not be read";
        for (int i = 0; i < 2; i++)
            at[i] = at[i] ? at[i] + bias : 0;
    }
    struct goproc *p = proc_new(pid);
    if (!p)
        return "out of memory";
    uint64_t body[2] = {body_of(p, at[0]), body_of(p, at[1])};
    if (!body[0] || !body[1]) {
        gotls_forget(pid);
        return "its crypto/tls functions do not start as this version knows (a Go version or build it does not handle)";
    }
    /* the page within a rel32's reach of the program's text */
    p->xol = map_fn(pid, tid, (at[0] & ~0xfffffULL) + (1ULL << 30), XOL_LEN);
    if (!p->xol) {
        gotls_forget(pid);
        return "no page could be mapped in it for the breakpoints";
    }
    const char *why = NULL;
    for (int i = 0; i < 2 && !why; i++) {
        struct bp *b = bp_new(p, body[i], i == 0 ? K_WRITE : K_READ, &why);
        if (b && !arm(p, b, true))
            why = "its code could not be written";
    }
    if (why) {
        for (int i = 0; i < p->nbp; i++)
            arm(p, &p->bp[i], false);
        gotls_forget(pid);
    }
    return why;
}

const char *gotls_notice(pid_t pid)
{
    struct goproc *p = proc_of(pid);
    if (!p || !p->said || p->told)
        return NULL;
    p->told = true;
    static char text[256];
    snprintf(text, sizeof text, "in part: the Reads that return to one place of its code (%s)", p->said);
    return text;
}

void gotls_disarm(pid_t pid)
{
    struct goproc *p = proc_of(pid);
    for (int i = 0; p && i < p->nbp; i++) {
        p->bp[i].refs = 0;
        arm(p, &p->bp[i], false);
    }
    if (p)
        memset(p->pend, 0, MAX_PENDING * sizeof *p->pend);
}

void gotls_fork(pid_t parent, pid_t child)
{
    struct goproc *p = proc_of(parent), *c;
    if (!p || !(c = proc_new(child)))
        return;
    c->xol = p->xol;
    c->nslots = p->nslots;
    c->nbp = p->nbp;
    memcpy(c->bp, p->bp, sizeof c->bp);
    memcpy(c->pend, p->pend, MAX_PENDING * sizeof *c->pend);
}

#else
const char *gotls_image(pid_t pid, pid_t tid, gotls_map_fn map_fn)
{
    (void)pid, (void)tid, (void)map_fn;
    return NULL;
}
bool gotls_trap(pid_t pid, pid_t tid, void (*out)(void *ctx, const struct gotls_io *io), void *ctx)
{
    (void)pid, (void)tid, (void)out, (void)ctx;
    return false;
}
void gotls_fork(pid_t parent, pid_t child) { (void)parent, (void)child; }
void gotls_disarm(pid_t pid) { (void)pid; }
const char *gotls_notice(pid_t pid)
{
    (void)pid;
    return NULL;
}
void gotls_forget(pid_t pid) { (void)pid; }
#endif
