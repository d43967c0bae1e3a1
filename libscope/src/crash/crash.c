/* crash.c — opt-in crash handling: with SCOPE_SNAPSHOT_BACKTRACE or SCOPE_SNAPSHOT_COREDUMP on,
 * SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT reach our handler first. It writes a snapshot
 * (info, config, backtrace, core) to SCOPE_SNAPSHOT_DIR or /tmp/scope/<pid>/ once per process,
 * then does what would have happened without us: the app's own handler runs, or the default
 * action ends the process with the same signal (and the kernel's own "core dumped" decision).
 *
 * Why our handler stays first when the app installs its own later: the sigaction and signal
 * wrappers (wrap_sig.c) record the app's handler here instead of giving it to the kernel, and
 * report the app's own previous handler back, so the app sees exactly what it set. A handler the
 * app had before we started is taken over the same way. Not covered: the raw rt_sigaction system
 * call, sigset/bsd_signal/sysv_signal, and settings turned on later through the control socket.
 *
 * The alternate stack: installed for the thread that starts us (the main thread when preloaded,
 * the interrupted thread of an attach, the forking thread of a child), unless it has one. Other
 * threads have none (reaching each would need a pthread_create wrapper), so a stack overflow in
 * one of them ends the process with SIGSEGV as before, without a snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "crash/crash.h"
#include "dest/log.h"
#include "scope.h"

#define ALTSTACK (128 * 1024)

static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define NFATAL (sizeof fatal / sizeof fatal[0])
static const char *const fatal_name[NFATAL] = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"};

static struct sigaction app[NFATAL];   /* the app's own handlers */
static _Atomic int on;                 /* our handlers are in place */
static bool want_bt, want_core;
static char snap_dir[PATH_MAX];        /* SCOPE_SNAPSHOT_DIR, or empty */
static char cfg_text[32768];           /* the settings in force at start, KEY=VALUE lines */
static size_t cfg_len;
static _Atomic pid_t writer;           /* the thread writing the snapshot */
static _Atomic int written;            /* once per process */
static _Atomic int first_sig;          /* the signal being handled */

static int slot(int sig)
{
    for (size_t i = 0; i < NFATAL; i++)
        if (fatal[i] == sig)
            return (int)i;
    return -1;
}

/* ---- the snapshot ---------------------------------------------------------------------- */

static void two(struct cbuf *c, long v)
{
    char t[2] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10)};
    cb_mem(c, t, 2);
}

/* ISO 8601 UTC without gmtime (which may take the time zone lock). */
static void iso_time(struct cbuf *c)
{
    struct timespec ts;
    scope_real_syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
    long long days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
    /* civil from days (Howard Hinnant) */
    long long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    cb_dec(c, y + (m <= 2));
    cb_str(c, "-");
    two(c, (long)m);
    cb_str(c, "-");
    two(c, (long)d);
    cb_str(c, "T");
    two(c, (long)(secs / 3600));
    cb_str(c, ":");
    two(c, (long)(secs / 60 % 60));
    cb_str(c, ":");
    two(c, (long)(secs % 60));
    cb_str(c, "Z");
}

static void kv(struct cbuf *c, const char *k) { cb_str(c, k), cb_str(c, ": "); }

static void write_info(int dfd, int sig, const siginfo_t *si, int err, pid_t tid)
{
    struct cbuf c = {.fd = crash_openat(dfd, "info", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600)};
    if (c.fd < 0)
        return;
    char t[PATH_MAX];
    kv(&c, "version"), cb_str(&c, SCOPE_VERSION "\n");
    kv(&c, "time"), iso_time(&c), cb_str(&c, "\n");
    kv(&c, "pid"), cb_dec(&c, (long long)scope_real_syscall(SYS_getpid)), cb_str(&c, "\n");
    kv(&c, "tid"), cb_dec(&c, tid), cb_str(&c, "\n");
    crash_read_file("/proc/self/comm", t, sizeof t);
    char *nl = strchr(t, '\n');
    if (nl)
        *nl = 0;
    kv(&c, "process"), cb_str(&c, t), cb_str(&c, "\n");
    long n = scope_real_syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", t, sizeof t - 1);
    t[n > 0 ? n : 0] = 0;
    kv(&c, "exe"), cb_str(&c, t), cb_str(&c, "\n");
    kv(&c, "signal"), cb_dec(&c, sig), cb_str(&c, "\n");
    kv(&c, "signal_name"), cb_str(&c, slot(sig) >= 0 ? fatal_name[slot(sig)] : "?"), cb_str(&c, "\n");
    kv(&c, "si_code"), cb_dec(&c, si ? si->si_code : 0), cb_str(&c, "\n");
    kv(&c, "errno"), cb_dec(&c, err), cb_str(&c, "\n");
    kv(&c, "fault_address"), cb_hex(&c, si ? (uint64_t)(uintptr_t)si->si_addr : 0), cb_str(&c, "\n");
    cb_flush(&c);
    crash_close(c.fd);
}

static void write_config(int dfd)
{
    int fd = crash_openat(dfd, "config", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    crash_write(fd, cfg_text, cfg_len);
    crash_close(fd);
}

/* A directory of ours: made 0700 when missing, never reached through a symbolic link at its last
 * component, and owned by us and closed to others' writes when it was there already. */
static int own_dir(int at, const char *name)
{
    if (scope_real_syscall(SYS_mkdirat, at, name, 0700) != 0 && errno != EEXIST)
        return -1;
    int fd = crash_openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    struct stat st;
    if (fd >= 0 && (scope_real_syscall(SYS_fstat, fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 022))) {
        crash_close(fd);
        return -1;
    }
    return fd;
}

static int pid_dir(int at)
{
    struct cbuf c = {.fd = -1};
    cb_dec(&c, (long long)scope_real_syscall(SYS_getpid));
    c.b[c.len] = 0;
    return own_dir(at, c.b);
}

static int open_snapshot_dir(void)
{
    if (snap_dir[0]) {
        /* the parents as mkdir -p would (the tools make them; a bare setting may not) */
        char p[PATH_MAX];
        size_t n = strlen(snap_dir);
        memcpy(p, snap_dir, n + 1);
        for (size_t i = 1; i < n; i++)
            if (p[i] == '/') {
                p[i] = 0;
                scope_real_syscall(SYS_mkdirat, AT_FDCWD, p, 0700);
                p[i] = '/';
            }
        return own_dir(AT_FDCWD, snap_dir);
    }
    int tmp = crash_openat(AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY, 0);
    int top = tmp >= 0 ? own_dir(tmp, "scope") : -1;
    crash_close(tmp);
    int fd = top >= 0 ? pid_dir(top) : -1;
    crash_close(top);
    return fd;
}

/* At start, not in the handler (which cannot log): the snapshot directory, when it is there
 * already, must be ours; one another user made first (a directory of theirs in /tmp, a symbolic
 * link) is said in the log and replaced by a new private one, so that a crash is not lost in
 * silence. A directory attacked after this point is still refused, but only this check says so. */
static void check_dir(void)
{
    const char *dir = snap_dir[0] ? snap_dir : "/tmp/scope";
    int fd = scope_real_open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return;   /* made at the crash, 0700 */
    char why[128];
    struct stat st;
    if (fd < 0)
        snprintf(why, sizeof why, "%s", errno == ELOOP || errno == ENOTDIR ? "not a directory (a symbolic link?)" : scope_strerror(errno));
    else if (scope_sys_fstat(fd, &st) != 0)
        snprintf(why, sizeof why, "%s", scope_strerror(errno));
    else if (st.st_uid != geteuid())
        snprintf(why, sizeof why, "owned by uid %lu, not by us", (unsigned long)st.st_uid);
    else if (st.st_mode & 022)
        snprintf(why, sizeof why, "writable by group or others (mode %lo)", (unsigned long)(st.st_mode & 07777));
    else
        why[0] = 0;
    if (fd >= 0)
        scope_real_close(fd);
    if (!why[0])
        return;
    char alt[] = "/tmp/scope-crash-XXXXXX";
    if (scope_real_mkdtemp(alt)) {
        scope_log(SCOPE_LOG_ERROR, "crash snapshots: %s refused: %s; they go to %s instead", dir, why, alt);
        memcpy(snap_dir, alt, sizeof alt);
    } else {
        scope_log(SCOPE_LOG_ERROR, "crash snapshots: %s refused: %s; none will be written (mkdtemp: %s)",
                  dir, why, scope_strerror(errno));
        snap_dir[0] = 0;
        want_bt = want_core = false;
    }
}

static void snapshot(int sig, siginfo_t *si, ucontext_t *uc, int err, pid_t tid)
{
    int dfd = open_snapshot_dir();
    if (dfd < 0)
        return;
    /* SCOPE_SNAPSHOT_DIR is the session's, shared by the processes of one run: the first crash
     * takes it, a later one (another process, or a parent re-raising its child's signal, as
     * timeout(1) does) goes to <pid>/ inside it rather than overwrite the first */
    if (snap_dir[0]) {
        int fd = crash_openat(dfd, "info", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == EEXIST) {
            int sub = pid_dir(dfd);
            crash_close(dfd);
            if ((dfd = sub) < 0)
                return;
        }
        crash_close(fd);
    }
    write_info(dfd, sig, si, err, tid);
    write_config(dfd);
    if (want_bt)
        crash_backtrace(dfd, uc);
    if (want_core)
        crash_core(dfd, sig, si, uc, tid);
    crash_close(dfd);
}

/* ---- the handler and the chain --------------------------------------------------------- */

static int kernel_action(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!scope_real_sigaction && !scope_resolve(SCOPE_FN_sigaction))
        return -1;
    return scope_real_sigaction(sig, act, old);
}

static void unblock(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* The end a crash inside our own handler gets: the original signal, default action, now. */
static _Noreturn void die(int sig)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    kernel_action(sig, &dfl, NULL);
    unblock(sig);
    scope_real_syscall(SYS_tgkill, scope_real_syscall(SYS_getpid), scope_real_syscall(SYS_gettid), sig);
    scope_real_syscall(SYS_exit_group, 128 + sig);
    for (;;)
        ;
}

/* The default action, as if we had never been there. A fault the kernel raised comes back by
 * itself when the handler returns to the faulting instruction, now with the default action (so
 * the kernel decides about the core as it would have); a signal someone sent is sent again, and
 * is delivered once the handler returns and the signal is no longer blocked. */
static void default_action(int sig, const siginfo_t *si)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    kernel_action(sig, &dfl, NULL);
    if (!si || si->si_code <= 0 || sig == SIGABRT)
        scope_real_syscall(SYS_tgkill, scope_real_syscall(SYS_getpid), scope_real_syscall(SYS_gettid), sig);
}

static void chain(int sig, siginfo_t *si, void *uc)
{
    int i = slot(sig);
    struct sigaction a = app[i];
    if (a.sa_handler == SIG_DFL || (a.sa_handler == SIG_IGN && si && si->si_code > 0)) {
        default_action(sig, si);   /* a fault cannot be ignored: the kernel would kill anyway */
        return;
    }
    if (a.sa_handler == SIG_IGN)
        return;
    if (a.sa_flags & SA_RESETHAND) {
        app[i].sa_handler = SIG_DFL;
        app[i].sa_flags = 0;
    }
    /* the mask the kernel would have set for the app's handler; ours is restored on return */
    sigset_t m = a.sa_mask;
    if (!(a.sa_flags & SA_NODEFER))
        sigaddset(&m, sig);
    else
        unblock(sig);
    sigprocmask(SIG_BLOCK, &m, NULL);
    if (a.sa_flags & SA_SIGINFO)
        a.sa_sigaction(sig, si, uc);
    else
        a.sa_handler(sig);
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
    int err = errno, saved_guard = scope_guard;
    scope_guard = 1;   /* our own reads and writes are never recorded */
    pid_t tid = (pid_t)scope_real_syscall(SYS_gettid), none = 0;
    if (!atomic_load(&written)) {
        if (atomic_compare_exchange_strong(&writer, &none, tid)) {
            atomic_store(&first_sig, sig);
            snapshot(sig, si, ucv, err, tid);
            atomic_store(&written, 1);
            atomic_store(&writer, 0);
        } else if (none == tid) {
            die(atomic_load(&first_sig));   /* we crashed while writing */
        } else {
            /* another thread writes the snapshot: let it finish (bounded), then go on */
            for (int k = 0; k < 3000 && atomic_load(&writer); k++) {
                struct timespec ms = {0, 10 * 1000000};
                scope_real_syscall(SYS_nanosleep, &ms, NULL);
            }
        }
    }
    scope_guard = saved_guard;
    errno = err;
    chain(sig, si, ucv);
}

/* ---- installing ------------------------------------------------------------------------ */

bool scope_crash_owns(int sig) { return atomic_load(&on) && slot(sig) >= 0; }

void scope_crash_app_action(int sig, const struct sigaction *act, struct sigaction *old)
{
    int i = slot(sig);
    if (old)
        *old = app[i];
    if (act)
        app[i] = *act;
}

static void keep_config(void)
{
    size_t n = 0;
    for (size_t i = 0; i < scope_cfg.npairs; i++) {
        const char *k = scope_cfg.pairs[i].key, *v = scope_cfg.pairs[i].val;
        size_t kl = strlen(k), vl = strlen(v);
        if (n + kl + vl + 2 > sizeof cfg_text)
            break;
        memcpy(cfg_text + n, k, kl);
        cfg_text[n + kl] = '=';
        memcpy(cfg_text + n + kl + 1, v, vl);
        cfg_text[n + kl + 1 + vl] = '\n';
        n += kl + vl + 2;
    }
    cfg_len = n;
}

static void alt_stack(void)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0 || !(cur.ss_flags & SS_DISABLE))
        return;   /* the thread has one (the app's, or ours inherited by a fork) */
    void *p = mmap(NULL, ALTSTACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return;
    stack_t ss = {.ss_sp = p, .ss_size = ALTSTACK};
    if (sigaltstack(&ss, NULL) != 0)
        munmap(p, ALTSTACK);
}

void scope_crash_init(void)
{
    if (atomic_load(&on)) {   /* again: a forked child (all came along but the flag), a reattach */
        atomic_store(&written, 0);
        atomic_store(&writer, 0);
        alt_stack();
        return;
    }
    want_bt = scope_cfg_bool("SCOPE_SNAPSHOT_BACKTRACE");
    want_core = scope_cfg_bool("SCOPE_SNAPSHOT_COREDUMP");
    if (!want_bt && !want_core)
        return;
    const char *dir = scope_cfg_get("SCOPE_SNAPSHOT_DIR");
    size_t n = dir ? strlen(dir) : 0;
    if (n && n < sizeof snap_dir)
        memcpy(snap_dir, dir, n + 1);
    check_dir();
    if (!want_bt && !want_core)
        return;
    keep_config();
    if (want_bt)
        crash_backtrace_prime();
    alt_stack();
    struct sigaction ours = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART};
    sigemptyset(&ours.sa_mask);
    for (size_t i = 0; i < NFATAL; i++)
        kernel_action(fatal[i], &ours, &app[i]);
    atomic_store(&on, 1);
}
