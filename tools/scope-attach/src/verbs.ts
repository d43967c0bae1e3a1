/**
 * The verbs that talk to scoped processes through their control sockets: detach, ps, inspect,
 * update. Each answer becomes a record; a refusal by the library (another user's process) is an
 * error record and status 1.
 */
import { readFile } from 'node:fs/promises';
import { commandLine, ControlImpostorError, printable, controlRequest, controlSocketPids, libscopeLoaded, listProcesses, processInfo, readSession, textTable, writeManifest } from '@scope/core';
import type { ControlStatus, DestinationStatus, ProcessInfo, ScopePairs } from '@scope/core';
import { sessionDirOf } from './attach.js';
import { detachOutside, isSupervisor, supervisorOf, supervisorSession } from './outside.js';
import type { StatusRecord } from './attach.js';

/** One row of `scope ps`. */
export interface PsRecord {
  type: 'process';
  pid: number;
  user: string;
  /** libscope is loaded and recording now. */
  scoped: boolean;
  /** preload (started by scope run), attach, outside (followed by scope-supervise), or unknown
   * when the control socket did not answer. */
  mode: string;
  command: string;
  session: string | null;
  error?: string;
}

/** Processes with libscope loaded: those with a control socket, and those whose maps show it. */
export async function ps(env: NodeJS.ProcessEnv = process.env): Promise<PsRecord[]> {
  const pids = new Set(controlSocketPids());
  const outside = new Map<number, number>();
  for (const p of listProcesses()) {
    if (!pids.has(p.pid) && libscopeLoaded(p.pid)) pids.add(p.pid);
    const supervisor = supervisorOf(p.pid, env);
    if (supervisor !== null) outside.set(p.pid, supervisor);
  }
  const out: PsRecord[] = [];
  for (const pid of [...new Set([...pids, ...outside.keys()])].sort((a, b) => a - b)) {
    const info = processInfo(pid);
    if (!info || info.state === 'Z' || isSupervisor(pid, env)) continue; // a supervisor's helper: not the app's
    const supervisor = outside.get(pid);
    if (supervisor !== undefined && !libscopeLoaded(pid)) {
      // followed from outside: what scope-supervise reports (after a scope detach it follows in silence)
      out.push({ type: 'process', pid, user: info.user, scoped: true, mode: 'outside', command: commandLine(info), session: supervisorSession(supervisor) });
      continue;
    }
    const rec: PsRecord = { type: 'process', pid, user: info.user, scoped: false, mode: 'unknown', command: commandLine(info), session: null };
    try {
      const a = await controlRequest(pid, { req: 'status' }, 2000);
      if (a.ok) {
        const s = a as unknown as ControlStatus;
        rec.scoped = s.scoped === true;
        rec.mode = String(s.mode);
        rec.session = sessionDirOf(s.config);
      } else rec.error = a.error;
    } catch (err) {
      // a name bound by someone else, for a process without libscope: not a scoped process at all
      if (err instanceof ControlImpostorError && !libscopeLoaded(pid)) continue;
      rec.error = (err as Error).message;
    }
    out.push(rec);
  }
  return out;
}

export function psTable(rows: PsRecord[]): string {
  const head = ['PID', 'USER', 'SCOPED', 'MODE', 'COMMAND'];
  // A command line is the program's own choice of bytes: its control characters are shown escaped.
  const cells = rows.map((r) => [String(r.pid), r.user, r.error !== undefined && r.mode === 'unknown' ? '?' : r.scoped ? 'yes' : 'no', r.mode, r.command].map((c) => printable(c)));
  return textTable(head, cells);
}

/** Stop scoping one process; the session's manifest gets its end time. */
export async function detach(target: ProcessInfo, env: NodeJS.ProcessEnv = process.env): Promise<StatusRecord> {
  const rec: StatusRecord = { type: 'status', verb: 'detach', pid: target.pid, command: commandLine(target), ok: false };
  let dir: string | null = null;
  const supervisor = libscopeLoaded(target.pid) ? null : supervisorOf(target.pid, env);
  if (supervisor !== null) {
    // followed from outside (outside.ts): its supervisor ends the reporting
    const d = detachOutside(target, supervisor);
    if (!d.ok) {
      rec.error = d.error!;
      return rec;
    }
    dir = d.session;
  } else
    try {
      const s = await controlRequest(target.pid, { req: 'status' });
      if (s.ok) dir = sessionDirOf((s as unknown as ControlStatus).config);
      if (s.ok && (s as unknown as ControlStatus).scoped !== true) {
        rec.error = `pid ${target.pid} is not scoped now (already detached)`;
        return rec;
      }
      const a = await controlRequest(target.pid, { req: 'detach' });
      if (!a.ok) {
        rec.error = `pid ${target.pid}: ${a.error}`;
        return rec;
      }
    } catch (err) {
      rec.error = (err as Error).message;
      return rec;
    }
  rec.ok = true;
  if (dir) {
    rec.session = dir;
    try {
      const session = await readSession(dir);
      session.manifest.end = new Date().toISOString();
      await writeManifest(session.paths, session.manifest);
    } catch {
      // a session we may not write (another user's): the detach itself stands
    }
  }
  return rec;
}

/** Every scoped process now (for detach --all and inspect --all). */
export async function scopedProcesses(): Promise<ProcessInfo[]> {
  const out: ProcessInfo[] = [];
  for (const row of await ps()) {
    const info = processInfo(row.pid);
    if (info && row.scoped) out.push(info);
  }
  return out;
}

/** What `scope inspect` writes for one process. */
export interface InspectRecord {
  type: 'inspect';
  pid: number;
  command: string;
  ok: boolean;
  error?: string;
  scoped?: boolean;
  mode?: string;
  version?: string;
  session?: string | null;
  config?: Record<string, string>;
  destinations?: DestinationStatus[];
  counters?: Record<string, number>;
}

export async function inspect(target: ProcessInfo, env: NodeJS.ProcessEnv = process.env): Promise<InspectRecord> {
  const base = { type: 'inspect' as const, pid: target.pid, command: commandLine(target) };
  const supervisor = libscopeLoaded(target.pid) ? null : supervisorOf(target.pid, env);
  if (supervisor !== null) {
    // followed from outside: no control socket; its supervisor is all there is to tell
    return { ...base, ok: true, scoped: true, mode: 'outside', session: supervisorSession(supervisor), config: {}, destinations: [] };
  }
  try {
    const a = await controlRequest(target.pid, { req: 'status' });
    if (!a.ok) return { ...base, ok: false, error: `pid ${target.pid}: ${a.error}` };
    const s = a as unknown as ControlStatus;
    return {
      ...base,
      ok: true,
      scoped: s.scoped,
      mode: s.mode,
      version: s.version,
      session: sessionDirOf(s.config),
      config: s.config,
      destinations: s.destinations,
      ...(s.counters ? { counters: s.counters } : {}),
    };
  } catch (err) {
    return { ...base, ok: false, error: (err as Error).message };
  }
}

const clock = (t: number | null | undefined) =>
  typeof t === 'number'
    ? new Date(t * 1000)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
    : '';

/** The readable report of `scope inspect` on a terminal. */
export function inspectText(r: InspectRecord): string {
  if (!r.ok) return `pid ${r.pid} (${r.command}): ${r.error}`;
  if (r.mode === 'outside') {
    return [`pid ${r.pid} (${r.command}): followed from outside by scope-supervise (its settings are not asked: it has no control socket)`, ...(r.session ? [`  session: ${r.session}`] : [])].join(
      '\n',
    );
  }
  const lines = [
    `pid ${r.pid} (${r.command}): ${r.scoped ? 'scoped' : 'not scoped (detached)'}, ${r.mode === 'attach' ? 'attached' : r.mode === 'preload' ? 'started scoped' : r.mode}, libscope ${r.version ?? '?'}`,
  ];
  if (r.session) lines.push(`  session: ${r.session}`);
  lines.push('  destinations:');
  for (const d of r.destinations ?? []) {
    const since = d.state === 'connected' && d.connected_since ? ` since ${clock(d.connected_since)}` : '';
    const tries = d.attempts !== undefined ? `, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : '';
    const last = d.last_failure ? `, last failure: ${d.last_failure}${d.last_failure_time ? ` at ${clock(d.last_failure_time)}` : ''}` : '';
    const waiting = d.buffered ? `, ${d.buffered} bytes buffered` : '';
    const dropped = d.dropped ? `, ${d.dropped} lines dropped` : '';
    lines.push(`    ${d.name.padEnd(8)} ${d.state}${since}${tries}${waiting}${dropped}${last}  ${d.url}`);
  }
  if (r.counters)
    lines.push(
      `  counters: ${Object.entries(r.counters)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  lines.push('  config:');
  for (const [k, v] of Object.entries(r.config ?? {}).sort()) lines.push(`    ${k}=${v}`);
  return lines.join('\n');
}

/** Apply new settings live. */
export async function update(target: ProcessInfo, pairs: ScopePairs): Promise<StatusRecord> {
  const rec: StatusRecord = { type: 'status', verb: 'update', pid: target.pid, command: commandLine(target), ok: false };
  try {
    const a = await controlRequest(target.pid, { req: 'update', config: pairs });
    if (!a.ok) rec.error = `pid ${target.pid}: ${a.error}`;
    else rec.ok = true;
  } catch (err) {
    rec.error = (err as Error).message;
  }
  return rec;
}

/** The text of --config FILE, or of stdin. */
export async function readConfigText(file: string | undefined, stdin: NodeJS.ReadableStream): Promise<{ text: string; name: string }> {
  if (file !== undefined && file !== '-') return { text: await readFile(file, 'utf8'), name: file };
  let text = '';
  for await (const chunk of stdin) text += chunk.toString();
  return { text, name: 'stdin' };
}
