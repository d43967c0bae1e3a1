/* static_fakego — a C program with a section named .gopclntab, as Go's linker leaves one, for
 * scope-supervise's Go TLS breakpoints (supervise/gotls.c) to refuse with a notice, never touching
 * the program. Built three ways (CMakeLists.txt):
 *   FAKEGO_OLD       the table's magic of Go 1.16/1.17 (0xfffffffa)
 *   FAKEGO_BAD       Go 1.20's magic, the name table's offset past the table's end
 *   FAKEGO_PROLOGUE  a table that holds together, naming crypto/tls.(*Conn).Write and Read at a C
 *                    function, whose prologue is not Go's
 * Prints "fakego ran" and exits 0. */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) int fake_conn_write(int x) { return x * 3 + 1; }

struct table {
    uint32_t magic;
    uint8_t pad1, pad2, quantum, ptrsize;
    uint64_t nfunc, nfiles;
    const void *text;   /* Go's textStart: entries are offsets from it */
    uint64_t names, cu, files, pcs, funcs;
    char namebuf[56];    /* at 72 */
    uint32_t functab[6]; /* at 128: (entry, record) x 2, the end */
    uint32_t records[4]; /* at 152: (entry, name) x 2 */
};

#if defined(FAKEGO_OLD)
#define MAGIC 0xfffffffau
#define NAMES 72
#elif defined(FAKEGO_BAD)
#define MAGIC 0xfffffff1u
#define NAMES 100000
#else
#define MAGIC 0xfffffff1u
#define NAMES 72
#endif

__attribute__((section(".gopclntab"), used)) const struct table gopclntab = {
    MAGIC, 0, 0, 1, 8, 2, 0, (const void *)fake_conn_write, NAMES, 0, 0, 0, 128,
    "crypto/tls.(*Conn).Write\0crypto/tls.(*Conn).Read",
    {0, 24, 0, 32, 0, 0},
    {0, 0, 0, 25},
};

int main(void)
{
    printf("fakego ran %d\n", fake_conn_write(0) + (int)gopclntab.nfunc - 3);
    return 0;
}
