/**
 * The loss audit: what a program does to the file system and the network, as strace -f sees it,
 * against what scope recorded of the same run. Both sides are reduced to the same operations
 * (open, delete, rename, mkdir, connect; each ok or failed, with its absolute path), leaving out
 * only what libc and the loader do on their own behalf (ld.so, locale, gconv, nsswitch); O_PATH
 * opens, which glibc also makes inside fchmodat and the like, may be recorded or not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import type { Rec } from './harness.js';

export type Kind = 'open' | 'delete' | 'rename' | 'mkdir' | 'connect';
export interface Op {
  kind: Kind;
  path: string;
  ok: boolean;
  /** may or may not be recorded: an O_PATH open, the program's own or glibc's inside fchmodat */
  optional?: boolean;
}
export const key = (o: Op): string => `${o.kind} ${o.ok ? 'ok' : 'failed'} ${o.path}`;

const KIND: Record<string, Kind> = {
  open: 'open',
  openat: 'open',
  openat2: 'open',
  creat: 'open',
  unlink: 'delete',
  unlinkat: 'delete',
  rmdir: 'delete',
  rename: 'rename',
  renameat: 'rename',
  renameat2: 'rename',
  mkdir: 'mkdir',
  mkdirat: 'mkdir',
  connect: 'connect',
};
export const STRACE_CALLS = Object.keys(KIND).join(',');

/** Paths libc and the loader open for themselves. */
const LIBC_OWN = [
  /^\/etc\/ld\.so\./,
  /\.so(\.\d+)*$/,
  /\.dylib$/,
  /^\/usr\/lib\/locale\//,
  /^\/usr\/share\/locale\//,
  /\/gconv\//,
  /^\/etc\/nsswitch\.conf$/,
  /^\/etc\/(passwd|group|localtime|host\.conf|resolv\.conf|hosts|gai\.conf)$/,
  /^\/usr\/share\/zoneinfo\//,
];
export const libcOwn = (path: string): boolean => LIBC_OWN.some((r) => r.test(path));

/** One spelling for a path on both sides: absolute, `.` and `..` resolved by name, no trailing /. */
export const clean = (p: string): string => normalize(p).replace(/(.)\/$/, '$1');

/** An strace string literal's text, unescaped. */
function unescape(text: string): string {
  return text.replace(/\\(x[0-9a-f]{2}|[0-7]{1,3}|.)/g, (_s, e: string) =>
    e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16)) : /^[0-7]+$/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e === 'n' ? '\n' : e === 't' ? '\t' : e,
  );
}

function peer(args: string): string | null {
  const inet = /sin6?_port=htons\((\d+)\).*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")/.exec(args);
  if (inet) return `${inet[2] ?? inet[3]}:${inet[1]}`;
  const unix = /sun_path=@?"((?:[^"\\]|\\.)*)"/.exec(args);
  return unix ? `unix:${unix[1]}` : null;
}

/**
 * The paths an strace -y argument list names, each made absolute: relative to the descriptor
 * before it (`3</dir>`, an *at call) or to cwd (AT_FDCWD, or a call without a descriptor).
 */
function resolved(args: string, cwd: string): string[] {
  const out: string[] = [];
  const re = /(?:(\d+)<((?:[^>\\]|\\.)*)>|AT_FDCWD),\s*"((?:[^"\\]|\\.)*)"|(?:^|,\s*)"((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(args))) {
    const dir = m[2] !== undefined ? unescape(m[2]) : cwd;
    const p = unescape(m[3] ?? m[4] ?? '');
    if (p === '') continue;
    out.push(clean(isAbsolute(p) ? p : join(dir, p)));
  }
  return out;
}

/**
 * The operations of `strace -f -ff -y -o PREFIX` output files (one per pid, so no call is split),
 * relative paths resolved against cwd (the programs audited do not chdir).
 */
export function straceOps(dir: string, prefix: string, cwd: string): Op[] {
  const ops: Op[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith(`${prefix}.`))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const m = /^(\w+)\((.*)\)\s+=\s+(-?\d+)/.exec(line);
      if (!m) continue;
      const kind = KIND[m[1]!];
      if (!kind) continue;
      const ok = Number(m[3]) >= 0;
      if (kind === 'connect') {
        const p = peer(m[2]!);
        if (p && !p.startsWith('unix:')) ops.push({ kind, path: p, ok });
        continue;
      }
      // O_PATH names a place for *at calls without opening the file; glibc makes such opens
      // inside fchmodat and the like on its own behalf, where strace cannot tell them apart
      const optional = kind === 'open' && /\bO_PATH\b/.test(m[2]!);
      const named = resolved(m[2]!, cwd);
      const path = named[0];
      if (path === undefined) continue;
      ops.push({ kind, path: kind === 'rename' && ok ? `${path} -> ${named[1] ?? ''}` : path, ok, optional });
    }
  }
  return ops;
}

const ERR_KIND: Record<string, Kind> = { ...KIND };

/** The same operations from a session's events. */
export function scopeOps(events: Rec[]): Op[] {
  const ops: Op[] = [];
  for (const e of events) {
    if (e['type'] !== 'evt') continue;
    const b = e['body'] as Rec;
    const d = (b['data'] ?? {}) as Rec;
    const src = String(b['source']);
    const file = clean(String(d['file']));
    // a dup names a file already open: no open for strace
    if (src === 'fs.open' && !/^(dup|fcntl)/.test(String(d['op']))) ops.push({ kind: 'open', path: file, ok: true });
    else if (src === 'fs.delete') ops.push({ kind: 'delete', path: file, ok: true });
    else if (src === 'fs.mkdir') ops.push({ kind: 'mkdir', path: file, ok: true });
    else if (src === 'fs.rename') ops.push({ kind: 'rename', path: `${file} -> ${clean(String(d['new_file']))}`, ok: true });
    else if (src === 'net.open' && d['op'] === 'connect' && String(d['net_transport']).startsWith('IP.'))
      ops.push({ kind: 'connect', path: `${String(d['net_peer_ip'])}:${String(d['net_peer_port'])}`, ok: true });
    else if (src === 'net.error' && d['op'] === 'connect') ops.push({ kind: 'connect', path: `${String(d['net_peer_ip'])}:${String(d['net_peer_port'])}`, ok: false });
    else if (src === 'fs.error') {
      const op = String(d['op'])
        .replace(/^__/, '')
        .replace(/(64)?(_2)?$/, '');
      const kind = ERR_KIND[op] ?? (op.startsWith('fopen') || op.startsWith('freopen') || (op.startsWith('mk') && op.includes('temp')) || op === 'opendir' || op === 'tmpfile' ? 'open' : undefined);
      if (!kind) continue;
      ops.push({ kind, path: file, ok: false });
    }
  }
  return ops;
}

/** Counts of each operation key, over the paths the filter keeps. */
export function tally(ops: Op[], keep: (o: Op) => boolean): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of ops) if (keep(o)) m.set(key(o), (m.get(key(o)) ?? 0) + 1);
  return m;
}

/** What one side has more of than the other (allowing for the other's optional ones), as lines. */
export function difference(a: Map<string, number>, b: Map<string, number>, bOptional = new Map<string, number>()): string[] {
  const out: string[] = [];
  for (const [k, n] of a) {
    const room = (b.get(k) ?? 0) + (bOptional.get(k) ?? 0);
    if (room < n) out.push(`${k} (${n} vs ${b.get(k) ?? 0})`);
  }
  return out.sort();
}
