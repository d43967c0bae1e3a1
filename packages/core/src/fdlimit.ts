/**
 * Running out of file descriptors. Under a low `ulimit -n` Node cannot open the tools' own module
 * files: the failure surfaces as EMFILE/ENFILE, or as a misleading ERR_MODULE_NOT_FOUND naming a
 * file that is there. This tells such a failure apart and says what to do about it. It imports
 * nothing but Node's own modules, so the bin shims can load it before anything else.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let known: { soft: number; hard: number } | null = null;

/**
 * The soft and hard limits on open files, from /proc/self/limits; null when unreadable. Read once
 * (launch reads it before loading a tool, while a descriptor is still to be had).
 */
export function openFileLimit(): { soft: number; hard: number } | null {
  if (known !== null) return known;
  try {
    const text = readFileSync('/proc/self/limits', 'latin1');
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
    if (!m) return null;
    const n = (s: string | undefined) => (s === 'unlimited' || s === undefined ? Infinity : Number(s));
    known = { soft: n(m[1]), hard: n(m[2]) };
    return known;
  } catch {
    return null;
  }
}

/** The file a module-resolution error says is missing, when it names one by path or file: URL. */
function namedFile(message: string): string | null {
  const m = /^Cannot find (?:package|module) '([^']+)'/.exec(message);
  const named = m?.[1];
  if (named === undefined) return null;
  if (named.startsWith('file:')) {
    try {
      return fileURLToPath(named);
    } catch {
      return null;
    }
  }
  return named.startsWith('/') ? named : null;
}

const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true;

/**
 * Whether a "Cannot find package/module '<path>'" is the module loader failing to open a file that
 * is there: the path exists; or, under a low limit (below 1024: loading a tool never needs that
 * many), the path is a package's fallback index.js and the package's package.json is there (Node
 * falls back to index.js when it could not read package.json).
 */
function spuriousNotFound(message: string): boolean {
  const file = namedFile(message);
  if (file === null) return false;
  if (isFile(file)) return true;
  const limit = openFileLimit();
  return limit !== null && limit.soft < 1024 && isFile(join(dirname(file), 'package.json'));
}

/**
 * 'EMFILE' or 'ENFILE' when `err` (or an error it was caused by) is a failure to get a file
 * descriptor; also 'EMFILE' for Node's ERR_MODULE_NOT_FOUND when the module is there after all
 * (spuriousNotFound).
 */
export function fdExhaustion(err: unknown): 'EMFILE' | 'ENFILE' | null {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++, e = (e as Error & { cause?: unknown }).cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') return code;
    if (code === 'ERR_MODULE_NOT_FOUND' && spuriousNotFound(e.message)) return 'EMFILE';
  }
  return null;
}

/** `too many open files (ulimit -n is 20); raise it (ulimit -n 1024)`: what to tell the user. */
export function fdExhaustionMessage(code: 'EMFILE' | 'ENFILE'): string {
  if (code === 'ENFILE') return 'the system has too many open files (ENFILE); close some programs or raise fs.file-max';
  const limit = openFileLimit();
  if (limit === null) return 'too many open files; raise the limit (ulimit -n 1024)';
  // A shell's `ulimit -n N` sets the hard limit too: suggest 1024 even when above it (a new shell,
  // or root, can give it).
  const raise = limit.soft < 1024 ? 'raise it (ulimit -n 1024)' : 'raise it, or close descriptors this process inherited';
  return `too many open files (ulimit -n is ${limit.soft === Infinity ? 'unlimited' : limit.soft}); ${raise}`;
}
