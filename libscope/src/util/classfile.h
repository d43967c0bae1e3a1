/* classfile.h — a Java class file with some of its methods wrapped: each renamed (made private)
 * and a method of its old name and descriptor put in its place, whose code (given) calls native
 * static methods added to the class around a call of the original. Used by libscope's Java agent
 * (interpose/jvm.c) on the JDK's TLS classes as they load; standalone (libc only), so the fuzz
 * targets and tests can drive it. */
#ifndef SCOPE_CLASSFILE_H
#define SCOPE_CLASSFILE_H
#include <stddef.h>
#include <stdint.h>

/* In a wrapper's code, the two bytes after an invoke (0xb7 invokespecial, 0xb8 invokestatic) may
 * be a placeholder: SCOPE_CF_NATIVE(k), the k-th native added; SCOPE_CF_ORIGINAL(w), the renamed
 * original of wrap w. */
#define SCOPE_CF_NATIVE(k) (0xff00u + (k))
#define SCOPE_CF_ORIGINAL(w) (0xff40u + (w))

struct scope_cf_native {
    const char *name, *desc;   /* added as private static native */
};

struct scope_cf_field {
    const char *name, *desc;   /* added as a private instance field (zero at first) */
};

struct scope_cf_wrap {
    const char *name, *desc;   /* the method wrapped (an instance method, not abstract or native) */
    const uint8_t *code;       /* the wrapper's bytecode, placeholders in it */
    uint16_t code_len, max_stack, max_locals;
};

/* The class file in[0..len) rewritten (malloc'd, *out_len its size), or NULL when it cannot be (not
 * a class file it reads, an interface, a method not found or not wrappable): it is then left as it
 * was. The renamed originals are named "scope$" + name; fields are added too. */
unsigned char *scope_cf_wrap(const unsigned char *in, size_t len, const struct scope_cf_wrap *wraps, int nwraps,
                             const struct scope_cf_native *natives, int nnatives, const struct scope_cf_field *fields,
                             int nfields, size_t *out_len);
#endif
