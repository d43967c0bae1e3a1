/**
 * Before starting a command: find it on PATH as execvp would, and decide whether libscope can enter
 * it (the loader ignores LD_PRELOAD for static executables and for setuid/setgid ones).
 */
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { delimiter, join } from 'node:path';
import { elfInfo } from '@scope/libscope';
import type { ElfInfo } from '@scope/libscope';

export type Resolved<P extends string | Buffer = string> = { path: P } | { error: 'not-found' | 'not-executable' | 'directory'; path: P };

/**
 * Resolve a command name the way execvp does: a name with a slash is used as is. A name given as
 * bytes (not UTF-8) is looked up as bytes and resolves to bytes.
 */
export function resolveCommand(name: string, pathVar: string | undefined): Resolved<string>;
export function resolveCommand(name: Buffer, pathVar: string | undefined): Resolved<Buffer>;
export function resolveCommand(name: string | Buffer, pathVar: string | undefined): Resolved<string | Buffer> {
  const hasSlash = name.includes('/');
  const inDir = (dir: string): string | Buffer => {
    const d = dir === '' ? '.' : dir;
    return typeof name === 'string' ? join(d, name) : Buffer.concat([Buffer.from(join(d, '/')), name]);
  };
  const candidates = hasSlash ? [name] : (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map(inDir);
  let denied: string | Buffer | null = null;
  for (const candidate of candidates) {
    let isFile = false;
    try {
      isFile = statSync(candidate).isFile();
    } catch {
      continue;
    }
    if (!isFile) {
      if (hasSlash) return { error: 'directory', path: candidate };
      continue;
    }
    try {
      accessSync(candidate, constants.X_OK);
      return { path: candidate };
    } catch {
      denied ??= candidate;
    }
  }
  return denied ? { error: 'not-executable', path: denied } : { error: 'not-found', path: name };
}

/** Reads up to buf.length bytes at `pos`; the count read. */
function readAt(fd: number, buf: Buffer, pos: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Whether an executable is a static ELF file (no PT_INTERP naming a loader), decided as from the
 * addon's elfInfo (addon.cc reads the headers in this machine's byte order; a file that is not ELF,
 * of an unknown class, or whose header or header table is cut short or odd, is not static; the last
 * PT_INTERP of 1-4095 bytes that can be read gives the loader's name, up to its first NUL). null
 * when the file cannot be opened or read, left to elfInfo (which says why). Loading the addon cost
 * `scope run` about 1.3 ms, for a question these few reads answer.
 */
export function isStaticElf(path: string): boolean | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const le = endianness() === 'LE';
    const eh = Buffer.alloc(64);
    const got = readAt(fd, eh, 0);
    if (got < 16 || eh.readUInt32BE(0) !== 0x7f454c46) return false; // not ELF
    const is64 = eh[4] === 2;
    if (!is64 && eh[4] !== 1) return false; // unknown class
    if (got < (is64 ? 64 : 52)) return false; // truncated ELF header
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b: Buffer, o: number) => (le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    const phoff = is64 ? u64(eh, 32) : BigInt(u32(eh, 28));
    const phentsize = u16(eh, is64 ? 54 : 42);
    const phnum = u16(eh, is64 ? 56 : 44);
    if (phentsize !== (is64 ? 56 : 32) || phnum > 4096) return false; // unexpected table
    const ph = Buffer.alloc(phentsize * phnum);
    if (phnum > 0 && (phoff > BigInt(Number.MAX_SAFE_INTEGER) || readAt(fd, ph, Number(phoff)) < ph.length)) return false; // truncated table
    let interp = '';
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (u32(ph, o) !== 3) continue; // PT_INTERP
      const offset = is64 ? u64(ph, o + 8) : BigInt(u32(ph, o + 4));
      const filesz = is64 ? u64(ph, o + 32) : BigInt(u32(ph, o + 16));
      if (filesz === 0n || filesz >= 4096n || offset > BigInt(Number.MAX_SAFE_INTEGER)) continue;
      const name = Buffer.alloc(Number(filesz));
      if (readAt(fd, name, Number(offset)) < name.length) continue;
      const nul = name.indexOf(0);
      interp = name.subarray(0, nul < 0 ? name.length : nul).toString('latin1');
    }
    return interp === '';
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Why libscope cannot be loaded into this executable, or null when it can. */
export function unscopableReason(path: string | Buffer): string | null {
  const st = statSync(path);
  if (st.mode & 0o4000) return 'is a setuid executable';
  if (st.mode & 0o2000) return 'is a setgid executable';
  const isStatic = typeof path === 'string' ? isStaticElf(path) : null;
  if (isStatic !== null) return isStatic ? 'is a static executable' : null;
  let info: ElfInfo;
  if (typeof path === 'string') info = elfInfo(path);
  else {
    // The addon takes a path as a string: a name that is not UTF-8 is read through its descriptor.
    const fd = openSync(path, 'r');
    try {
      info = elfInfo(`/proc/self/fd/${fd}`);
    } finally {
      closeSync(fd);
    }
  }
  // Scripts start their interpreter, which the loader handles; only ELF files can be static.
  if (info.elf && info.interpreter === null) return 'is a static executable';
  return null;
}

/** LD_PRELOAD with our library first, keeping whatever the user already preloads. */
export function preloadValue(lib: string, existing: string | undefined): string {
  const others = (existing ?? '').split(/[:\s]+/).filter((p) => p !== '' && p !== lib);
  return [lib, ...others].join(':');
}
