/* tls.c — the real TLS library functions of interpose.def (OpenSSL's SSL_read … , GnuTLS's
 * gnutls_record_recv …). Neither library is linked into libscope: they are looked up in whatever
 * the app has loaded, when first needed (by a wrapper, or by the control thread after a dlopen).
 * An app that dlopens its TLS library privately (RTLD_LOCAL, as Python's _ssl module does) has it
 * outside the global scope dlsym(RTLD_NEXT) searches, so the loaded objects are searched one by
 * one. */
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "libc/libc.h"

#define MAX_OBJS 256
struct objs {
    char names[MAX_OBJS][256];
    int n;
};

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct objs *o = arg;
    if (info->dlpi_name && info->dlpi_name[0] && o->n < MAX_OBJS &&
        strlen(info->dlpi_name) < sizeof o->names[0])
        strcpy(o->names[o->n++], info->dlpi_name);
    return 0;
}

/* The first definition of sym that is not ours. Runs rarely (once per function, or while the
 * library is not loaded at all), never while the app holds a loader lock of ours. */
void *scope_tls_lookup(const char *sym)
{
    void *p = dlsym(RTLD_NEXT, sym);
    if (p && !scope_in_self(p))
        return p;
    /* 64 KiB: neither on the app's stack nor thread-local (static TLS that large makes every
     * thread the app creates with a small stack fail with EINVAL) */
    struct objs *o = malloc(sizeof *o);
    if (!o || !scope_real_dlopen) {
        free(o);
        return NULL;
    }
    o->n = 0;
    dl_iterate_phdr(collect, o);   /* names first: dlopen inside the iteration could deadlock */
    p = NULL;
    for (int i = 0; i < o->n && !p; i++) {
        void *h = scope_real_dlopen(o->names[i], RTLD_LAZY | RTLD_NOLOAD);
        if (!h)
            continue;
        void *q = dlsym(h, sym);
        dlclose(h);
        if (q && !scope_in_self(q))
            p = q;
    }
    free(o);
    return p;
}

bool scope_tls_resolve(enum scope_fn fn)
{
    void **real = scope_real_slot[fn];
    if (__atomic_load_n(real, __ATOMIC_ACQUIRE))
        return true;
    scope_resolve(fn);   /* the others first: the dlopen above is the real one */
    if (__atomic_load_n(real, __ATOMIC_ACQUIRE))
        return true;
    void *p = scope_tls_lookup(scope_fn_name[fn]);
    if (p)
        __atomic_store_n(real, p, __ATOMIC_RELEASE);
    return p != NULL;
}
