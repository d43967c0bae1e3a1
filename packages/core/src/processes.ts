/**
 * Processes of this machine as /proc shows them: who runs them, what they run, whether libscope is
 * loaded into them, and finding them by name (attach, detach, ps, inspect, update take PID|NAME).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { ScopeError, UsageError } from './errors.js';

export interface ProcessInfo {
  pid: number;
  /** The parent's pid (0 for pid 1). */
  ppid: number;
  uid: number;
  gid: number;
  user: string;
  /** The kernel's name (/proc/<pid>/comm, at most 15 characters). */
  comm: string;
  /** argv (empty for a kernel thread or a zombie). */
  args: string[];
  /** The executable's path, or null when it cannot be read (another user's process, unprivileged). */
  exe: string | null;
  /** Process state letter (R, S, D, Z, T, …). */
  state: string;
}

let passwd: Map<number, string> | undefined;

/** The user name of a uid (from /etc/passwd), or the number. */
export function userName(uid: number): string {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && /^\d+$/.test(f[2] as string)) passwd.set(Number(f[2]), f[0] as string);
      }
    } catch {
      // no passwd: numbers it is
    }
  }
  return passwd.get(uid) ?? String(uid);
}

/** What /proc says of a pid; null when there is no such process. */
export function processInfo(pid: number): ProcessInfo | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
  const uid = Number(field('Uid').split(/\s+/)[0] ?? -1);
  const gid = Number(field('Gid').split(/\s+/)[0] ?? -1);
  let args: string[] = [];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000');
    if (args[args.length - 1] === '') args.pop();
  } catch {
    args = [];
  }
  let exe: string | null = null;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    exe = null;
  }
  return { pid, ppid: Number(field('PPid')), uid, gid, user: userName(uid), comm: field('Name'), args, exe, state: field('State').charAt(0) };
}

/** Every process now (kernel threads, which have no argv, left out). */
export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = processInfo(Number(name));
    if (info && info.args.length > 0) out.push(info);
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** The command line as one string. */
export function commandLine(p: ProcessInfo): string {
  return p.args.length > 0 ? p.args.join(' ') : `[${p.comm}]`;
}

/** Whether a libscope.so is mapped into the process (loaded, scoped now or not). */
export function libscopeLoaded(pid: number): boolean {
  try {
    return /\/libscope\.so$/m.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return false;
  }
}

/** The processes a NAME names: its comm, or its argv[0] without the directory. Ourselves excluded. */
export function processesNamed(name: string, all: ProcessInfo[] = listProcesses()): ProcessInfo[] {
  return all.filter((p) => p.pid !== process.pid && p.state !== 'Z' && (p.comm === name || basename(p.args[0] ?? '') === name));
}

/** A PID argument: a positive decimal number, or null when it is a name. */
export function pidArgument(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  if (n < 1 || !Number.isSafeInteger(n)) throw new UsageError(`"${text}" is not a pid`);
  return n;
}

/** The process a PID argument names, or a ScopeError (status 1) when there is none. */
export function existingProcess(pid: number): ProcessInfo {
  const info = processInfo(pid);
  if (!info) throw new ScopeError(`no process with pid ${pid}`);
  if (info.state === 'Z') throw new ScopeError(`pid ${pid} has exited (a zombie waiting for its parent)`);
  return info;
}
