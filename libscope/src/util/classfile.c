/* classfile.c — wrapping methods of a Java class file (classfile.h).
 *
 * The class file (JVM specification, chapter 4): magic, versions, the constant pool (count, then
 * entries whose size their tag gives; a long or a double takes two indexes), access flags, this
 * and super class, interfaces, fields, methods (each: flags, name, descriptor, attributes),
 * attributes. Nothing existing moves: new constants are appended to the pool (no index changes),
 * a wrapped method keeps its bytes but for its name (a new "scope$…" constant) and its flags (made
 * private, so the wrapper calls it with invokespecial, as it does a private method), the
 * wrapper and the natives are appended to the methods, and new fields to the fields. The wrapper's code has no branch, so it
 * needs no StackMapTable. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/classfile.h"

#define ACC_PUBLIC 0x0001
#define ACC_PRIVATE 0x0002
#define ACC_PROTECTED 0x0004
#define ACC_STATIC 0x0008
#define ACC_SYNCHRONIZED 0x0020
#define ACC_NATIVE 0x0100
#define ACC_INTERFACE 0x0200
#define ACC_ABSTRACT 0x0400
#define MAX_WRAPS 8
#define MAX_NATIVES 16

struct rd {
    const unsigned char *p;
    size_t len, at;
    bool bad;
};

static unsigned u1(struct rd *r)
{
    if (r->at + 1 > r->len) {
        r->bad = true;
        return 0;
    }
    return r->p[r->at++];
}
static unsigned u2(struct rd *r) { return u1(r) << 8 | u1(r); }
static uint32_t u4(struct rd *r) { return (uint32_t)u2(r) << 16 | u2(r); }
static void skip(struct rd *r, size_t n)
{
    if (n > r->len - r->at)
        r->bad = true;
    else
        r->at += n;
}

struct wr {
    unsigned char *p;
    size_t len, cap;
    bool bad;
};

static void put(struct wr *w, const void *b, size_t n)
{
    if (w->bad)
        return;
    if (w->len + n > w->cap) {
        size_t cap = (w->cap + n) * 2;
        unsigned char *p = realloc(w->p, cap);
        if (!p) {
            w->bad = true;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->len, b, n);
    w->len += n;
}
static void p1(struct wr *w, unsigned v)
{
    unsigned char b = (unsigned char)v;
    put(w, &b, 1);
}
static void p2(struct wr *w, unsigned v)
{
    p1(w, v >> 8);
    p1(w, v);
}
static void p4(struct wr *w, uint32_t v)
{
    p2(w, v >> 16);
    p2(w, v & 0xffff);
}

/* Where each pool entry's bytes start (index 1..count-1; 0 for the second half of a long). */
struct pool {
    size_t *at;
    unsigned count;
};

static bool read_pool(struct rd *r, struct pool *pl)
{
    pl->count = u2(r);
    if (r->bad || pl->count == 0 || !(pl->at = calloc(pl->count, sizeof *pl->at)))
        return false;
    for (unsigned i = 1; i < pl->count; i++) {
        pl->at[i] = r->at;
        unsigned tag = u1(r);
        switch (tag) {
        case 1: skip(r, u2(r)); break;                              /* Utf8 */
        case 3: case 4: skip(r, 4); break;                          /* Integer, Float */
        case 5: case 6: skip(r, 8); i++; break;                     /* Long, Double: two indexes */
        case 7: case 8: case 16: case 19: case 20: skip(r, 2); break;   /* Class, String, MethodType, Module, Package */
        case 9: case 10: case 11: case 12: case 17: case 18: skip(r, 4); break;   /* refs, NameAndType, (Invoke)Dynamic */
        case 15: skip(r, 3); break;                                 /* MethodHandle */
        default: return false;
        }
        if (r->bad)
            return false;
    }
    return true;
}

/* Whether pool entry i is the Utf8 s. */
static bool utf8_is(const struct rd *r, const struct pool *pl, unsigned i, const char *s)
{
    if (i == 0 || i >= pl->count || !pl->at[i] || r->p[pl->at[i]] != 1)
        return false;
    size_t at = pl->at[i], n = (size_t)r->p[at + 1] << 8 | r->p[at + 2];
    return strlen(s) == n && !memcmp(r->p + at + 3, s, n);
}

static void utf8(struct wr *w, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    p1(w, 1);
    p2(w, (unsigned)(la + lb));
    put(w, a, la);
    if (lb)
        put(w, b, lb);
}

unsigned char *scope_cf_wrap(const unsigned char *in, size_t len, const struct scope_cf_wrap *wraps, int nwraps,
                             const struct scope_cf_native *natives, int nnatives, const struct scope_cf_field *fields,
                             int nfields, size_t *out_len)
{
    if (!in || nwraps < 1 || nwraps > MAX_WRAPS || nnatives < 0 || nnatives > MAX_NATIVES || nfields < 0 || nfields > MAX_NATIVES)
        return NULL;
    struct rd r = {in, len, 0, false};
    struct pool pl = {NULL, 0};
    struct wr w = {NULL, 0, 0, false};
    unsigned char *result = NULL;
    if (u4(&r) != 0xcafebabe)
        return NULL;
    skip(&r, 4);   /* versions */
    if (!read_pool(&r, &pl))
        goto out;
    size_t pool_end = r.at;
    unsigned access = u2(&r), this_class = u2(&r);
    if (r.bad || (access & ACC_INTERFACE) || this_class == 0 || this_class >= pl.count)
        goto out;
    skip(&r, 2);              /* super */
    skip(&r, 2 * (size_t)u2(&r));   /* interfaces */
    size_t fields_at = r.at;
    unsigned nfields_in = u2(&r);
    for (unsigned i = 0; i < nfields_in && !r.bad; i++) {
        skip(&r, 6);
        unsigned na = u2(&r);
        for (unsigned k = 0; k < na && !r.bad; k++) {
            skip(&r, 2);
            skip(&r, u4(&r));
        }
    }
    size_t methods_at = r.at;
    unsigned nmethods = u2(&r);
    size_t found[MAX_WRAPS] = {0};   /* each wrapped method's offset */
    unsigned name_idx[MAX_WRAPS], desc_idx[MAX_WRAPS], flags[MAX_WRAPS];
    unsigned code_idx = 0;
    for (unsigned i = 1; i < pl.count; i++)
        if (utf8_is(&r, &pl, i, "Code")) {
            code_idx = i;
            break;
        }
    for (unsigned i = 0; i < nmethods && !r.bad; i++) {
        size_t at = r.at;
        unsigned fl = u2(&r), ni = u2(&r), di = u2(&r), na = u2(&r);
        for (int k = 0; k < nwraps; k++)
            if (!found[k] && utf8_is(&r, &pl, ni, wraps[k].name) && utf8_is(&r, &pl, di, wraps[k].desc)) {
                found[k] = at;
                name_idx[k] = ni;
                desc_idx[k] = di;
                flags[k] = fl;
            }
        for (unsigned k = 0; k < na && !r.bad; k++) {
            skip(&r, 2);
            skip(&r, u4(&r));
        }
    }
    size_t methods_end = r.at;
    if (r.bad || !code_idx)
        goto out;
    for (int k = 0; k < nwraps; k++)
        if (!found[k] || (flags[k] & (ACC_STATIC | ACC_NATIVE | ACC_ABSTRACT)))
            goto out;
    /* the pool's new entries, from index pl.count on */
    unsigned next = pl.count, native_ref[MAX_NATIVES], orig_name[MAX_WRAPS], orig_ref[MAX_WRAPS];
    struct wr add = {NULL, 0, 0, false};
    for (int k = 0; k < nnatives; k++) {
        unsigned n = next++, d = next++, nat = next++;
        native_ref[k] = next++;
        utf8(&add, natives[k].name, NULL);
        utf8(&add, natives[k].desc, NULL);
        p1(&add, 12), p2(&add, n), p2(&add, d);                   /* NameAndType */
        p1(&add, 10), p2(&add, this_class), p2(&add, nat);        /* Methodref */
    }
    for (int k = 0; k < nwraps; k++) {
        orig_name[k] = next++;
        unsigned nat = next++;
        orig_ref[k] = next++;
        utf8(&add, "scope$", wraps[k].name);
        p1(&add, 12), p2(&add, orig_name[k]), p2(&add, desc_idx[k]);
        p1(&add, 10), p2(&add, this_class), p2(&add, nat);
    }
    unsigned field_name[MAX_NATIVES];
    for (int k = 0; k < nfields; k++) {
        field_name[k] = next;
        next += 2;
        utf8(&add, fields[k].name, NULL);
        utf8(&add, fields[k].desc, NULL);
    }
    if (add.bad || next > 0xffff || nfields_in + (unsigned)nfields > 0xffff) {
        free(add.p);
        goto out;
    }
    /* the new class file */
    put(&w, in, 8);
    p2(&w, next);
    put(&w, in + 10, pool_end - 10);
    put(&w, add.p, add.len);
    free(add.p);
    put(&w, in + pool_end, fields_at - pool_end);
    p2(&w, nfields_in + (unsigned)nfields);
    put(&w, in + fields_at + 2, methods_at - fields_at - 2);
    for (int k = 0; k < nfields; k++) {   /* the fields: private, no attributes */
        p2(&w, ACC_PRIVATE);
        p2(&w, field_name[k]);
        p2(&w, field_name[k] + 1);
        p2(&w, 0);
    }
    p2(&w, nmethods + (unsigned)nwraps + (unsigned)nnatives);
    size_t at = methods_at + 2;
    for (;;) {   /* the methods as they were, the wrapped ones renamed and made private */
        size_t first = methods_end;
        int which = -1;
        for (int k = 0; k < nwraps; k++)
            if (found[k] >= at && found[k] < first) {
                first = found[k];
                which = k;
            }
        put(&w, in + at, first - at);
        if (which < 0)
            break;
        p2(&w, (flags[which] & ~(unsigned)(ACC_PUBLIC | ACC_PROTECTED)) | ACC_PRIVATE);
        p2(&w, orig_name[which]);
        at = first + 4;
    }
    for (int k = 0; k < nwraps; k++) {   /* the wrappers */
        p2(&w, flags[k] & ~(unsigned)ACC_SYNCHRONIZED);
        p2(&w, name_idx[k]);
        p2(&w, desc_idx[k]);
        p2(&w, 1);   /* one attribute: Code */
        p2(&w, code_idx);
        p4(&w, 12u + wraps[k].code_len);
        p2(&w, wraps[k].max_stack);
        p2(&w, wraps[k].max_locals);
        p4(&w, wraps[k].code_len);
        for (unsigned i = 0; i < wraps[k].code_len; i++) {
            unsigned char op = wraps[k].code[i];
            p1(&w, op);
            if ((op == 0xb7 || op == 0xb8) && i + 2 < wraps[k].code_len) {
                unsigned v = (unsigned)wraps[k].code[i + 1] << 8 | wraps[k].code[i + 2];
                if (v >= SCOPE_CF_ORIGINAL(0) && v < SCOPE_CF_ORIGINAL(nwraps))
                    v = orig_ref[v - SCOPE_CF_ORIGINAL(0)];
                else if (v >= SCOPE_CF_NATIVE(0) && v < SCOPE_CF_NATIVE(nnatives))
                    v = native_ref[v - SCOPE_CF_NATIVE(0)];
                else
                    w.bad = true;   /* an invoke of something else: not ours to write */
                p2(&w, v);
                i += 2;
            }
        }
        p2(&w, 0);   /* no exception handlers */
        p2(&w, 0);   /* no attributes */
    }
    for (int k = 0; k < nnatives; k++) {   /* the natives: name and descriptor, the pool's first additions */
        p2(&w, ACC_PRIVATE | ACC_STATIC | ACC_NATIVE);
        p2(&w, pl.count + 4u * (unsigned)k);
        p2(&w, pl.count + 4u * (unsigned)k + 1);
        p2(&w, 0);
    }
    put(&w, in + methods_end, len - methods_end);   /* the class's attributes */
    if (!w.bad) {
        result = w.p;
        *out_len = w.len;
        w.p = NULL;
    }
out:
    free(w.p);
    free(pl.at);
    return result;
}
