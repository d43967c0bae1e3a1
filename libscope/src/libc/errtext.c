/* errtext.c — the text of an errno or a getaddrinfo code, for libscope's events and log.
 *
 * Why not strerror or gai_strerror: both translate through gettext, which reads the environment
 * (LANGUAGE) and takes the locale lock. libscope asks from the reporting thread while the app's
 * threads go on, and an app may be rewriting its environment at that moment: bash frees its
 * environment array and builds a new one before each command it runs, so a getenv walking the
 * old one faults (seen: a pyenv shim's bash, its forked child's reporting thread in getenv under
 * strerror). glibc 2.32 and later give the untranslated text through strerrordesc_np, a table
 * lookup; before it, strerror_l in the C locale, where gettext returns the text without looking at
 * the environment. In a crash handler neither translates or allocates. */
#include <locale.h>
#include <netdb.h>
#include <string.h>

#include "libc/libc.h"

extern const char *strerrordesc_np(int) __attribute__((weak));
extern const char *strerrorname_np(int) __attribute__((weak));

const char *scope_strerror(int e)
{
    const char *s = strerrordesc_np ? strerrordesc_np(e) : NULL;
    if (s)
        return s;
    if (!strerrordesc_np) {
        locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);   /* glibc's static C locale */
        if (c)
            return strerror_l(e, c);
    }
    return "Unknown error";
}

const char *scope_errno_name(int e)
{
    const char *s = strerrorname_np ? strerrorname_np(e) : NULL;
    return s ? s : "UNKNOWN";
}

const char *scope_gai_strerror(int e)
{
    switch (e) {
    case EAI_BADFLAGS: return "Bad value for ai_flags";
    case EAI_NONAME: return "Name or service not known";
    case EAI_AGAIN: return "Temporary failure in name resolution";
    case EAI_FAIL: return "Non-recoverable failure in name resolution";
    case EAI_FAMILY: return "ai_family not supported";
    case EAI_SOCKTYPE: return "ai_socktype not supported";
    case EAI_SERVICE: return "Servname not supported for ai_socktype";
    case EAI_MEMORY: return "Memory allocation failure";
    case EAI_SYSTEM: return "System error";
    case EAI_OVERFLOW: return "Argument buffer overflow";
#ifdef EAI_NODATA
    case EAI_NODATA: return "No address associated with hostname";
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return "Address family for hostname not supported";
#endif
    default: return "Unknown error";
    }
}
