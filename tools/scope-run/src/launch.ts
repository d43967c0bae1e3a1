/**
 * Before starting a command: find it on PATH as execvp would, and decide whether libscope can enter
 * it (the loader ignores LD_PRELOAD for static executables and for setuid/setgid ones).
 */
import { accessSync, closeSync, constants, openSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { GO_PROGRAM, STATIC_EXECUTABLE, elfInfo } from '@scope/libscope';
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

/** Why libscope cannot be loaded into this executable (or would see nothing of it), or null. */
export function unscopableReason(path: string | Buffer): string | null {
  const st = statSync(path);
  if (st.mode & 0o4000) return 'is a setuid executable';
  if (st.mode & 0o2000) return 'is a setgid executable';
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
  // A Go program, dynamic or not, makes its own system calls: loading libscope would see nothing.
  if (info.elf && info.go) return GO_PROGRAM;
  if (info.elf && info.interpreter === null) return STATIC_EXECUTABLE;
  return null;
}

/** LD_PRELOAD with our library first, keeping whatever the user already preloads. */
export function preloadValue(lib: string, existing: string | undefined): string {
  const others = (existing ?? '').split(/[:\s]+/).filter((p) => p !== '' && p !== lib);
  return [lib, ...others].join(':');
}
