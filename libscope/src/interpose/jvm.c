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
 * As the agent (Agent_OnLoad), libscope sets JVMTI breakpoints, when their classes are prepared,
 * in the methods the plaintext passes, and reads their arguments from the frame at the breakpoint:
 *  - SSLSocketImpl$AppOutputStream.write(byte[], int, int): what an SSLSocket (HttpsURLConnection)
 *    sends, at its entry;
 *  - SSLEngineImpl.wrap(ByteBuffer[], int, int, ByteBuffer[], int, int): what an SSLEngine (the
 *    HttpClient, com.sun.net.httpserver's HttpsServer) sends: the sources' positions at its entry,
 *    and at each of its return instructions the bytes consumed since;
 *  - SSLTransport.decode(TransportContext, ByteBuffer[], int, int, ByteBuffer[], int, int): the
 *    funnel of what both receive: the destinations' positions at its entry, the bytes put there at
 *    its returns.
 * The JVM runs a method with a breakpoint in its interpreter; the rest is untouched. The socket is
 * found by its ends: an SSLSocket's local and peer ports, an SSLEngine's peer (getPeerHost and
 * getPeerPort, as it was created), matched against the sockets libscope knows (getsockname,
 * getpeername), remembered by the object. The plaintext goes to the protocol parsers as any TLS
 * library's (scope_tls_io). Nothing here touches signals: the JVM's own SIGSEGV handling (implicit
 * null checks, safepoints) is its own.
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

static void *launcher_dlsym(void *handle, const char *name)
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
static void **jli_dlsym_slot(struct jli_find *f)
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
enum target { T_WRITE, T_WRAP, T_DECODE, T_COUNT };
static const struct {
    const char *cls, *name, *sig;
} targets[T_COUNT] = {
    {"Lsun/security/ssl/SSLSocketImpl$AppOutputStream;", "write", "([BII)V"},
    {"Lsun/security/ssl/SSLEngineImpl;", "wrap",
     "([Ljava/nio/ByteBuffer;II[Ljava/nio/ByteBuffer;II)Ljavax/net/ssl/SSLEngineResult;"},
    {"Lsun/security/ssl/SSLTransport;", "decode",
     "(Lsun/security/ssl/TransportContext;[Ljava/nio/ByteBuffer;II[Ljava/nio/ByteBuffer;II)Lsun/security/ssl/Plaintext;"},
};
static jmethodID methods[T_COUNT];
static jvmtiEnv *ti;

/* Fields and methods read through JNI, looked up once. */
static struct {
    bool ok;
    jfieldID position, limit, address, hb, offset;   /* java.nio.Buffer, ByteBuffer */
    jfieldID out_socket;                             /* AppOutputStream.this$0 */
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

/* A socket libscope knows whose local port is lport (-1: any) and whose peer has port pport and,
 * when ip is a literal address, that address. -1 when none. */
static int socket_by_ends(int lport, int pport, const char *ip)
{
    struct in_addr v4;
    struct in6_addr v6;
    int fam = !ip ? 0 : inet_pton(AF_INET, ip, &v4) == 1 ? AF_INET : inet_pton(AF_INET6, ip, &v6) == 1 ? AF_INET6 : 0;
    int found = -1;
    for (int fd = 0; fd <= scope_fd_top(); fd++) {
        struct scope_fdc *c = scope_fdc(fd);
        if (!c || !atomic_load_explicit(&c->chan, memory_order_relaxed) ||
            !(atomic_load_explicit(&c->flags, memory_order_relaxed) & SCOPE_FD_SOCK))
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
    return found;
}

/* The socket of an SSLSocket or an SSLEngine (the transport of a TransportContext), -1 when not
 * known. Remembered by the object (a weak reference) for the next call. */
#define FD_MEMO 64
static struct {
    jweak obj;
    int fd;
} memo[FD_MEMO];
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static int transport_fd(JNIEnv *jni, jobject t)
{
    if (!t)
        return -1;
    pthread_mutex_lock(&memo_lock);
    for (int i = 0; i < FD_MEMO; i++)
        if (memo[i].obj && (*jni)->IsSameObject(jni, memo[i].obj, t)) {
            int fd = memo[i].fd;
            struct scope_fdc *c = scope_fdc(fd);
            pthread_mutex_unlock(&memo_lock);
            if (c && atomic_load_explicit(&c->chan, memory_order_relaxed))
                return fd;
            goto look;
        }
    pthread_mutex_unlock(&memo_lock);
look:;
    int fd = -1;
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
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&memo_lock);
    static unsigned next;
    unsigned i = next++ % FD_MEMO;
    if (memo[i].obj)
        (*jni)->DeleteWeakGlobalRef(jni, memo[i].obj);
    memo[i].obj = (*jni)->NewWeakGlobalRef(jni, t);
    memo[i].fd = fd;
    pthread_mutex_unlock(&memo_lock);
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

/* Up to 16 buffers' positions, kept from a method's entry to its return (per thread: a method
 * with a breakpoint does not run twice at once on one thread). */
#define MAX_BUFS 16
static __thread struct {
    int target;   /* -1: none pending */
    int n;
    jint pos[MAX_BUFS];
} pending = {-1, 0, {0}};

/* The array's buffers [off, off + len): their positions, or (at the return) the bytes between the
 * positions kept and the ones now, handed over as one piece. */
static void buffers(JNIEnv *jni, jobjectArray arr, jint off, jint len, bool at_entry, int fd, bool tx)
{
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
            pending.pos[i] = pos;
        } else if (pos > pending.pos[i]) {
            jint from = pending.pos[i], n = pos - from;
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
    if (at_entry)
        pending.n = len;
    else if (total)
        hand(fd, tx, copy, got, total);
}

static void JNICALL on_breakpoint(jvmtiEnv *env, JNIEnv *jni, jthread thread, jmethodID method, jlocation at)
{
    (void)env;
    int t = method == methods[T_WRITE] ? T_WRITE : method == methods[T_WRAP] ? T_WRAP : method == methods[T_DECODE] ? T_DECODE : -1;
    if (t < 0 || !atomic_load(&scope_hot.active) || !lookups(jni))
        return;
    (*jni)->PushLocalFrame(jni, 32);
    if (t == T_WRITE) {   /* this, b, off, len */
        jobject self = NULL, sock = NULL, b = NULL;
        jint off = 0, len = 0;
        if ((*ti)->GetLocalObject(ti, thread, 0, 0, &self) == JVMTI_ERROR_NONE &&
            (*ti)->GetLocalObject(ti, thread, 0, 1, &b) == JVMTI_ERROR_NONE && b &&
            (*ti)->GetLocalInt(ti, thread, 0, 2, &off) == JVMTI_ERROR_NONE &&
            (*ti)->GetLocalInt(ti, thread, 0, 3, &len) == JVMTI_ERROR_NONE && len > 0 && off >= 0 &&
            len <= (*jni)->GetArrayLength(jni, b) - off) {
            if (!j.out_socket) {
                jclass k = (*jni)->GetObjectClass(jni, self);
                j.out_socket = (*jni)->GetFieldID(jni, k, "this$0", "Lsun/security/ssl/SSLSocketImpl;");
                clear_exc(jni);
            }
            sock = j.out_socket ? (*jni)->GetObjectField(jni, self, j.out_socket) : NULL;
            int fd = transport_fd(jni, sock);
            static __thread unsigned char *copy;
            if (fd >= 0 && (copy || (copy = malloc(COPY_MAX)))) {
                size_t take = (size_t)len < COPY_MAX ? (size_t)len : COPY_MAX;
                (*jni)->GetByteArrayRegion(jni, b, off, (jsize)take, (jbyte *)copy);
                clear_exc(jni);
                hand(fd, true, copy, take, (size_t)len);
            }
        }
    } else {
        /* wrap: this, srcs, srcsOffset, srcsLength (the sources: sent); decode: context, srcs,
         * srcsOffset, srcsLength, dsts, dstsOffset, dstsLength (the destinations: received) */
        bool entry = at == 0;
        int slot = t == T_WRAP ? 1 : 4;
        jobject first = NULL, arr = NULL;
        jint off = 0, len = 0;
        if (!entry && pending.target != t) {
            (*jni)->PopLocalFrame(jni, NULL);
            return;   /* a return with no entry seen (set while the call was under way) */
        }
        if ((*ti)->GetLocalObject(ti, thread, 0, 0, &first) == JVMTI_ERROR_NONE &&
            (*ti)->GetLocalObject(ti, thread, 0, slot, &arr) == JVMTI_ERROR_NONE &&
            (*ti)->GetLocalInt(ti, thread, 0, slot + 1, &off) == JVMTI_ERROR_NONE &&
            (*ti)->GetLocalInt(ti, thread, 0, slot + 2, &len) == JVMTI_ERROR_NONE) {
            if (entry) {
                pending.target = t;
                buffers(jni, arr, off, len, true, -1, false);
            } else {
                jobject transport = t == T_WRAP ? first : first ? (*jni)->GetObjectField(jni, first, j.ctx_transport) : NULL;
                clear_exc(jni);
                buffers(jni, arr, off, len, false, transport_fd(jni, transport), t == T_WRAP);
            }
        }
        if (!entry)
            pending.target = -1;
    }
    (*jni)->PopLocalFrame(jni, NULL);
}

/* Length of the JVM instruction at code[pc] (of n bytes), 0 when unknown. */
static unsigned insn_len(const unsigned char *code, jint n, jint pc)
{
    unsigned char op = code[pc];
    if (op == 0xaa || op == 0xab) {   /* tableswitch, lookupswitch: 4-byte aligned operands */
        jint at = (pc + 4) & ~3;
        if (at + 12 > n)
            return 0;
        int32_t a = (int32_t)((unsigned)code[at + 4] << 24 | code[at + 5] << 16 | code[at + 6] << 8 | code[at + 7]);
        int32_t b = (int32_t)((unsigned)code[at + 8] << 24 | code[at + 9] << 16 | code[at + 10] << 8 | code[at + 11]);
        long long len = op == 0xaa ? 12 + 4LL * ((long long)b - a + 1) : 8 + 8LL * a;
        if (len < 8 || at + len > n)
            return 0;
        return (unsigned)(at + len - pc);
    }
    if (op == 0xc4)   /* wide: iinc takes 5 more bytes, the loads and stores 3 */
        return pc + 1 < n && code[pc + 1] == 0x84 ? 6 : 4;
    /* 0x00-0xc9 but the two switches and wide: operand bytes (+1), from the JVM specification */
    static const unsigned char len[0xca] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 2, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1,   /* 00 */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1,   /* 20 */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 40 */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 60 */
        1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3,   /* 80 */
        3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 0, 0, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 5, 5, 3, 2, 3, 1, 1,   /* a0 */
        3, 3, 1, 1, 0, 4, 3, 3, 5, 5,                                                                   /* c0 */
    };
    return op < 0xca ? len[op] : 0;
}

static void set_breakpoints(jmethodID m, int t)
{
    jvmtiError e = (*ti)->SetBreakpoint(ti, m, 0);
    if (e == JVMTI_ERROR_NONE && t != T_WRITE) {
        /* and on each return instruction */
        jint n = 0;
        unsigned char *code = NULL;
        e = (*ti)->GetBytecodes(ti, m, &n, &code);
        for (jint pc = 0; e == JVMTI_ERROR_NONE && pc < n;) {
            unsigned l = insn_len(code, n, pc);
            if (!l) {
                e = JVMTI_ERROR_INVALID_METHODID;
                break;
            }
            if (code[pc] == 0xb0 && pc > 0)   /* areturn */
                e = (*ti)->SetBreakpoint(ti, m, pc);
            pc += (jint)l;
        }
        if (code)
            (*ti)->Deallocate(ti, code);
    }
    if (e != JVMTI_ERROR_NONE) {
        (*ti)->ClearBreakpoint(ti, m, 0);
        scope_log(SCOPE_LOG_WARNING, "java: %s.%s could not be watched (JVMTI error %d): part of its TLS plaintext is not seen",
                  targets[t].cls, targets[t].name, (int)e);
        return;
    }
    methods[t] = m;
    scope_log(SCOPE_LOG_INFO, "java: %s.%s watched", targets[t].cls, targets[t].name);
}

static void JNICALL on_class_prepare(jvmtiEnv *env, JNIEnv *jni, jthread thread, jclass klass)
{
    (void)env, (void)jni, (void)thread;
    char *sig = NULL;
    if ((*ti)->GetClassSignature(ti, klass, &sig, NULL) != JVMTI_ERROR_NONE || !sig)
        return;
    int t = 0;
    while (t < T_COUNT && strcmp(sig, targets[t].cls))
        t++;
    (*ti)->Deallocate(ti, (unsigned char *)sig);
    if (t == T_COUNT)
        return;
    jint n = 0;
    jmethodID *ms = NULL;
    if ((*ti)->GetClassMethods(ti, klass, &n, &ms) != JVMTI_ERROR_NONE)
        return;
    for (jint i = 0; i < n; i++) {
        char *name = NULL, *msig = NULL;
        if ((*ti)->GetMethodName(ti, ms[i], &name, &msig, NULL) != JVMTI_ERROR_NONE)
            continue;
        if (!strcmp(name, targets[t].name) && !strcmp(msig, targets[t].sig))
            set_breakpoints(ms[i], t);
        (*ti)->Deallocate(ti, (unsigned char *)name);
        (*ti)->Deallocate(ti, (unsigned char *)msig);
    }
    (*ti)->Deallocate(ti, (unsigned char *)ms);
    if (methods[T_WRITE] && methods[T_WRAP] && methods[T_DECODE])
        (*ti)->SetEventNotificationMode(ti, JVMTI_DISABLE, JVMTI_EVENT_CLASS_PREPARE, NULL);   /* all found */
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
    jvmtiCapabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.can_generate_breakpoint_events = 1;
    caps.can_access_local_variables = 1;
    caps.can_get_bytecodes = 1;
    jvmtiEventCallbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.ClassPrepare = on_class_prepare;
    cb.Breakpoint = on_breakpoint;
    jvmtiError e = (*ti)->AddCapabilities(ti, &caps);
    if (e == JVMTI_ERROR_NONE)
        e = (*ti)->SetEventCallbacks(ti, &cb, (jint)sizeof cb);
    if (e == JVMTI_ERROR_NONE)
        e = (*ti)->SetEventNotificationMode(ti, JVMTI_ENABLE, JVMTI_EVENT_CLASS_PREPARE, NULL);
    if (e == JVMTI_ERROR_NONE)
        e = (*ti)->SetEventNotificationMode(ti, JVMTI_ENABLE, JVMTI_EVENT_BREAKPOINT, NULL);
    if (e != JVMTI_ERROR_NONE)
        scope_log(SCOPE_LOG_WARNING, "java: JVMTI error %d: its TLS plaintext is not seen", (int)e);
    else
        scope_log(SCOPE_LOG_INFO, "java: libscope is the JVM's agent");
    return JNI_OK;
}
#else
void scope_jvm_prepare(void) {}
#endif
