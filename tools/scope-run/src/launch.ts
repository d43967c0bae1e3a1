/**
 * Before starting a command: find it on PATH as execvp would, and decide whether libscope can enter
 * it (the loader ignores LD_PRELOAD for static executables and for setuid/setgid ones).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { elfInfo } from '@scope/libscope';

export type Resolved = { path: string } | { error: 'not-found' | 'not-executable' | 'directory'; path: string };

/** Resolve a command name the way execvp does: a name with a slash is used as is. */
export function resolveCommand(name: string, pathVar: string | undefined): Resolved {
  const candidates = name.includes('/')
    ? [name]
    : (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((dir) => join(dir === '' ? '.' : dir, name));
  let denied: string | null = null;
  for (const candidate of candidates) {
    let isFile = false;
    try {
      isFile = statSync(candidate).isFile();
    } catch {
      continue;
    }
    if (!isFile) {
      if (name.includes('/')) return { error: 'directory', path: candidate };
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

/** Why libscope cannot be loaded into this executable, or null when it can. */
export function unscopableReason(path: string): string | null {
  const st = statSync(path);
  if (st.mode & 0o4000) return 'is a setuid executable';
  if (st.mode & 0o2000) return 'is a setgid executable';
  const info = elfInfo(path);
  // Scripts start their interpreter, which the loader handles; only ELF files can be static.
  if (info.elf && info.interpreter === null) return 'is a static executable';
  return null;
}

/** LD_PRELOAD with our library first, keeping whatever the user already preloads. */
export function preloadValue(lib: string, existing: string | undefined): string {
  const others = (existing ?? '').split(/[:\s]+/).filter((p) => p !== '' && p !== lib);
  return [lib, ...others].join(':');
}
