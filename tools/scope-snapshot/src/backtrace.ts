/**
 * Every thread's backtrace from the system's debugger: `eu-stack -s -m -i -p PID` (source lines,
 * modules, inlined calls) when there is one, else `gdb -batch -p PID -ex 'thread apply all bt'`; when
 * neither is installed, a note saying so. Either way a frame names its function and, when the object
 * has line information, `at file:line`.
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

/**
 * `TID 1234:` then frames (eu-stack -s -m -i): `#0  0x… function - module`, and under a frame whose
 * object has line information an indented `file:line[:column]` line. Each frame becomes one string in
 * the words gdb uses for the same facts, `0x… function at file:line (module)`, so that a frame names
 * its function and, when known, its source line whichever debugger gave it.
 */
export function parseEuStack(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let frames: string[] | null = null;
  for (const line of text.split('\n')) {
    const t = /^TID (\d+):/.exec(line);
    if (t) {
      frames = [];
      out.set(Number(t[1]), frames);
      continue;
    }
    if (!frames) continue;
    const f = /^#\d+\s+(.*)$/.exec(line);
    if (f) {
      // "0xADDR function - /module"; the module part is there with -m, a function may be missing
      const m = /^(\S+)(?:\s+(.*?))?(?:\s+-\s+(\/.*|\[.*\]))?$/.exec((f[1] as string).trim());
      const [, addr, fn, mod] = m ?? [];
      frames.push([addr, fn || '??', mod === undefined ? '' : `(${mod})`].filter((p) => p !== '').join(' '));
    } else if (/^\s+\S/.test(line) && frames.length > 0) {
      // the source line of the frame above
      const last = frames.length - 1;
      const frame = frames[last] as string;
      const src = line.trim();
      const mod = / \(.*\)$/.exec(frame);
      frames[last] = mod ? `${frame.slice(0, mod.index)} at ${src}${mod[0]}` : `${frame} at ${src}`;
    }
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
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...env, DEBUGINFOD_URLS: '' } }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, failed: err ? (err.message.split('\n')[0] ?? 'failed') : null }),
    );
  });
}

/** The backtraces of every thread of `pid`; the debuggers are looked for on `path`. */
export async function backtraces(pid: number, path: string, timeoutMs = 60_000): Promise<Backtraces> {
  const env = { PATH: path, LANG: 'C' };
  const euStack = onPath('eu-stack', path);
  if (euStack) {
    const r = await run(euStack, ['-s', '-m', '-i', '-p', String(pid)], timeoutMs, env);
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
