/* x86insn.h — the length of an x86-64 instruction (x86insn.c). */
#ifndef SCOPE_X86INSN_H
#define SCOPE_X86INSN_H
#include <stdbool.h>
#include <stdint.h>

/* Length of the x86-64 instruction at p (reads at most 15 bytes); *rip_disp = offset of a
 * rip-relative disp32 within it (0: none), *branch = a relative branch or call (jcc, jmp, call,
 * loop, jrcxz, xbegin). 0 when unknown or invalid in 64-bit mode. */
unsigned scope_x86_insn_len(const uint8_t *p, unsigned *rip_disp, bool *branch);
#endif
