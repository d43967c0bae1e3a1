// Reads an x86-64 ELF core the way a debugger starts to, without one (gdb is optional on a test
// machine): does a thread of the core stand in `fn` of `program`? True when a thread's pc lies in
// fn, or a word on its stack does (a return address into fn — one byte back, as debuggers read
// them — or the pc a signal frame saved when our handler wrote the core) — fn's bounds from the program's symbol table (nm), where the
// program was loaded from the core's NT_FILE note.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';

const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_PRSTATUS = 1;
const NT_FILE = 0x46494c45;
const PR_REG = 112; // offsetof(struct elf_prstatus, pr_reg) on x86-64
const RIP = 16;
const RSP = 19; // indexes in user_regs_struct
const STACK_SCAN = 256 * 1024;

interface Seg {
  vaddr: bigint;
  off: number;
  size: number;
}

function notes(core: Buffer, off: number, size: number): { type: number; desc: Buffer }[] {
  const out: { type: number; desc: Buffer }[] = [];
  const align = (n: number) => (n + 3) & ~3;
  for (let at = off; at + 12 <= off + size; ) {
    const namesz = core.readUInt32LE(at);
    const descsz = core.readUInt32LE(at + 4);
    const type = core.readUInt32LE(at + 8);
    const desc = at + 12 + align(namesz);
    out.push({ type, desc: core.subarray(desc, desc + descsz) });
    at = desc + align(descsz);
  }
  return out;
}

/** fn's [start, end) in the program's own addresses (nm -S). */
function symbol(program: string, fn: string): [bigint, bigint] | null {
  const r = spawnSync('nm', ['-S', '--defined-only', program], { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) {
    const [addr, size, , name] = line.trim().split(/\s+/);
    if (name === fn && addr && size) return [BigInt(`0x${addr}`), BigInt(`0x${addr}`) + BigInt(`0x${size}`)];
  }
  return null;
}

export function coreShows(program: string, corePath: string, fn: string): { ok: boolean; why: string } {
  const core = readFileSync(corePath);
  if (core.readUInt32BE(0) !== 0x7f454c46 || core[4] !== 2 || core.readUInt16LE(16) !== 4) return { ok: false, why: 'not a 64-bit ELF core' };
  const phoff = Number(core.readBigUInt64LE(32));
  const phentsize = core.readUInt16LE(54);
  const phnum = core.readUInt16LE(56);
  const segs: Seg[] = [];
  const threads: { pc: bigint; sp: bigint }[] = [];
  let base: bigint | null = null;
  const exe = realpathSync(program);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = core.readUInt32LE(ph);
    const off = Number(core.readBigUInt64LE(ph + 8));
    if (type === PT_LOAD) segs.push({ vaddr: core.readBigUInt64LE(ph + 16), off, size: Number(core.readBigUInt64LE(ph + 32)) });
    if (type !== PT_NOTE) continue;
    for (const n of notes(core, off, Number(core.readBigUInt64LE(ph + 32)))) {
      if (n.type === NT_PRSTATUS && n.desc.length >= PR_REG + (RSP + 1) * 8) threads.push({ pc: n.desc.readBigUInt64LE(PR_REG + RIP * 8), sp: n.desc.readBigUInt64LE(PR_REG + RSP * 8) });
      if (n.type === NT_FILE) {
        const count = Number(n.desc.readBigUInt64LE(0));
        const names = n.desc
          .subarray(16 + count * 24)
          .toString('latin1')
          .split('\0');
        for (let k = 0; k < count; k++) if (names[k] === exe && n.desc.readBigUInt64LE(16 + k * 24 + 16) === 0n && base === null) base = n.desc.readBigUInt64LE(16 + k * 24);
      }
    }
  }
  if (threads.length === 0) return { ok: false, why: 'no NT_PRSTATUS' };
  if (base === null) return { ok: false, why: `${exe} not in NT_FILE` };
  const sym = symbol(program, fn);
  if (!sym) return { ok: false, why: `${fn} not in ${program}'s symbols` };
  // a position-independent program's symbols are offsets from where it was loaded
  const pie = readFileSync(program).readUInt16LE(16) === 3;
  const lo = (pie ? base : 0n) + sym[0];
  const hi = (pie ? base : 0n) + sym[1];
  const inFn = (a: bigint) => a >= lo && a < hi;
  for (const t of threads) {
    if (inFn(t.pc)) return { ok: true, why: `a thread's pc is in ${fn}` };
    const seg = segs.find((s) => t.sp >= s.vaddr && t.sp < s.vaddr + BigInt(s.size));
    if (!seg) continue;
    const from = seg.off + Number(t.sp - seg.vaddr);
    const to = Math.min(seg.off + seg.size, from + STACK_SCAN);
    // a return address is the instruction after the call: one byte back is the call's own (a
    // call to a noreturn function, abort, may be fn's last instruction)
    for (let at = from; at + 8 <= to; at += 8) if (inFn(core.readBigUInt64LE(at) - 1n)) return { ok: true, why: `${fn} on a thread's stack` };
  }
  return { ok: false, why: `no thread in ${fn} [0x${lo.toString(16)}, 0x${hi.toString(16)}) among ${threads.length}` };
}
