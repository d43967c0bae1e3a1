/**
 * The report: the collected totals shaped into the sections people read (and scripts get as one
 * record with --json). Sorting happens here, once, for every output; the text view cuts the lists.
 */
import type { SessionManifest } from '@scope/core';
import { argText } from '@scope/core';
import type { Collected, ProcessInfo } from './collect.js';
import { quantile } from './collect.js';

export interface ReportFunction {
  op: string;
  calls: number;
  errors: number;
  bytes: number;
  /** Milliseconds; null when no call of it was timed. */
  total_ms: number | null;
  avg_us: number | null;
  max_us: number | null;
  /** Share of the time of every timed function, in percent. */
  time_pct: number | null;
}

export interface ReportProcess {
  pid: number;
  ppid: number | null;
  cmd: string;
  exe: string | null;
  /** The exit status as a shell gives it: the main process's from the session, another's from its parent's proc.exit; null when no wait of its parent was seen. */
  exit_status: number | null;
  signal: string | null;
  /** Seconds from its first record to its last; null with fewer than two. */
  run_s: number | null;
  children: ReportProcess[];
}

export interface Report {
  type: 'report';
  session: {
    id: number | null;
    dir: string | null;
    cmd: string;
    args: string[];
    start: string | null;
    end: string | null;
    exit_status: number | null;
    signal: string | null;
    scoped: boolean | null;
    drops: number;
    records: { events: number; metrics: number; starts: number };
    notices: string[];
  };
  functions: ReportFunction[];
  network_metrics: { metric: string; class: string; unit: string; value: number }[];
  processes: ReportProcess[];
  process_count: number;
  files: {
    read: { path: string; bytes: number; ops: number }[];
    written: { path: string; bytes: number; ops: number }[];
    deleted: { path: string; count: number }[];
  };
  connections: { peer: string; name: string | null; transport: string; connections: number; accepted: number; sent: number; received: number }[];
  http: {
    side: 'client' | 'server';
    host: string;
    method: string;
    route: string;
    count: number;
    status: Record<string, number>;
    p50_ms: number | null;
    p99_ms: number | null;
    max_ms: number | null;
  }[];
  dns: { name: string; requests: number; answers: string[]; errors: Record<string, number> }[];
  /** Grouped by kind, function and reason; processes killed by a signal first, then non-zero exits, HTTP, DNS, network and file failures. */
  failures: { kind: string; op: string; why: string; count: number; targets: { target: string; count: number }[]; pids: number[] }[];
}

/** The manifest fields the report shows; absent when the records came from stdin. */
export type ManifestLike = Pick<SessionManifest, 'cmd' | 'args' | 'start' | 'end' | 'exitStatus' | 'signal' | 'scoped' | 'drops' | 'notices' | 'pid'> & { id?: number };

/**
 * The manifest's fields, each checked for its type: session.json is a file anyone who can write the
 * session directory can change, and a field of the wrong type is left out, not trusted.
 */
export function manifestFields(m: unknown): ManifestLike {
  const o = (m !== null && typeof m === 'object' ? m : {}) as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const sv = (v: unknown) => (typeof v === 'string' ? v : null);
  const out: ManifestLike = {
    cmd: sv(o['cmd']) ?? '',
    args: Array.isArray(o['args'])
      ? (o['args'] as unknown[]).filter(
          (a): a is SessionManifest['args'][number] => typeof a === 'string' || (a !== null && typeof a === 'object' && typeof (a as { base64?: unknown }).base64 === 'string'),
        )
      : [],
    pid: n(o['pid']),
    start: sv(o['start']) ?? '',
    end: sv(o['end']),
    exitStatus: n(o['exitStatus']),
    signal: sv(o['signal']),
    scoped: typeof o['scoped'] === 'boolean' ? o['scoped'] : true,
    drops: n(o['drops']) ?? 0,
    notices: Array.isArray(o['notices']) ? (o['notices'] as unknown[]).filter((x): x is string => typeof x === 'string') : [],
  };
  const id = n(o['id']);
  if (id !== null) out.id = id;
  return out;
}

const KIND_ORDER = ['crash', 'exit', 'http', 'dns', 'net.error', 'fs.error'];

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

function functions(c: Collected): ReportFunction[] {
  const rows = [...c.functions.values()].filter((f) => f.calls > 0 || f.errors > 0 || f.bytes > 0 || f.timedCalls > 0);
  let timeTotal = 0;
  for (const f of rows) timeTotal += f.timedCalls > 0 ? (f.totalUs / f.timedCalls) * Math.max(f.calls, f.timedCalls) : 0;
  return rows
    .map((f) => {
      const calls = Math.max(f.calls, f.timedCalls);
      const avg = f.timedCalls > 0 ? f.totalUs / f.timedCalls : null;
      const total = avg === null ? null : avg * calls;
      return {
        op: f.op,
        calls,
        errors: f.errors,
        bytes: f.bytes,
        total_ms: total === null ? null : round(total / 1000),
        avg_us: avg === null ? null : round(avg, 1),
        max_us: avg === null ? null : f.maxUs,
        time_pct: total === null || timeTotal === 0 ? null : round((100 * total) / timeTotal, 2),
      };
    })
    .sort((a, b) => (b.total_ms ?? -1) - (a.total_ms ?? -1) || b.calls - a.calls || a.op.localeCompare(b.op));
}

function tree(c: Collected, manifest: ManifestLike | null): { roots: ReportProcess[]; count: number } {
  const nodes = new Map<number, ReportProcess>();
  const ordered = [...c.processes.values()].sort((a, b) => (a.first ?? Infinity) - (b.first ?? Infinity) || a.pid - b.pid);
  const node = (p: ProcessInfo): ReportProcess => ({
    pid: p.pid,
    ppid: p.ppid,
    cmd: p.cmd,
    exe: p.exe,
    exit_status: manifest !== null && manifest.pid === p.pid ? manifest.exitStatus : p.exitStatus,
    signal: manifest !== null && manifest.pid === p.pid ? manifest.signal : p.signal,
    run_s: p.first !== null && p.last !== null && p.last > p.first ? round(p.last - p.first) : null,
    children: [],
  });
  for (const p of ordered) nodes.set(p.pid, node(p));
  // The main process left no record (killed before its first was written): it is still the run's root.
  if (manifest !== null && manifest.pid !== null && !nodes.has(manifest.pid)) {
    const main = node({
      pid: manifest.pid,
      ppid: null,
      cmd: manifest.args.map((a) => argText(a)).join(' '),
      exe: null,
      first: null,
      last: null,
      exitStatus: null,
      signal: null,
      reads: new Set(),
      writes: new Set(),
      deletes: new Set(),
    });
    nodes.set(main.pid, main);
    ordered.unshift({ pid: main.pid, ppid: null } as ProcessInfo);
  }
  const roots: ReportProcess[] = [];
  for (const p of ordered) {
    const n = nodes.get(p.pid)!;
    const parent = p.ppid !== null && p.ppid !== p.pid ? nodes.get(p.ppid) : undefined;
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  return { roots, count: nodes.size };
}

/** Build the report: every list whole, sorted biggest first (the text view cuts them). */
export function buildReport(c: Collected, manifest: ManifestLike | null, dir: string | null): Report {
  const files = [...c.files.values()];
  const { roots, count } = tree(c, manifest);
  const notices = new Set<string>([...(manifest?.notices ?? []), ...c.notices]);
  const failures = [...c.failures.values()].map((f) => {
    if (f.kind !== 'crash' && f.kind !== 'exit') return f;
    // A child's pid, named with its command now that every record has been read.
    const targets = new Map<string, number>();
    for (const [pid, n] of f.targets) targets.set(`${pid} ${c.processes.get(Number(pid))?.cmd || '(no record of its own)'}`, n);
    return { ...f, targets };
  });
  if (manifest?.pid != null && !c.processes.get(manifest.pid)?.exitStatus) {
    const main = `${manifest.pid} ${manifest.args.map((a) => argText(a)).join(' ') || manifest.cmd}`;
    if (manifest.signal) failures.push({ kind: 'crash', op: 'killed', why: manifest.signal, count: 1, targets: new Map([[main, 1]]), pids: new Set([manifest.pid]) });
    else if (manifest.exitStatus !== null && manifest.exitStatus !== 0)
      failures.push({ kind: 'exit', op: 'exit', why: `status ${manifest.exitStatus}`, count: 1, targets: new Map([[main, 1]]), pids: new Set([manifest.pid]) });
  }
  return {
    type: 'report',
    session: {
      id: manifest?.id ?? null,
      dir,
      cmd: manifest?.cmd ?? '',
      args: manifest ? manifest.args.map((a) => argText(a)) : [],
      start: manifest?.start || (c.first !== null ? new Date(c.first * 1000).toISOString() : null),
      end: manifest?.end ?? (c.last !== null ? new Date(c.last * 1000).toISOString() : null),
      exit_status: manifest?.exitStatus ?? null,
      signal: manifest?.signal ?? null,
      scoped: manifest?.scoped ?? null,
      drops: manifest?.drops ?? 0,
      records: { events: c.counts.events, metrics: c.counts.metrics, starts: c.counts.starts },
      notices: [...notices],
    },
    functions: functions(c),
    network_metrics: [...c.netMetrics.values()]
      .map((m) => ({ metric: m.metric, class: m.cls, unit: m.unit, value: m.value }))
      .sort((a, b) => a.metric.localeCompare(b.metric) || a.class.localeCompare(b.class)),
    processes: roots,
    process_count: count,
    files: {
      read: files
        .filter((f) => f.readBytes > 0 || f.readOps > 0)
        .sort((a, b) => b.readBytes - a.readBytes || b.readOps - a.readOps || a.path.localeCompare(b.path))
        .map((f) => ({ path: f.path, bytes: f.readBytes, ops: f.readOps })),
      written: files
        .filter((f) => f.writeBytes > 0 || f.writeOps > 0 || f.renamedTo > 0)
        .sort((a, b) => b.writeBytes - a.writeBytes || b.writeOps - a.writeOps || a.path.localeCompare(b.path))
        .map((f) => ({ path: f.path, bytes: f.writeBytes, ops: f.writeOps })),
      deleted: files
        .filter((f) => f.deletes > 0)
        .sort((a, b) => b.deletes - a.deletes || a.path.localeCompare(b.path))
        .map((f) => ({ path: f.path, count: f.deletes })),
    },
    connections: [...c.peers.values()]
      .map((p) => ({
        peer: p.peer,
        name: p.name ?? c.addrNames.get(p.peer.replace(/^\[(.*)\]:\d+$/, '$1').replace(/^([^:\]]+):\d+$/, '$1')) ?? null,
        transport: p.transport,
        connections: p.connections,
        accepted: p.accepted,
        sent: p.sent,
        received: p.received,
      }))
      .sort((a, b) => b.sent + b.received - (a.sent + a.received) || b.connections + b.accepted - (a.connections + a.accepted) || a.peer.localeCompare(b.peer)),
    http: [...c.http.values()]
      .map((h) => {
        const sorted = [...h.latencies].sort((a, b) => a - b);
        return {
          side: h.side,
          host: h.host,
          method: h.method,
          route: h.route,
          count: h.count,
          status: h.status,
          p50_ms: quantile(sorted, 0.5),
          p99_ms: quantile(sorted, 0.99),
          max_ms: sorted.at(-1) ?? null,
        };
      })
      .sort((a, b) => b.count - a.count || a.host.localeCompare(b.host) || a.route.localeCompare(b.route) || a.method.localeCompare(b.method)),
    dns: [...c.dns.values()]
      .map((d) => ({ name: d.name, requests: d.requests, answers: [...d.answers].sort(), errors: Object.fromEntries(d.errors) }))
      .sort((a, b) => b.requests - a.requests || a.name.localeCompare(b.name)),
    failures: failures
      .map((f) => ({
        kind: f.kind,
        op: f.op,
        why: f.why,
        count: f.count,
        targets: [...f.targets].map(([target, count]) => ({ target, count })).sort((a, b) => b.count - a.count || a.target.localeCompare(b.target)),
        pids: [...f.pids].sort((a, b) => a - b),
      }))
      .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || b.count - a.count || a.op.localeCompare(b.op) || a.why.localeCompare(b.why)),
  };
}
