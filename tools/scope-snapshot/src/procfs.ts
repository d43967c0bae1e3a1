/**
 * What /proc tells of one process, piece by piece: environment (secrets redacted), limits, status,
 * mappings, open descriptors (sockets matched to /proc/<pid>/net/* by inode) and threads.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { REDACTED, SECRET_NAME } from '@scope/core';

// Environment names whose values are hidden unless --show-env: @scope/core's secret-looking names,
// the same that redact credentials in command lines.
export { REDACTED, SECRET_NAME };

/** NAME=VALUE pairs of /proc/<pid>/environ (NUL-separated), values of secret-looking names redacted. */
export function parseEnviron(text: string, showSecrets: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split('\u0000')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    env[name] = !showSecrets && SECRET_NAME.test(name) ? REDACTED : value;
  }
  return env;
}

export interface Limit {
  name: string;
  /** A number, or "unlimited". */
  soft: number | 'unlimited';
  hard: number | 'unlimited';
  units: string | null;
}

const limitValue = (v: string): number | 'unlimited' => (v === 'unlimited' ? 'unlimited' : Number(v));

/** /proc/<pid>/limits: a header line, then `Name  Soft  Hard  Units` in the header's columns. */
export function parseLimits(text: string): Limit[] {
  const lines = text.split('\n');
  const head = lines[0] ?? '';
  const softAt = head.indexOf('Soft Limit');
  const hardAt = head.indexOf('Hard Limit');
  const unitsAt = head.indexOf('Units');
  if (softAt < 0 || hardAt < 0 || unitsAt < 0) return [];
  const out: Limit[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const units = line.slice(unitsAt).trim();
    out.push({
      name: line.slice(0, softAt).trim(),
      soft: limitValue(line.slice(softAt, hardAt).trim()),
      hard: limitValue(line.slice(hardAt, unitsAt).trim()),
      units: units === '' ? null : units,
    });
  }
  return out;
}

export interface StatusSummary {
  state: string;
  threads: number;
  /** Resident and virtual size, bytes (null for a kernel thread). */
  vm_rss: number | null;
  vm_size: number | null;
  /** real, effective, saved, filesystem. */
  uid: number[];
  gid: number[];
}

/** The fields of /proc/<pid>/status a snapshot shows. */
export function parseStatus(text: string): StatusSummary {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const kb = (name: string) => {
    const m = /^(\d+)\s*kB$/.exec(field(name));
    return m ? Number(m[1]) * 1024 : null;
  };
  const ids = (name: string) =>
    field(name)
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  return { state: field('State'), threads: Number(field('Threads')) || 0, vm_rss: kb('VmRSS'), vm_size: kb('VmSize'), uid: ids('Uid'), gid: ids('Gid') };
}

export interface MappingsSummary {
  count: number;
  /** The sum of the mappings' sizes, bytes. */
  size: number;
  /** The files and pseudo-objects mapped ([heap], [stack], …), each once, in map order. */
  objects: string[];
}

/** /proc/<pid>/maps summarised. */
export function parseMaps(text: string): MappingsSummary {
  let count = 0;
  let size = 0;
  const objects = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (!m) continue;
    count++;
    size += Number(BigInt('0x' + m[2]) - BigInt('0x' + m[1]));
    const obj = (m[3] ?? '').trim();
    if (obj !== '') objects.add(obj);
  }
  return { count, size, objects: [...objects] };
}

export interface SocketInfo {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'unix';
  local?: string;
  remote?: string;
  /** TCP state (LISTEN, ESTABLISHED, …); unix: the socket type (STREAM, DGRAM, SEQPACKET). */
  state?: string;
  /** A unix socket's path (@name for an abstract one), when it has one. */
  path?: string;
}

const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV'];

/** `0100007F:1F90` → `127.0.0.1:8080`; the 32-bit words of /proc/net are in host (little-endian) order. */
export function procAddress(hex: string): string {
  const [addr = '', port = '0'] = hex.split(':');
  const p = parseInt(port, 16);
  const bytes: number[] = [];
  for (let w = 0; w < addr.length; w += 8) {
    const word = addr.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(word.slice(b, b + 2), 16));
  }
  if (bytes.length === 4) return `${bytes.join('.')}:${p}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    return `[::ffff:${bytes.slice(12).join('.')}]:${p}`;
  }
  const text = groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:::+/, '::');
  return `[${text}]:${p}`;
}

/** The sockets of /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}, by inode. */
export function socketTable(pid: number): Map<number, SocketInfo> {
  const table = new Map<number, SocketInfo>();
  for (const protocol of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${protocol}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const inode = Number(f[9]);
      const st = parseInt(f[3] ?? '0', 16);
      const info: SocketInfo = { protocol, local: procAddress(f[1] ?? ''), remote: procAddress(f[2] ?? '') };
      if (protocol.startsWith('tcp')) info.state = TCP_STATES[st] ?? String(st);
      if (inode !== 0) table.set(inode, info);
    }
  }
  try {
    const types: Record<string, string> = { '0001': 'STREAM', '0002': 'DGRAM', '0005': 'SEQPACKET' };
    for (const line of readFileSync(`/proc/${pid}/net/unix`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 7) continue;
      const info: SocketInfo = { protocol: 'unix', state: types[f[4] ?? ''] ?? f[4] ?? '' };
      if (f[7] !== undefined) info.path = f[7];
      table.set(Number(f[6]), info);
    }
  } catch {
    // no unix table: the sockets stay unnamed
  }
  return table;
}

export interface Descriptor {
  fd: number;
  kind: 'file' | 'socket' | 'pipe' | 'anon' | 'other';
  /** What the descriptor's link says: a path, socket:[inode], pipe:[inode], anon_inode:[eventfd], … */
  target: string;
  socket?: SocketInfo;
}

/** The open descriptors of a process with their targets. */
export function descriptors(pid: number): Descriptor[] {
  const sockets = socketTable(pid);
  const out: Descriptor[] = [];
  const fds = readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((a, b) => a - b);
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const sock = /^socket:\[(\d+)\]$/.exec(target);
    if (sock) {
      const d: Descriptor = { fd, kind: 'socket', target };
      const info = sockets.get(Number(sock[1]));
      if (info) d.socket = info;
      out.push(d);
    } else if (target.startsWith('pipe:')) out.push({ fd, kind: 'pipe', target });
    else if (target.startsWith('anon_inode:')) out.push({ fd, kind: 'anon', target });
    else if (target.startsWith('/')) out.push({ fd, kind: 'file', target });
    else out.push({ fd, kind: 'other', target });
  }
  return out;
}

export interface ThreadInfo {
  tid: number;
  name: string;
  state: string;
}

/** /proc/<pid>/task: every thread's id, name and state letter. */
export function threads(pid: number): ThreadInfo[] {
  const out: ThreadInfo[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .sort((a, b) => a - b)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '';
      const state = /^State:\s*(\S)/m.exec(status)?.[1] ?? '?';
      out.push({ tid: t, name, state });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
