/**
 * What the three tools share: the sessions under $SCOPE_HOME with the broken ones reported, whether a
 * session is still running, the clock (SCOPE_NOW for reproducible output), fast line counting, and the
 * small formatting helpers for people.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { argBytes, describeError, printable, EXIT, historyDir, isSessionArg, listSessions, readSession, ScopeError, UsageError } from '@scope/core';
import type { Session, SessionArg, SessionManifest } from '@scope/core';

/** `running`: no end time and its process is alive; `abnormal`: no end time and its process is gone. */
export type SessionState = 'running' | 'ended' | 'abnormal';

const SESSION_DIR = /_(\d+)_(\d+)_\d+$/;

/** True when a process with this pid exists (EPERM: it exists but is someone else's). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the launcher that made the directory (`<cmd>_<id>_<pid>_<ns>`), or null. */
export function launcherPid(dir: string): number | null {
  const m = SESSION_DIR.exec(basename(dir));
  return m ? Number(m[2]) : null;
}

/**
 * The state of a session. Before the command has started the manifest has no pid yet; the launcher's
 * pid (from the directory name) stands in for it then.
 */
export function sessionState(session: Session, alive: (pid: number) => boolean = pidAlive): SessionState {
  const m = session.manifest;
  if (typeof m.end === 'string' && m.end !== '') return 'ended';
  const pid = typeof m.pid === 'number' ? m.pid : launcherPid(session.dir);
  return pid !== null && alive(pid) ? 'running' : 'abnormal';
}

/** Why a parsed session.json is not a manifest we can use, or null when it is. */
export function manifestProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'not a JSON object';
  const o = m as Partial<Record<keyof SessionManifest, unknown>>;
  if (typeof o.id !== 'number' || !Number.isInteger(o.id)) return '"id" is not an integer';
  if (typeof o.start !== 'string' || Number.isNaN(Date.parse(o.start))) return '"start" is not a time';
  if (o.end !== null && o.end !== undefined && (typeof o.end !== 'string' || Number.isNaN(Date.parse(o.end)))) return '"end" is not a time';
  if (o.pid !== null && o.pid !== undefined && typeof o.pid !== 'number') return '"pid" is not a number';
  if (o.args !== undefined && (!Array.isArray(o.args) || !o.args.every(isSessionArg))) return '"args" is not an array of strings and {"base64"} byte strings';
  return null;
}

export interface LoadedSessions {
  /** Usable sessions, oldest id first. */
  sessions: Session[];
  /** Session directories skipped because their manifest is missing or broken (each was warned about). */
  bad: number;
}

/**
 * Every session under `home`, like listSessions, but a directory whose session.json is unreadable or
 * not a manifest is reported through `warn` (naming the file) and counted. A directory younger than
 * `graceMs` without a session.json is a `scope run` starting right now and is passed over silently.
 */
export async function loadSessions(home: string, warn: (message: string) => void, graceMs = 10_000): Promise<LoadedSessions> {
  const listed = await listSessions(home);
  const seen = new Set(listed.map((s) => basename(s.dir)));
  const history = historyDir(home);
  const names = (await readdir(history).catch(() => [] as string[])).filter((n) => SESSION_DIR.test(n) && !seen.has(n)).sort();
  let bad = 0;
  for (const name of names) {
    const dir = join(history, name);
    try {
      await readSession(dir);
    } catch (err) {
      const manifestExists = await stat(join(dir, 'session.json')).then(
        () => true,
        () => false,
      );
      if (!manifestExists) {
        const st = await stat(dir).catch(() => null);
        if (!st?.isDirectory() || Date.now() - st.mtimeMs < graceMs) continue;
      }
      bad++;
      warn(`${describeError(err)}; skipped`);
    }
  }
  const sessions: Session[] = [];
  for (const s of listed) {
    const problem = manifestProblem(s.manifest);
    if (problem) {
      bad++;
      warn(`${s.paths.manifest}: not a session manifest (${problem}); skipped`);
      continue;
    }
    sessions.push(s);
  }
  sessions.sort((a, b) => a.id - b.id);
  return { sessions, bad };
}

/**
 * The current time in ms. SCOPE_NOW (epoch seconds) replaces the clock when set, so that ages are
 * reproducible (tests, documentation); it is not meant for everyday use.
 */
export function nowMs(env: NodeJS.ProcessEnv): number {
  const fixed = env['SCOPE_NOW'];
  if (fixed === undefined || fixed === '') return Date.now();
  const seconds = Number(fixed);
  if (!Number.isFinite(seconds) || seconds < 0) throw new ScopeError(`SCOPE_NOW: "${fixed}" is not a time in epoch seconds`, EXIT.USAGE);
  return Math.round(seconds * 1000);
}

/** Age as AppScope shows it: `45s`, `3m`, `2h`, `5d` (whole units, rounded down). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A run's length: `21ms`, `4.2s`, `3m07s`, `2h05m`. */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  if (t < 1000) return `${t}ms`;
  if (t < 60_000) return `${(Math.floor(t / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(t / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Lines in a file (a last line without its newline counts), by counting newline bytes; 0 when it is missing. */
export async function countLines(path: string): Promise<number> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return 0;
  }
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    let last = 0x0a;
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let i = buf.indexOf(0x0a, 0);
      while (i !== -1 && i < bytesRead) {
        lines++;
        i = buf.indexOf(0x0a, i + 1);
      }
      last = buf[bytesRead - 1] as number;
    }
    return last === 0x0a ? lines : lines + 1;
  } finally {
    await handle.close();
  }
}

/** A non-negative integer option value, or a usage error naming the flag. */
export function countOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: "${value}" is not a whole number`);
  return Number(value);
}

/** The command line as one string, with words that need it quoted for a shell. */
export function commandLine(args: unknown): string {
  if (!Array.isArray(args)) return '';
  return args.map((a) => (isSessionArg(a) ? shellWord(a) : String(a))).join(' ');
}

/** One argument as a shell would take it back: bare, '…', or $'…\xNN…' for bytes that are not UTF-8 or control characters. */
function shellWord(arg: SessionArg): string {
  if (typeof arg !== 'string') {
    let out = '';
    for (const b of argBytes(arg)) out += b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    return `$'${out}'`;
  }
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  // Control and bidi characters would act on the terminal: $'…' with them escaped (\x1b, \u202e).
  const quoted = arg.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const shown = printable(quoted);
  if (shown !== quoted) return `$'${shown}'`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
