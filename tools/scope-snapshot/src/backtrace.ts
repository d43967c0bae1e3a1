/**
 * Every thread's backtrace from the system's debugger: `eu-stack -p PID` when there is one, else
 * `gdb -batch -p PID -ex 'thread apply all bt'`; when neither is installed, a note saying so.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Backtraces {
  /** The tool that gave them, or null when none ran. */
  tool: 'eu-stack' | 'gdb' | null;
  /** Frames by thread id, innermost first, as the tool printed them. */
  byTid: Map<number, string[]>;
  /** Why there are none (or fewer than threads), in plain words; null when all went well. */
  note: string | null;
}

/** The path of an executable on PATH, or null. */
export function onPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return null;
}

/** `TID 1234:` then `#0  0x… function` lines (eu-stack). */
export function parseEuStack(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let frames: string[] | null = null;
  for (const line of text.split('\n')) {
    const t = /^TID (\d+):/.exec(line);
    if (t) {
      frames = [];
      out.set(Number(t[1]), frames);
    } else if (frames && /^#\d+\s/.test(line)) frames.push(line.replace(/^#\d+\s+/, '').trim());
  }
  return out;
}

/** `Thread 2 (Thread 0x… (LWP 1234) "name"):` then `#0  function (args) at file:line` lines (gdb). */
export function parseGdb(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let frames: string[] | null = null;
  for (const line of text.split('\n')) {
    const t = /^Thread \d+ \((?:.*?LWP (\d+)|process (\d+))/.exec(line);
    if (t) {
      frames = [];
      out.set(Number(t[1] ?? t[2]), frames);
    } else if (frames && /^#\d+\s/.test(line)) frames.push(line.replace(/^#\d+\s+/, '').trim());
    else if (frames && /^\s+\S/.test(line) && frames.length > 0) {
      // gdb wraps a long frame onto the next line
      frames[frames.length - 1] += ' ' + line.trim();
    }
  }
  return out;
}

function run(file: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; failed: string | null }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...env, DEBUGINFOD_URLS: '' } },
      (err, stdout, stderr) => resolve({ stdout, stderr, failed: err ? err.message.split('\n')[0] ?? 'failed' : null }));
  });
}

/** The backtraces of every thread of `pid`; the debuggers are looked for on `path`. */
export async function backtraces(pid: number, path: string, timeoutMs = 60_000): Promise<Backtraces> {
  const env = { PATH: path, LANG: 'C' };
  const euStack = onPath('eu-stack', path);
  if (euStack) {
    const r = await run(euStack, ['-p', String(pid)], timeoutMs, env);
    const byTid = parseEuStack(r.stdout);
    if (byTid.size > 0) return { tool: 'eu-stack', byTid, note: null };
    if (!onPath('gdb', path)) return { tool: 'eu-stack', byTid, note: `eu-stack -p ${pid} gave no backtrace: ${firstLine(r.stderr) ?? r.failed ?? 'no output'}` };
  }
  const gdb = onPath('gdb', path);
  if (!gdb) return { tool: null, byTid: new Map(), note: 'no eu-stack or gdb on this machine' };
  const r = await run(gdb, ['-nx', '-batch', '-iex', 'set debuginfod enabled off', '-p', String(pid), '-ex', 'thread apply all bt'], timeoutMs, env);
  const byTid = parseGdb(r.stdout);
  if (byTid.size > 0) return { tool: 'gdb', byTid, note: null };
  const why = r.stderr.split('\n').find((l) => /ptrace|denied|not permitted|Could not attach/i.test(l)) ?? firstLine(r.stderr) ?? r.failed ?? 'no output';
  return { tool: 'gdb', byTid, note: `gdb -p ${pid} gave no backtrace: ${why.trim()}` };
}

function firstLine(text: string): string | null {
  return text.split('\n').find((l) => l.trim() !== '') ?? null;
}
