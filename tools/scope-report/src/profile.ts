/**
 * The run profile: what a job reached, in a form two runs of the same job can be compared in
 * (scope diff). Every list is sorted and every path normalised (normalise.ts), so a profile changes
 * only when the job does: a new executable or a changed one, a file written or deleted somewhere
 * new, a new name resolved, a new peer or HTTP host.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stringify } from 'yaml';
import type { Collected } from './collect.js';
import { normaliseArg, normalisePath } from './normalise.js';
import type { NormaliseOptions } from './normalise.js';

export const PROFILE_VERSION = 1;

export interface ProfileExecutable {
  path: string;
  /** Of the file at that path when the profile was made; null when it could not be read. */
  sha256: string | null;
  /** The command lines it ran with, as patterns. */
  args: string[];
}

export interface Profile {
  'scope-profile': number;
  /** What the profile was made from (not compared). */
  source: { session: number | null; command: string };
  executables: ProfileExecutable[];
  files: { written: string[]; deleted: string[]; read?: string[] };
  dns: string[];
  peers: string[];
  http: string[];
}

/** Files no build or job declares: devices, the kernel's views, pipes and sockets. */
export function isPseudoFile(path: string): boolean {
  return !path.startsWith('/') || /^\/(dev|proc|sys|run\/user\/\d+)(\/|$)/.test(path);
}

export async function sha256File(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    const h = createHash('sha256');
    const s = createReadStream(path);
    s.on('data', (b) => h.update(b));
    s.on('error', () => resolve(null));
    s.on('end', () => resolve(h.digest('hex')));
  });
}

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** The directory of a path, with a trailing slash. */
const dirOf = (p: string): string => p.slice(0, p.lastIndexOf('/') + 1) || '/';

export interface ProfileOptions extends NormaliseOptions {
  /** Add files.read, grouped by directory. */
  reads?: boolean;
  session?: number | null;
  command?: string;
  /** Hash executables (tests turn it off where the file is not there). */
  hash?: (path: string) => Promise<string | null>;
}

export async function buildProfile(c: Collected, o: ProfileOptions = {}): Promise<Profile> {
  const n = (p: string) => normalisePath(p, o);
  const exes = new Map<string, Set<string>>();
  for (const p of c.processes.values()) {
    if (p.exe === null) continue;
    const set = exes.get(p.exe) ?? new Set<string>();
    if (p.cmd !== '')
      set.add(
        p.cmd
          .split(' ')
          .map((a) => normaliseArg(a, o))
          .join(' '),
      );
    exes.set(p.exe, set);
  }
  const hash = o.hash ?? sha256File;
  const executables: ProfileExecutable[] = [];
  for (const exe of [...exes.keys()].sort()) executables.push({ path: n(exe), sha256: await hash(exe), args: sorted(exes.get(exe)!) });
  const written: string[] = [];
  const deleted: string[] = [];
  const read: string[] = [];
  for (const p of c.processes.values()) {
    for (const f of p.writes) if (!isPseudoFile(f)) written.push(n(f));
    for (const f of p.deletes) if (!isPseudoFile(f)) deleted.push(n(f));
    if (o.reads) for (const f of p.reads) if (!isPseudoFile(f)) read.push(dirOf(n(f)));
  }
  // Files the events name but no process claimed (a session from stdin without start records).
  for (const f of c.files.values()) {
    if (isPseudoFile(f.path)) continue;
    if (f.writeBytes > 0 || f.writeOps > 0 || f.renamedTo > 0) written.push(n(f.path));
    if (f.deletes > 0) deleted.push(n(f.path));
    if (o.reads && (f.readBytes > 0 || f.readOps > 0)) read.push(dirOf(n(f.path)));
  }
  const peers: string[] = [];
  for (const p of c.peers.values()) {
    if (p.accepted > 0 && p.connections === 0) {
      peers.push(`accepted from ${c.addrNames.get(p.peer) ?? p.peer}`);
      continue;
    }
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(p.peer);
    const host = m ? m[1]! : p.peer;
    const name = c.addrNames.get(host);
    if (p.transport.startsWith('IP.') || m) peers.push(name ? `${name}:${m?.[2] ?? ''}` : p.peer);
    else peers.push(n(p.peer));
  }
  const http: string[] = [];
  for (const h of c.http.values()) http.push(`${h.side === 'server' ? 'serves ' : ''}${h.method} ${h.host}`);
  const files: Profile['files'] = { written: sorted(written), deleted: sorted(deleted) };
  if (o.reads) files.read = sorted(read);
  return {
    'scope-profile': PROFILE_VERSION,
    source: { session: o.session ?? null, command: o.command ?? '' },
    executables,
    files,
    dns: sorted(c.dns.keys()),
    peers: sorted(peers),
    http: sorted(http),
  };
}

/** YAML (the default: a baseline is read and reviewed by people) or JSON, keys in a fixed order. */
export function formatProfile(p: Profile, format: 'yaml' | 'json'): string {
  return format === 'json' ? JSON.stringify(p, null, 2) + '\n' : stringify(p, { lineWidth: 0 });
}
