/* jvm.c — Java's TLS plaintext, from inside the JVM: libscope is its own JVMTI agent.
 *
 * Java's TLS (sun.security.ssl) is written in Java, so no library call carries its plaintext. The
 * JVM is dynamically linked, libscope is preloaded into it as into anything else, and it makes the
 * JVM load it once more as an agent (-agentpath, the same file: the loader hands back the loaded
 * copy) without changing the command or the environment: the java launcher (libjli) finds
 * JNI_CreateJavaVM with dlsym, and its GOT slot for dlsym is pointed at ours, which gives it a
 * JNI_CreateJavaVM that adds the option and calls the real one. (JAVA_TOOL_OPTIONS would do the
 * same, but the JVM then prints "Picked up JAVA_TOOL_OPTIONS" on the program's stderr.)
 *
 * As the agent (Agent_OnLoad), libscope rewrites three classes of the JDK as they are first loaded
 * (ClassFileLoadHook; util/classfile.c): a method the plaintext passes is renamed, and a method of
 * its name put in its place that calls a native of libscope (bound at the class's preparation,
 * RegisterNatives) around the original, with the arguments:
 *  - SSLSocketImpl$AppOutputStream.write(byte[], int, int): what an SSLSocket (HttpsURLConnection)
 *    sends, before the call;
 *  - SSLSocketImpl$AppInputStream.read(byte[], int, int): what it received, the call's result
 *    counting the bytes;
 *  - SSLEngineImpl.wrap and unwrap (ByteBuffer[], int, int, ByteBuffer[], int, int), every other
 *    overload's funnel: an SSLEngine's (the HttpClient's, com.sun.net.httpserver's HttpsServer's)
 *    sources' or destinations' positions before the call, the bytes consumed or produced after.
 * The wrappers have no branch (no stack map to make), the JIT compiles and inlines them as any
 * code, and nothing else of the JVM changes: no JVMTI capability is taken (breakpoints and local
 * variable access, tried first, made each request wait for several safepoints: ten times slower).
 * The socket is found by its ends: an SSLSocket's local and peer ports, an SSLEngine's peer
 * (getPeerHost and getPeerPort, as it was created), matched against the sockets libscope knows
 * (getsockname, getpeername), once an object: it keeps the descriptor in a field added to its
 * class (scope$fd). The plaintext goes to the protocol
 * parsers as any TLS library's (scope_tls_io). Nothing here touches signals: the JVM's own SIGSEGV
 * handling (implicit null checks, safepoints) is its own.
 *
 * Built when the JDK's jvmti.h is found (CMakeLists.txt); otherwise the JVM is left alone. */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dest/log.h"
#include "interpose/wrap.h"
#include "util/classfile.h"

#ifdef SCOPE_HAVE_JVMTI
#include <arpa/inet.h>
#include <jni.h>
#include <jvmti.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* ---- the launcher's JNI_CreateJavaVM ------------------------------------------------------- */
typedef jint (*create_fn)(JavaVM **, void **, void *);
typedef void *(*dlsym_fn)(void *, const char *);
static create_fn real_create;
static dlsym_fn real_dlsym;
static char agent_option[4096 + 16];

static jint create_vm(JavaVM **pvm, void **penv, void *vargs)
{
    JavaVMInitArgs *args = vargs;
    if (!args || args->nOptions < 0 || args->nOptions > 100000 || !agent_option[0] || !scope_hot.copy)
        return real_create(pvm, penv, vargs);
    JavaVMOption *opts = calloc((size_t)args->nOptions + 1, sizeof *opts);
    if (!opts)
        return real_create(pvm, penv, vargs);
    if (args->nOptions)
        memcpy(opts, args->options, (size_t)args->nOptions * sizeof *opts);
    opts[args->nOptions].optionString = agent_option;
    JavaVMInitArgs ours = *args;
    ours.options = opts;
    ours.nOptions = args->nOptions + 1;
    jint rc = real_create(pvm, penv, &ours);
    free(opts);   /* the JVM copies what it keeps */
    return rc;
}

static __attribute__((unused)) void *launcher_dlsym(void *handle, const char *name)
{
    void *r = real_dlsym(handle, name);
    if (r && name && !strcmp(name, "JNI_CreateJavaVM")) {
        real_create = (create_fn)r;
        return (void *)create_vm;
    }
    return r;
}

struct jli_find {
    uintptr_t base;
    const ElfW(Dyn) *dyn;
    uintptr_t relro_lo, relro_hi;
};

static int find_jli(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct jli_find *f = arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    size_t n = strlen(name);
    if (n < 10 || strcmp(name + n - 10, "/libjli.so"))
        return 0;
    f->base = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            f->dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            f->relro_lo = info->dlpi_addr + ph->p_vaddr;
            f->relro_hi = f->relro_lo + ph->p_memsz;
        }
    }
    return 1;
}

/* libjli's GOT slot for dlsym (its PLT relocation), or NULL. */
static __attribute__((unused)) void **jli_dlsym_slot(struct jli_find *f)
{
    if (!dl_iterate_phdr(find_jli, f) || !f->dyn)
        return NULL;
    const ElfW(Rela) *rel = NULL;
    size_t relsz = 0;
    const ElfW(Sym) *syms = NULL;
    const char *strs = NULL;
    for (const ElfW(Dyn) *d = f->dyn; d->d_tag != DT_NULL; d++) {
        /* the loader has made these addresses absolute (glibc relocates the dynamic section) */
        if (d->d_tag == DT_JMPREL)
            rel = (const ElfW(Rela) *)d->d_un.d_ptr;
        else if (d->d_tag == DT_PLTRELSZ)
            relsz = d->d_un.d_val;
        else if (d->d_tag == DT_SYMTAB)
            syms = (const ElfW(Sym) *)d->d_un.d_ptr;
        else if (d->d_tag == DT_STRTAB)
            strs = (const char *)d->d_un.d_ptr;
    }
    if (!rel || !syms || !strs)
        return NULL;
    for (size_t i = 0; i < relsz / sizeof *rel; i++)
        if (ELF64_R_TYPE(rel[i].r_info) == R_X86_64_JUMP_SLOT && !strcmp(strs + syms[ELF64_R_SYM(rel[i].r_info)].st_name, "dlsym"))
            return (void **)(f->base + rel[i].r_offset);
    return NULL;
}

void scope_jvm_prepare(void)
{
#if defined(__x86_64__)
    struct jli_find f = {0};
    void **slot = jli_dlsym_slot(&f);
    if (!slot || !*slot)
        return;   /* not the java launcher: nothing to do */
    Dl_info self;
    if (!dladdr((void *)&scope_jvm_prepare, &self) || !self.dli_fname || self.dli_fname[0] != '/' ||
        strlen(self.dli_fname) > 4096)
        return;
    snprintf(agent_option, sizeof agent_option, "-agentpath:%s", self.dli_fname);
    real_dlsym = (dlsym_fn)*slot;
    uintptr_t page = (uintptr_t)slot & ~(uintptr_t)4095;
    bool relro = (uintptr_t)slot >= f.relro_lo && (uintptr_t)slot < f.relro_hi;
    if (relro && mprotect((void *)page, 4096, PROT_READ | PROT_WRITE) != 0) {
        scope_log(SCOPE_LOG_WARNING, "java: libjli's GOT could not be written (%s): its TLS plaintext is not seen",
                  scope_strerror(errno));
        return;
    }
    __atomic_store_n(slot, (void *)launcher_dlsym, __ATOMIC_RELEASE);
    if (relro)
        mprotect((void *)page, 4096, PROT_READ);
    scope_log(SCOPE_LOG_INFO, "java: the JVM will load libscope as its agent (%s)", agent_option);
#endif
}

/* ---- the agent ------------------------------------------------------------------------------ */
static jvmtiEnv *ti;

/* Fields and methods read through JNI, looked up once. */
static struct {
    bool ok;
    jfieldID position, limit, address, hb, offset;   /* java.nio.Buffer, ByteBuffer */
    jfieldID ctx_transport;                          /* TransportContext.transport */
    jmethodID local_port, port;                      /* java.net.Socket */
    jmethodID peer_host, peer_port;                  /* javax.net.ssl.SSLEngine */
    jclass socket_class, engine_class;               /* global references */
} j;

static void clear_exc(JNIEnv *jni)
{
    if ((*jni)->ExceptionCheck(jni))
        (*jni)->ExceptionClear(jni);
}

static bool lookups(JNIEnv *jni)
{
    if (j.ok)
        return true;
    jclass buf = (*jni)->FindClass(jni, "java/nio/Buffer");
    jclass bb = buf ? (*jni)->FindClass(jni, "java/nio/ByteBuffer") : NULL;
    jclass sock = bb ? (*jni)->FindClass(jni, "java/net/Socket") : NULL;
    jclass eng = sock ? (*jni)->FindClass(jni, "javax/net/ssl/SSLEngine") : NULL;
    jclass ctx = eng ? (*jni)->FindClass(jni, "sun/security/ssl/TransportContext") : NULL;
    if (!ctx) {
        clear_exc(jni);
        return false;
    }
    j.position = (*jni)->GetFieldID(jni, buf, "position", "I");
    j.limit = (*jni)->GetFieldID(jni, buf, "limit", "I");
    j.address = (*jni)->GetFieldID(jni, buf, "address", "J");
    j.hb = (*jni)->GetFieldID(jni, bb, "hb", "[B");
    j.offset = (*jni)->GetFieldID(jni, bb, "offset", "I");
    j.ctx_transport = (*jni)->GetFieldID(jni, ctx, "transport", "Lsun/security/ssl/SSLTransport;");
    j.local_port = (*jni)->GetMethodID(jni, sock, "getLocalPort", "()I");
    j.port = (*jni)->GetMethodID(jni, sock, "getPort", "()I");
    j.peer_host = (*jni)->GetMethodID(jni, eng, "getPeerHost", "()Ljava/lang/String;");
    j.peer_port = (*jni)->GetMethodID(jni, eng, "getPeerPort", "()I");
    j.socket_class = (*jni)->NewGlobalRef(jni, sock);
    j.engine_class = (*jni)->NewGlobalRef(jni, eng);
    clear_exc(jni);
    j.ok = j.position && j.limit && j.address && j.hb && j.offset && j.ctx_transport && j.local_port && j.port &&
           j.peer_host && j.peer_port && j.socket_class && j.engine_class;
    if (!j.ok)
        scope_log(SCOPE_LOG_WARNING, "java: this JDK's classes are not as expected: its TLS plaintext is not seen");
    return j.ok;
}

/* ---- which socket ---------------------------------------------------------------------------- */
static int port_of(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
         : ss->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
         : -1;
}

/* Sockets an SSLEngine already took, each by the channel it had then (a descriptor closed and
 * reused is another socket): engines to one peer (an HttpClient's pool of HTTP/1.1 connections to
 * one server) must not all take the same socket. fd < CLAIMS. */
#define CLAIMS 65536
static _Atomic uint64_t *claims;

static bool claimed(int fd, uint64_t chan)
{
    return claims && fd < CLAIMS && atomic_load_explicit(&claims[fd], memory_order_relaxed) == chan;
}

static void claim(int fd)
{
    struct scope_fdc *c = scope_fdc(fd);
    if (!claims && !(claims = calloc(CLAIMS, sizeof *claims)))
        return;
    if (c && fd < CLAIMS)
        atomic_store_explicit(&claims[fd], atomic_load_explicit(&c->chan, memory_order_relaxed), memory_order_relaxed);
}

/* A socket libscope knows whose local port is lport (-1: any, and not one another engine took)
 * and whose peer has port pport and, when ip is a literal address, that address. -1 when none. */
static pthread_mutex_t claim_lock = PTHREAD_MUTEX_INITIALIZER;

static int socket_by_ends(int lport, int pport, const char *ip)
{
    if (lport < 0)
        pthread_mutex_lock(&claim_lock);   /* two engines looking at once take two sockets */
    struct in_addr v4;
    struct in6_addr v6;
    int fam = !ip ? 0 : inet_pton(AF_INET, ip, &v4) == 1 ? AF_INET : inet_pton(AF_INET6, ip, &v6) == 1 ? AF_INET6 : 0;
    int found = -1;
    for (int fd = 0; fd <= scope_fd_top(); fd++) {
        struct scope_fdc *c = scope_fdc(fd);
        uint64_t chan = c ? atomic_load_explicit(&c->chan, memory_order_relaxed) : 0;
        if (!chan || !(atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_SOCK) ||
            (lport < 0 && claimed(fd, chan)))
            continue;
        struct sockaddr_storage peer, local;
        socklen_t pl = sizeof peer, ll = sizeof local;
        if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 || port_of(&peer) != pport)
            continue;
        if (lport >= 0 && (getsockname(fd, (struct sockaddr *)&local, &ll) != 0 || port_of(&local) != lport))
            continue;
        /* Java's sockets are IPv6 ones, an IPv4 peer mapped (::ffff:a.b.c.d) */
        const struct in6_addr *p6 = &((struct sockaddr_in6 *)&peer)->sin6_addr;
        if (fam == AF_INET && !(peer.ss_family == AF_INET && !memcmp(&((struct sockaddr_in *)&peer)->sin_addr, &v4, 4)) &&
            !(peer.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(p6) && !memcmp(&p6->s6_addr[12], &v4, 4)))
            continue;
        if (fam == AF_INET6 && (peer.ss_family != AF_INET6 || memcmp(&((struct sockaddr_in6 *)&peer)->sin6_addr, &v6, 16)))
            continue;
        found = fd;   /* the highest: the newest of several to one peer, as a rule */
    }
    if (lport < 0) {
        if (found >= 0)
            claim(found);
        pthread_mutex_unlock(&claim_lock);
    }
    return found;
}

/* The socket of an SSLSocket or an SSLEngine, found by its ends; -1 when not known. */
static int transport_fd(JNIEnv *jni, jobject t)
{
    int fd = -1;
    if (!t)
        return -1;
    if ((*jni)->IsInstanceOf(jni, t, j.socket_class)) {
        jint lport = (*jni)->CallIntMethod(jni, t, j.local_port), pport = (*jni)->CallIntMethod(jni, t, j.port);
        clear_exc(jni);
        if (pport > 0)
            fd = socket_by_ends(lport, pport, NULL);
    } else if ((*jni)->IsInstanceOf(jni, t, j.engine_class)) {
        jint pport = (*jni)->CallIntMethod(jni, t, j.peer_port);
        jstring host = (*jni)->CallObjectMethod(jni, t, j.peer_host);
        clear_exc(jni);
        const char *h = host ? (*jni)->GetStringUTFChars(jni, host, NULL) : NULL;
        if (pport > 0)
            fd = socket_by_ends(-1, pport, h);
        if (h)
            (*jni)->ReleaseStringUTFChars(jni, host, h);
        if (host)
            (*jni)->DeleteLocalRef(jni, host);
    }
    return fd;
}

/* ---- the plaintext --------------------------------------------------------------------------- */
#define COPY_MAX (64u << 10)

static void hand(int fd, bool tx, const void *buf, size_t n, size_t total)
{
    if (fd < 0 || !total || !scope_enter())
        return;
    int saved = errno;
    scope_tls_io(tx ? SCOPE_FN_SSL_write : SCOPE_FN_SSL_read, fd, tx, (ssize_t)n, buf);
    if (total > n)   /* beyond what was copied: counted, not seen */
        scope_tls_io(tx ? SCOPE_FN_SSL_write : SCOPE_FN_SSL_read, fd, tx, (ssize_t)(total - n), NULL);
    errno = saved;
    scope_leave();
}

/* Up to 16 buffers' positions, kept from a wrapped call's start to its end, per thread, on a small
 * stack (a call that throws never ends: a full stack starts again). */
#define MAX_BUFS 16
#define MAX_DEPTH 4
static __thread struct {
    int depth;
    jint pos[MAX_DEPTH][MAX_BUFS];
} pending;

/* The array's buffers [off, off + len): their positions pushed (at_entry), or the bytes between the
 * positions on top and the ones now, handed over as one piece (the caller pops). */
static void buffers(JNIEnv *jni, jobjectArray arr, jint off, jint len, bool at_entry, int fd, bool tx)
{
    if (at_entry) {
        if (pending.depth >= MAX_DEPTH)
            pending.depth = 0;
        memset(pending.pos[pending.depth], 0, sizeof pending.pos[0]);
        pending.depth++;
    }
    jint *pos0 = pending.pos[pending.depth - 1];
    if (!arr || off < 0 || len <= 0)
        return;
    jsize count = (*jni)->GetArrayLength(jni, arr);
    if (off > count || len > count - off)
        return;
    if (len > MAX_BUFS)
        len = MAX_BUFS;
    static __thread unsigned char *copy;
    if (!at_entry && !copy && !(copy = malloc(COPY_MAX)))
        return;
    size_t got = 0, total = 0;
    for (jint i = 0; i < len; i++) {
        jobject b = (*jni)->GetObjectArrayElement(jni, arr, off + i);
        if (!b)
            continue;
        jint pos = (*jni)->GetIntField(jni, b, j.position);
        if (at_entry) {
            pos0[i] = pos;
        } else if (pos > pos0[i]) {
            jint from = pos0[i], n = pos - from;
            size_t take = n < (jint)(COPY_MAX - got) ? (size_t)n : COPY_MAX - got;
            jbyteArray hb = (*jni)->GetObjectField(jni, b, j.hb);
            if (hb) {
                jint base = (*jni)->GetIntField(jni, b, j.offset);
                (*jni)->GetByteArrayRegion(jni, hb, base + from, (jsize)take, (jbyte *)copy + got);
                (*jni)->DeleteLocalRef(jni, hb);
            } else {
                jlong addr = (*jni)->GetLongField(jni, b, j.address);
                if (addr)
                    memcpy(copy + got, (const void *)(uintptr_t)(addr + from), take);
                else
                    take = 0;
            }
            got += take;
            total += (size_t)n;
        }
        (*jni)->DeleteLocalRef(jni, b);
    }
    clear_exc(jni);
    if (!at_entry && total)
        hand(fd, tx, copy, got, total);
}

/* ---- the classes rewritten ------------------------------------------------------------------- */
enum cls { C_OUT, C_IN, C_ENGINE, C_COUNT };
static const char *const class_names[C_COUNT] = {
    "sun/security/ssl/SSLSocketImpl$AppOutputStream", "sun/security/ssl/SSLSocketImpl$AppInputStream",
    "sun/security/ssl/SSLEngineImpl",
};
#define ENGINE_SIG "([Ljava/nio/ByteBuffer;II[Ljava/nio/ByteBuffer;II)Ljavax/net/ssl/SSLEngineResult;"
#define BUFS_SIG "(Ljava/lang/Object;[Ljava/nio/ByteBuffer;II)V"
#define BYTES_SIG "(Ljava/lang/Object;[BII)V"
#define PH(v) (uint8_t)((v) >> 8), (uint8_t)((v) & 0xff)

/* write(byte[] b, int off, int len): scope$out(this, b, off, len), then the original */
static const uint8_t out_code[] = {
    0x2a, 0x2b, 0x1c, 0x1d, 0xb8, PH(SCOPE_CF_NATIVE(0)),
    0x2a, 0x2b, 0x1c, 0x1d, 0xb7, PH(SCOPE_CF_ORIGINAL(0)),
    0xb1,
};
/* read(byte[] b, int off, int len): n = the original; scope$in(this, b, off, n); n */
static const uint8_t in_code[] = {
    0x2a, 0x2b, 0x1c, 0x1d, 0xb7, PH(SCOPE_CF_ORIGINAL(0)),
    0x36, 0x04,
    0x2a, 0x2b, 0x1c, 0x15, 0x04, 0xb8, PH(SCOPE_CF_NATIVE(0)),
    0x15, 0x04, 0xac,
};
/* wrap(srcs, so, sl, dsts, do, dl): scope$before(this, srcs, so, sl); r = the original;
 * scope$wrapped(this, srcs, so, sl); r */
static const uint8_t wrap_code[] = {
    0x2a, 0x2b, 0x1c, 0x1d, 0xb8, PH(SCOPE_CF_NATIVE(0)),
    0x2a, 0x2b, 0x1c, 0x1d, 0x19, 0x04, 0x15, 0x05, 0x15, 0x06, 0xb7, PH(SCOPE_CF_ORIGINAL(0)),
    0x2a, 0x2b, 0x1c, 0x1d, 0xb8, PH(SCOPE_CF_NATIVE(1)),
    0xb0,
};
/* unwrap(srcs, so, sl, dsts, do, dl): scope$before(this, dsts, do, dl); r = the original;
 * scope$unwrapped(this, dsts, do, dl); r */
static const uint8_t unwrap_code[] = {
    0x2a, 0x19, 0x04, 0x15, 0x05, 0x15, 0x06, 0xb8, PH(SCOPE_CF_NATIVE(0)),
    0x2a, 0x2b, 0x1c, 0x1d, 0x19, 0x04, 0x15, 0x05, 0x15, 0x06, 0xb7, PH(SCOPE_CF_ORIGINAL(1)),
    0x2a, 0x19, 0x04, 0x15, 0x05, 0x15, 0x06, 0xb8, PH(SCOPE_CF_NATIVE(2)),
    0xb0,
};

static const struct scope_cf_wrap out_wraps[] = {{"write", "([BII)V", out_code, sizeof out_code, 4, 4}};
static const struct scope_cf_native out_natives[] = {{"scope$out", BYTES_SIG}};
static const struct scope_cf_wrap in_wraps[] = {{"read", "([BII)I", in_code, sizeof in_code, 4, 5}};
static const struct scope_cf_native in_natives[] = {{"scope$in", BYTES_SIG}};
static const struct scope_cf_wrap engine_wraps[] = {
    {"wrap", ENGINE_SIG, wrap_code, sizeof wrap_code, 7, 7},
    {"unwrap", ENGINE_SIG, unwrap_code, sizeof unwrap_code, 7, 7},
};
static const struct scope_cf_native engine_natives[] = {
    {"scope$before", BUFS_SIG}, {"scope$wrapped", BUFS_SIG}, {"scope$unwrapped", BUFS_SIG}};

static const struct scope_cf_field fd_fields[] = {{"scope$fd", "I"}};
static _Atomic bool rewritten[C_COUNT];
static _Atomic int prepared;
/* Each rewritten object keeps its socket in a field of its own, scope$fd (the descriptor + 1; 0:
 * not looked up yet): the lookup (a getpeername per socket) is made once an object. */
static jfieldID fd_field[C_COUNT];

/* The descriptor self keeps, if it is still a socket libscope knows; -1 otherwise. */
static int known_fd(JNIEnv *jni, int c, jobject self)
{
    jint v = fd_field[c] && self ? (*jni)->GetIntField(jni, self, fd_field[c]) : 0;
    struct scope_fdc *f = v > 0 ? scope_fdc(v - 1) : NULL;
    return f && atomic_load_explicit(&f->chan, memory_order_relaxed) ? v - 1 : -1;
}

/* self's socket: the one it keeps, else transport's (found by its ends), then kept. */
static int object_fd(JNIEnv *jni, int c, jobject self, jobject transport)
{
    int fd = known_fd(jni, c, self);
    if (fd >= 0)
        return fd;
    fd = transport_fd(jni, transport);
    if (fd >= 0 && fd_field[c] && self)
        (*jni)->SetIntField(jni, self, fd_field[c], fd + 1);
    return fd;
}

/* The outer SSLSocketImpl of an AppOutputStream or AppInputStream (this$0). */
static jfieldID outer[2];

static int socket_of_stream(JNIEnv *jni, int which, jobject self)
{
    if (!outer[which] || !self)
        return -1;
    int fd = known_fd(jni, which, self);
    if (fd >= 0)
        return fd;   /* the outer socket is not needed */
    jobject sock = (*jni)->GetObjectField(jni, self, outer[which]);
    fd = object_fd(jni, which, self, sock);
    if (sock)
        (*jni)->DeleteLocalRef(jni, sock);
    return fd;
}

static void stream_bytes(JNIEnv *jni, int fd, bool tx, jbyteArray b, jint off, jint n)
{
    static __thread unsigned char *copy;
    if (fd < 0 || !b || n <= 0 || off < 0 || n > (*jni)->GetArrayLength(jni, b) - off || (!copy && !(copy = malloc(COPY_MAX))))
        return;
    size_t take = (size_t)n < COPY_MAX ? (size_t)n : COPY_MAX;
    (*jni)->GetByteArrayRegion(jni, b, off, (jsize)take, (jbyte *)copy);
    clear_exc(jni);
    hand(fd, tx, copy, take, (size_t)n);
}

static void JNICALL n_out(JNIEnv *jni, jclass k, jobject self, jbyteArray b, jint off, jint len)
{
    (void)k;
    if (atomic_load_explicit(&scope_hot.active, memory_order_relaxed) && lookups(jni))
        stream_bytes(jni, socket_of_stream(jni, 0, self), true, b, off, len);
    clear_exc(jni);
}

static void JNICALL n_in(JNIEnv *jni, jclass k, jobject self, jbyteArray b, jint off, jint n)
{
    (void)k;
    if (n > 0 && atomic_load_explicit(&scope_hot.active, memory_order_relaxed) && lookups(jni))
        stream_bytes(jni, socket_of_stream(jni, 1, self), false, b, off, n);
    clear_exc(jni);
}

static void JNICALL n_before(JNIEnv *jni, jclass k, jobject self, jobjectArray bufs, jint off, jint len)
{
    (void)k, (void)self;
    if (lookups(jni))
        buffers(jni, bufs, off, len, true, -1, false);
    clear_exc(jni);
}

static void after(JNIEnv *jni, jobject self, jobjectArray bufs, jint off, jint len, bool tx)
{
    if (pending.depth <= 0)
        return;
    if (atomic_load_explicit(&scope_hot.active, memory_order_relaxed) && lookups(jni))
        buffers(jni, bufs, off, len, false, object_fd(jni, C_ENGINE, self, self), tx);
    pending.depth--;
    clear_exc(jni);
}

static void JNICALL n_wrapped(JNIEnv *jni, jclass k, jobject self, jobjectArray bufs, jint off, jint len)
{
    (void)k;
    after(jni, self, bufs, off, len, true);
}

static void JNICALL n_unwrapped(JNIEnv *jni, jclass k, jobject self, jobjectArray bufs, jint off, jint len)
{
    (void)k;
    after(jni, self, bufs, off, len, false);
}

static void JNICALL on_load(jvmtiEnv *env, JNIEnv *jni, jclass redefined, jobject loader, const char *name,
                            jobject domain, jint len, const unsigned char *data, jint *new_len, unsigned char **new_data)
{
    (void)env, (void)jni, (void)domain;
    if (redefined || loader || !name || len <= 0)
        return;   /* the JDK's own classes only, as first loaded */
    int c = 0;
    while (c < C_COUNT && strcmp(name, class_names[c]))
        c++;
    if (c == C_COUNT)
        return;
    size_t out_len = 0;
    unsigned char *out = c == C_OUT ? scope_cf_wrap(data, (size_t)len, out_wraps, 1, out_natives, 1, fd_fields, 1, &out_len)
                       : c == C_IN  ? scope_cf_wrap(data, (size_t)len, in_wraps, 1, in_natives, 1, fd_fields, 1, &out_len)
                                    : scope_cf_wrap(data, (size_t)len, engine_wraps, 2, engine_natives, 3, fd_fields, 1, &out_len);
    unsigned char *mem = NULL;
    if (out && out_len < 0x7fffffff && (*ti)->Allocate(ti, (jlong)out_len, &mem) == JVMTI_ERROR_NONE) {
        memcpy(mem, out, out_len);
        *new_data = mem;
        *new_len = (jint)out_len;
        atomic_store(&rewritten[c], true);
    } else {
        scope_log(SCOPE_LOG_WARNING, "java: %s is not as this version knows: part of its TLS plaintext is not seen", name);
    }
    free(out);
}

/* A rewritten class, prepared: its natives bound (before any of its code can run). */
static void JNICALL on_prepare(jvmtiEnv *env, JNIEnv *jni, jthread thread, jclass klass)
{
    (void)env, (void)thread;
    char *sig = NULL;
    if ((*ti)->GetClassSignature(ti, klass, &sig, NULL) != JVMTI_ERROR_NONE || !sig)
        return;
    int c = 0;
    size_t sl = strlen(sig);
    while (c < C_COUNT && !(sl == strlen(class_names[c]) + 2 && !strncmp(sig + 1, class_names[c], sl - 2)))
        c++;
    (*ti)->Deallocate(ti, (unsigned char *)sig);
    if (c == C_COUNT || !atomic_load(&rewritten[c]))
        return;
    static const JNINativeMethod out_m[] = {{"scope$out", BYTES_SIG, (void *)n_out}};
    static const JNINativeMethod in_m[] = {{"scope$in", BYTES_SIG, (void *)n_in}};
    static const JNINativeMethod engine_m[] = {{"scope$before", BUFS_SIG, (void *)n_before},
                                               {"scope$wrapped", BUFS_SIG, (void *)n_wrapped},
                                               {"scope$unwrapped", BUFS_SIG, (void *)n_unwrapped}};
    jint rc = c == C_OUT ? (*jni)->RegisterNatives(jni, klass, out_m, 1)
            : c == C_IN  ? (*jni)->RegisterNatives(jni, klass, in_m, 1)
                         : (*jni)->RegisterNatives(jni, klass, engine_m, 3);
    if (c != C_ENGINE)
        outer[c] = (*jni)->GetFieldID(jni, klass, "this$0", "Lsun/security/ssl/SSLSocketImpl;");
    fd_field[c] = (*jni)->GetFieldID(jni, klass, "scope$fd", "I");
    clear_exc(jni);
    if (rc != 0)
        scope_log(SCOPE_LOG_ERROR, "java: the natives of %s could not be bound", class_names[c]);
    else
        scope_log(SCOPE_LOG_INFO, "java: %s wrapped", class_names[c]);
    if (atomic_fetch_add(&prepared, 1) + 1 == C_COUNT) {   /* all three: no more events wanted */
        (*ti)->SetEventNotificationMode(ti, JVMTI_DISABLE, JVMTI_EVENT_CLASS_PREPARE, NULL);
        (*ti)->SetEventNotificationMode(ti, JVMTI_DISABLE, JVMTI_EVENT_CLASS_FILE_LOAD_HOOK, NULL);
    }
}

SCOPE_API jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved)
{
    (void)options, (void)reserved;
    static bool loaded;
    if (loaded || !vm)
        return JNI_OK;   /* never fail the JVM's start */
    loaded = true;
    if ((*vm)->GetEnv(vm, (void **)&ti, JVMTI_VERSION_1_2) != JNI_OK) {
        scope_log(SCOPE_LOG_WARNING, "java: no JVMTI environment: its TLS plaintext is not seen");
        return JNI_OK;
    }
    jvmtiEventCallbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.ClassFileLoadHook = on_load;
    cb.ClassPrepare = on_prepare;
    jvmtiError e = (*ti)->SetEventCallbacks(ti, &cb, (jint)sizeof cb);
    if (e == JVMTI_ERROR_NONE)
        e = (*ti)->SetEventNotificationMode(ti, JVMTI_ENABLE, JVMTI_EVENT_CLASS_FILE_LOAD_HOOK, NULL);
    if (e == JVMTI_ERROR_NONE)
        e = (*ti)->SetEventNotificationMode(ti, JVMTI_ENABLE, JVMTI_EVENT_CLASS_PREPARE, NULL);
    if (e != JVMTI_ERROR_NONE)
        scope_log(SCOPE_LOG_WARNING, "java: JVMTI error %d: its TLS plaintext is not seen", (int)e);
    else
        scope_log(SCOPE_LOG_INFO, "java: libscope is the JVM's agent");
    return JNI_OK;
}
#else
void scope_jvm_prepare(void) {}
#endif
