/**
 * Crash artifacts: the directories libscope's crash handler writes (/tmp/scope/<pid>/ and
 * <SCOPE_HOME>/history/<session>/crash/ and its <pid>/ directories), each with an `info` file of
 * `key: value` lines (version, time, pid, tid, process, exe, signal, signal_name, si_code, errno,
 * fault_address) beside config, backtrace and core. And waiting for a process to end to report the crash it left, if any.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { historyDir, scopeHome } from '@scope/core';

export interface CrashRecord {
  type: 'crash';
  /** Whether the process crashed (false: --watch saw it end without a crash directory). */
  crashed: boolean;
  pid: number;
  dir?: string;
  /** The crash's time as `info` gives it (unix seconds), else the directory's modification time. */
  time?: number;
  signal?: string;
  process?: string;
  /** The files in the directory, sorted. */
  files?: string[];
  /** Every `key: value` of `info`, keys in snake_case (`fault address` → fault_address). */
  info?: Record<string, string>;
  /** The backtrace file's text (--watch only). */
  backtrace?: string;
}

/** `key: value` lines → { key_in_snake_case: value }. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s?(.*)$/.exec(line);
    if (!m) continue;
    out[
      (m[1] as string)
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
    ] = (m[2] as string).trim();
  }
  return out;
}

/**
 * The crash directories on this machine, whether or not they hold an `info` yet: /tmp/scope/<pid>/,
 * each session's crash/ and the <pid>/ directories in it (a session's later crashes go there).
 */
export function crashDirs(home: string, tmpRoot = '/tmp/scope'): string[] {
  const dirs: string[] = [];
  const list = (d: string) => {
    try {
      return readdirSync(d).sort();
    } catch {
      return [];
    }
  };
  const pidDirs = (d: string) =>
    list(d)
      .filter((n) => /^\d+$/.test(n))
      .map((n) => join(d, n));
  dirs.push(...pidDirs(tmpRoot));
  const history = historyDir(home);
  for (const session of list(history)) {
    const dir = join(history, session, 'crash');
    if (!existsSync(dir)) continue;
    dirs.push(dir, ...pidDirs(dir));
  }
  return dirs;
}

/** What a crash directory holds; null when it is not one (no info, unreadable). */
export function readCrash(dir: string, withBacktrace = false): CrashRecord | null {
  let info: Record<string, string>;
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => e.name)
      .sort();
    info = existsSync(join(dir, 'info')) ? parseInfo(readFileSync(join(dir, 'info'), 'utf8')) : {};
  } catch {
    return null;
  }
  if (!('pid' in info) && files.length === 0) return null;
  const pidText = info['pid'] ?? /\/(\d+)$/.exec(dir)?.[1];
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid < 1) return null;
  const time = crashTime(info['time'], dir);
  const rec: CrashRecord = {
    type: 'crash',
    crashed: true,
    pid,
    dir,
    time,
    signal: info['signal_name'] ?? info['signal'] ?? 'unknown',
    process: info['process'] ?? info['process_name'] ?? 'unknown',
    files,
    info,
  };
  if (withBacktrace) {
    try {
      rec.backtrace = readFileSync(join(dir, 'backtrace'), 'utf8');
    } catch {
      rec.backtrace = '';
    }
  }
  return rec;
}

function crashTime(text: string | undefined, dir: string): number {
  if (text !== undefined) {
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms / 1000;
  }
  return statSync(dir).mtimeMs / 1000;
}

/** Every crash on the machine, oldest first. */
export function listCrashes(home: string = scopeHome(), tmpRoot = '/tmp/scope'): CrashRecord[] {
  return crashDirs(home, tmpRoot)
    .map((d) => readCrash(d))
    .filter((r): r is CrashRecord => r !== null)
    .sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // a zombie has ended: only its parent's wait is missing
    return !/^\d+ \(.*\) Z /s.test(stat);
  } catch {
    return false;
  }
};

/** When a process started, unix ms (its start in clock ticks after boot, /proc/stat's btime); 0 if unknown. */
export function processStartMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux architecture node runs on.
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : 0;
  } catch {
    return 0;
  }
}

/**
 * Wait until `pid` ends (polling /proc every `intervalMs`; it need not be our child), then the
 * crash it left: the newest crash directory for that pid written since the process started, or
 * `crashed: false`.
 */
export async function watch(pid: number, name: string, home: string = scopeHome(), tmpRoot = '/tmp/scope', intervalMs = 100): Promise<CrashRecord> {
  // A second of slack: btime and the tick count are whole seconds and hundredths.
  const since = processStartMs(pid) - 1000;
  while (alive(pid)) await new Promise((r) => setTimeout(r, intervalMs));
  // The handler writes before the process dies; give a slow disk one more poll.
  await new Promise((r) => setTimeout(r, intervalMs));
  const found = crashDirs(home, tmpRoot)
    .filter((d) => (mtime(d) ?? 0) >= since)
    .map((d) => readCrash(d, true))
    .filter((r): r is CrashRecord => r !== null && r.pid === pid)
    .sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
  return found[0] ?? { type: 'crash', crashed: false, pid, process: name };
}

function mtime(d: string): number | undefined {
  try {
    return statSync(d).mtimeMs;
  } catch {
    return undefined;
  }
}

/** A crash for people: one line, and the backtrace when there is one. */
export function crashText(r: CrashRecord): string {
  if (!r.crashed) return `pid ${r.pid} (${r.process}) ended without a crash`;
  const when = r.time === undefined ? '' : new Date(r.time * 1000).toISOString();
  const lines = [`${when}  pid ${r.pid} (${r.process})  ${r.signal}  ${r.dir}  [${(r.files ?? []).join(' ')}]`];
  if (r.backtrace) lines.push(r.backtrace.trimEnd());
  return lines.join('\n');
}
