/**
 * The snapshot of one running process: everything /proc shows of it, every thread's backtrace, and
 * for a scoped process what its control socket says (config, destinations, counters).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { controlRequest, ScopeError, useControlPeerCheck } from '@scope/core';
import { controlPeerCheck } from '@scope/libscope';
import type { ControlStatus, DestinationStatus, ProcessInfo } from '@scope/core';
import { backtraces } from './backtrace.js';
import { descriptors, parseEnviron, parseLimits, parseMaps, parseStatus, threads } from './procfs.js';
import type { Descriptor, Limit, MappingsSummary, StatusSummary } from './procfs.js';

// the status request goes only to a listener proven to be the target (SO_PEERCRED, by the addon)
useControlPeerCheck(controlPeerCheck);

export interface SnapshotThread {
  tid: number;
  name: string;
  state: string;
  /** Frames, innermost first; null when no debugger gave them. */
  backtrace: string[] | null;
}

export interface SnapshotRecord {
  type: 'snapshot';
  /** When it was taken, unix seconds. */
  time: number;
  pid: number;
  ppid: number;
  process: string;
  user: string;
  command: string[];
  exe: string | null;
  cwd: string | null;
  environment: Record<string, string>;
  limits: Limit[];
  status: StatusSummary;
  mappings: MappingsSummary;
  fds: Descriptor[];
  threads: SnapshotThread[];
  /** The debugger that gave the backtraces (eu-stack, gdb), or null. */
  backtrace_tool: string | null;
  /** Why backtraces are missing, in plain words (e.g. "no eu-stack or gdb on this machine"). */
  backtrace_note?: string;
  /** Whether a libscope control socket answered. */
  scoped: boolean;
  scope?: { mode: string; version?: string; config: Record<string, string>; destinations: DestinationStatus[]; counters?: Record<string, number> };
}

export interface SnapshotOptions {
  showEnv: boolean;
  /** PATH to look for eu-stack and gdb on. */
  path: string;
  /** Who asks, for the refusal message. */
  caller: string;
}

function readOrExplain(pid: number, file: string, owner: ProcessInfo, caller: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (err) {
    throw refusal(err, pid, owner, caller);
  }
}

function refusal(err: unknown, pid: number, owner: ProcessInfo, caller: string): ScopeError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new ScopeError(`pid ${pid} (${owner.comm}) belongs to ${owner.user}; ${caller} may not inspect it: run scope snapshot as ${owner.user === 'root' ? 'root' : `${owner.user} or as root`}`);
  }
  if (code === 'ENOENT' || code === 'ESRCH') return new ScopeError(`pid ${pid} has exited`);
  return new ScopeError(`pid ${pid}: ${(err as Error).message}`);
}

/** Take the snapshot of a process that exists; a ScopeError when the caller may not inspect it. */
export async function snapshot(target: ProcessInfo, options: SnapshotOptions): Promise<SnapshotRecord> {
  const pid = target.pid;
  // environ is readable only by the owner (or root): the test of whether we may inspect at all.
  const environment = parseEnviron(readOrExplain(pid, 'environ', target, options.caller), options.showEnv);
  let cwd: string | null = null;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    cwd = null;
  }
  const limits = parseLimits(readOrExplain(pid, 'limits', target, options.caller));
  const status = parseStatus(readOrExplain(pid, 'status', target, options.caller));
  const mappings = parseMaps(readOrExplain(pid, 'maps', target, options.caller));
  let fds: Descriptor[];
  try {
    fds = descriptors(pid);
  } catch (err) {
    throw refusal(err, pid, target, options.caller);
  }
  const bts = await backtraces(pid, options.path);
  const list = threads(pid).map((t) => ({ ...t, backtrace: bts.byTid.get(t.tid) ?? null }));
  const rec: SnapshotRecord = {
    type: 'snapshot',
    time: Date.now() / 1000,
    pid,
    ppid: target.ppid,
    process: target.comm,
    user: target.user,
    command: target.args,
    exe: target.exe,
    cwd,
    environment,
    limits,
    status,
    mappings,
    fds,
    threads: list,
    backtrace_tool: bts.tool,
    scoped: false,
  };
  if (bts.note !== null) rec.backtrace_note = bts.note;
  else if (list.some((t) => t.backtrace === null)) rec.backtrace_note = `${bts.tool} gave no backtrace for some threads (they started or ended meanwhile)`;
  try {
    const a = await controlRequest(pid, { req: 'status' }, 3000);
    if (a.ok) {
      const s = a as unknown as ControlStatus;
      rec.scoped = s.scoped === true;
      rec.scope = { mode: String(s.mode), config: s.config ?? {}, destinations: s.destinations ?? [] };
      if (s.version !== undefined) rec.scope.version = s.version;
      if (s.counters !== undefined) rec.scope.counters = s.counters;
    }
  } catch {
    // not scoped: no control socket
  }
  return rec;
}

const mib = (n: number | null) => (n === null ? '-' : `${(n / 1048576).toFixed(1)} MiB`);

/** The snapshot for people. */
export function snapshotText(r: SnapshotRecord): string {
  const out: string[] = [];
  out.push(`pid ${r.pid} (${r.process}), parent ${r.ppid}, user ${r.user}, state ${r.status.state}`);
  out.push(`command:  ${r.command.join(' ')}`);
  out.push(`exe:      ${r.exe ?? '-'}`);
  out.push(`cwd:      ${r.cwd ?? '-'}`);
  out.push(`memory:   rss ${mib(r.status.vm_rss)}, virtual ${mib(r.status.vm_size)}; uid ${r.status.uid.join('/')}, gid ${r.status.gid.join('/')}`);
  out.push(`mappings: ${r.mappings.count} (${mib(r.mappings.size)}), ${r.mappings.objects.length} objects`);
  for (const o of r.mappings.objects) out.push(`  ${o}`);
  out.push(`scoped:   ${r.scoped ? `yes (${r.scope?.mode})` : 'no'}`);
  if (r.scope) {
    for (const d of r.scope.destinations) out.push(`  destination ${d.name} ${d.url}: ${d.state}`);
    for (const [k, v] of Object.entries(r.scope.config)) out.push(`  ${k}=${v}`);
    for (const [k, v] of Object.entries(r.scope.counters ?? {})) out.push(`  ${k}: ${v}`);
  }
  out.push(`descriptors: ${r.fds.length}`);
  for (const d of r.fds) {
    const s = d.socket;
    const detail = s ? ` ${s.protocol}${s.local ? ` ${s.local}` : ''}${s.remote && s.state !== 'LISTEN' ? ` → ${s.remote}` : ''}${s.state ? ` ${s.state}` : ''}${s.path ? ` ${s.path}` : ''}` : '';
    out.push(`  ${String(d.fd).padStart(4)}  ${d.kind.padEnd(6)} ${d.target}${detail}`);
  }
  out.push(`threads: ${r.threads.length}${r.backtrace_tool ? ` (backtraces from ${r.backtrace_tool})` : ''}`);
  if (r.backtrace_note) out.push(`  ${r.backtrace_note}`);
  for (const t of r.threads) {
    out.push(`  ${t.tid} ${t.name} ${t.state}`);
    for (const f of t.backtrace ?? []) out.push(`      ${f}`);
  }
  out.push('limits:');
  for (const l of r.limits) out.push(`  ${l.name.padEnd(26)} ${String(l.soft).padEnd(20)} ${String(l.hard).padEnd(20)} ${l.units ?? ''}`.trimEnd());
  out.push('environment:');
  for (const [k, v] of Object.entries(r.environment)) out.push(`  ${k}=${v}`);
  return out.join('\n');
}
