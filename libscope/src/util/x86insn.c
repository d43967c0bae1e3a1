/* x86insn.c — the length of an x86-64 instruction, read from its bytes (x86insn.h). Used by the
 * function-entry hooks (interpose/hook.c) and by scope-supervise's breakpoints in Go programs
 * (supervise/gotls.c), which both move instructions elsewhere and must know where each ends. It only
 * reads bytes, so it builds on every architecture. */
#include <stdbool.h>
#include <stdint.h>

#include "util/x86insn.h"

/* Legacy prefixes, REX, then the opcode (one byte, 0f xx, 0f 38/3a xx, or VEX), ModRM with SIB and
 * displacement, and the immediate. "z" immediates are 4 bytes, 2 under 0x66; mov reg,imm takes 8
 * under REX.W. Enough of the ISA for function prologues and what compilers put there; EVEX, 3DNow!
 * and the like are unknown (0), which refuses the hook rather than guess. */
unsigned scope_x86_insn_len(const uint8_t *p, unsigned *rip_disp, bool *branch)
{
#define NEED(k) \
  do { \
    if (i + (k) > 15) return 0; \
  } while (0)
  unsigned i = 0, imm = 0, disp_at = 0;
  bool opsz = false, adsz = false, rexw = false, rex = false, modrm = false, br = false;
  uint8_t op, reg = 0;
  *rip_disp = 0;
  *branch = false;
  for (;;) {   /* legacy prefixes, any order */
    if (i >= 15) return 0;
    uint8_t b = p[i];
    if (b == 0x66) opsz = true;
    else if (b == 0x67) adsz = true;
    else if (b != 0xf0 && b != 0xf2 && b != 0xf3 && b != 0x2e && b != 0x36 && b != 0x3e && b != 0x26 &&
             b != 0x64 && b != 0x65)
      break;
    i++;
  }
  if ((p[i] & 0xf0) == 0x40) {   /* REX, which must come last */
    rex = true;
    rexw = p[i] & 8;
    i++;
  }
  NEED(1);
  op = p[i++];
  unsigned z = opsz ? 2 : 4;
  if (op == 0x0f) {
    NEED(1);
    uint8_t o2 = p[i++];
    if (o2 == 0x38) {
      NEED(1);
      i++;
      modrm = true;
    } else if (o2 == 0x3a) {
      NEED(1);
      i++;
      modrm = true;
      imm = 1;
    } else if (o2 >= 0x80 && o2 <= 0x8f) {   /* jcc rel32 */
      imm = 4;
      br = true;
    } else if (o2 == 0x04 || o2 == 0x0a || o2 == 0x0c || (o2 >= 0x24 && o2 <= 0x27) || o2 == 0x36 ||
               o2 == 0x39 || (o2 >= 0x3b && o2 <= 0x3f) || o2 == 0x7a || o2 == 0x7b || o2 == 0xa6 ||
               o2 == 0xa7) {
      return 0;
    } else if ((o2 >= 0x05 && o2 <= 0x09) || o2 == 0x0b || o2 == 0x0e || (o2 >= 0x30 && o2 <= 0x37) ||
               o2 == 0x77 || o2 == 0xa0 || o2 == 0xa1 || o2 == 0xa2 || (o2 >= 0xa8 && o2 <= 0xaa) ||
               (o2 >= 0xc8 && o2 <= 0xcf)) {
      /* no operand bytes: syscall, ud2, rdtsc, cpuid, push/pop fs/gs, bswap, ... */
    } else {
      modrm = true;
      if ((o2 >= 0x70 && o2 <= 0x73) || o2 == 0xa4 || o2 == 0xac || o2 == 0xba || o2 == 0xc2 ||
          (o2 >= 0xc4 && o2 <= 0xc6) || o2 == 0x0f)
        imm = 1;
    }
  } else if (op == 0xc4 || op == 0xc5) {   /* VEX: always in 64-bit mode; no REX/66/F2/F3 before */
    if (rex) return 0;
    unsigned map = 1;
    NEED(op == 0xc4 ? 3 : 2);
    if (op == 0xc4) {
      map = p[i] & 0x1f;
      i += 2;
    } else {
      i += 1;
    }
    uint8_t o2 = p[i++];
    if (map == 1) {
      modrm = o2 != 0x77;   /* vzeroupper, vzeroall */
      if ((o2 >= 0x70 && o2 <= 0x73) || o2 == 0xc2 || (o2 >= 0xc4 && o2 <= 0xc6)) imm = 1;
    } else if (map == 2) {
      modrm = true;
    } else if (map == 3) {
      modrm = true;
      imm = 1;
    } else {
      return 0;
    }
  } else if (op < 0x40) {
    unsigned low = op & 7;
    if (low < 4) modrm = true;
    else if (low == 4) imm = 1;
    else if (low == 5) imm = z;
    else return 0;   /* push/pop es/cs/ss/ds, daa, das, aaa, aas; or a prefix after REX */
  } else if (op < 0x50) {
    return 0;   /* a second REX */
  } else if (op < 0x60) {
    /* push/pop reg */
  } else if (op < 0x70) {
    switch (op) {
      case 0x63: modrm = true; break;
      case 0x68: imm = z; break;
      case 0x69: modrm = true; imm = z; break;
      case 0x6a: imm = 1; break;
      case 0x6b: modrm = true; imm = 1; break;
      case 0x6c: case 0x6d: case 0x6e: case 0x6f: break;
      default: return 0;   /* pusha, popa, bound, EVEX, a prefix after REX */
    }
  } else if (op < 0x80) {   /* jcc rel8 */
    imm = 1;
    br = true;
  } else if (op < 0x90) {
    modrm = true;
    if (op == 0x80 || op == 0x83) imm = 1;
    else if (op == 0x81) imm = z;
    else if (op == 0x82) return 0;
  } else if (op < 0xa0) {
    if (op == 0x9a) return 0;   /* call far */
  } else if (op < 0xa4) {
    imm = adsz ? 4 : 8;   /* mov moffs */
  } else if (op < 0xb0) {
    if (op == 0xa8) imm = 1;
    else if (op == 0xa9) imm = z;
  } else if (op < 0xb8) {
    imm = 1;
  } else if (op < 0xc0) {
    imm = rexw ? 8 : z;   /* mov reg, imm64 with REX.W */
  } else {
    switch (op) {
      case 0xc0: case 0xc1: modrm = true; imm = 1; break;
      case 0xc2: case 0xca: imm = 2; break;
      case 0xc3: case 0xc9: case 0xcb: case 0xcc: case 0xcf: break;
      case 0xc6: modrm = true; imm = 1; break;
      case 0xc7:
        modrm = true;
        imm = z;
        if (i < 15 && p[i] == 0xf8) {   /* xbegin rel32 */
          imm = 4;
          br = true;
        }
        break;
      case 0xc8: imm = 3; break;
      case 0xcd: imm = 1; break;
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: modrm = true; break;
      case 0xd7: break;
      case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
        modrm = true;
        break;
      case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xeb: imm = 1; br = true; break;
      case 0xe4: case 0xe5: case 0xe6: case 0xe7: imm = 1; break;
      case 0xe8: case 0xe9: imm = 4; br = true; break;
      case 0xec: case 0xed: case 0xee: case 0xef: break;
      case 0xf1: case 0xf4: case 0xf5: break;
      case 0xf6: case 0xf7:
        modrm = true;
        NEED(1);
        reg = (p[i] >> 3) & 7;
        if (reg < 2) imm = op == 0xf6 ? 1 : z;   /* test r/m, imm */
        break;
      case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd: break;
      case 0xfe: case 0xff: modrm = true; break;
      default: return 0;   /* VEX handled above; c4-c5 EVEX, ce into, d4-d6, ea, prefixes after REX */
    }
  }
  if (modrm) {
    NEED(1);
    uint8_t m = p[i++];
    unsigned mod = m >> 6, rm = m & 7;
    if (mod != 3) {
      if (rm == 4) {
        NEED(1);
        uint8_t sib = p[i++];
        if (mod == 0 && (sib & 7) == 5) {
          NEED(4);
          i += 4;
        }
      } else if (mod == 0 && rm == 5) {   /* [rip + disp32] */
        disp_at = i;
        NEED(4);
        i += 4;
      }
      if (mod == 1) {
        NEED(1);
        i += 1;
      } else if (mod == 2) {
        NEED(4);
        i += 4;
      }
    }
  }
  NEED(imm);
  i += imm;
  *rip_disp = disp_at;
  *branch = br;
  return i;
#undef NEED
}
