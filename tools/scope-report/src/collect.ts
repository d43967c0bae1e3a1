/**
 * One pass over a session's records (events, metrics and the process-start records, in any order)
 * into the totals every view of the report is made from: the text summary, --json, the HTML page,
 * the run profile and the per-process dependencies. Nothing here formats; nothing here keeps a
 * record once it is counted (a session of a million events costs its totals, not its lines).
 */
import type { JsonObject } from '@scope/core';

/** strace -c's row, per libc function, from the fs.* summaries (numops, max: libscope ≥ 0.1 at verbosity ≥ 3). */
export interface FunctionRow {
  op: string;
  calls: number;
  errors: number;
  bytes: number;
  /** Microseconds: the period means times their calls, summed. */
  totalUs: number;
  maxUs: number;
  /** Calls whose duration the means stand for (0: no fs.duration for it). */
  timedCalls: number;
}

export interface ProcessInfo {
  pid: number;
  ppid: number | null;
  cmd: string;
  exe: string | null;
  /** Seconds since the epoch: the first and last record the process made. */
  first: number | null;
  last: number | null;
  exitStatus: number | null;
  signal: string | null;
  /** Its own files (for --deps): read, written (or made by rename), deleted. */
  reads: Set<string>;
  writes: Set<string>;
  deletes: Set<string>;
}

export interface FileRow {
  path: string;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
  opens: number;
  deletes: number;
  /** Times a file was renamed to this name. */
  renamedTo: number;
}

export interface PeerRow {
  peer: string;
  transport: string;
  /** A name the run resolved to this address, or the HTTP host it asked for there. */
  name: string | null;
  connections: number;
  accepted: number;
  sent: number;
  received: number;
}

export interface HttpRow {
  host: string;
  method: string;
  route: string;
  side: 'client' | 'server';
  count: number;
  status: Record<string, number>;
  /** Milliseconds, every response's, for the percentiles. */
  latencies: number[];
}

export interface DnsRow {
  name: string;
  requests: number;
  answers: Set<string>;
  errors: Map<string, number>;
}

/** Failures of one kind, by the function (or HTTP method) and the reason: what each was about, counted. */
export interface FailureRow {
  kind: 'crash' | 'exit' | 'http' | 'dns' | 'net.error' | 'fs.error';
  op: string;
  why: string;
  count: number;
  /** The files, peers, URLs or names that failed, and how often each. */
  targets: Map<string, number>;
  pids: Set<number>;
}

/** A point of a process's resource series (proc.* gauges and counters at one summary). */
export interface ProcPoint {
  t: number;
  cpuPerc?: number;
  memKiB?: number;
  threads?: number;
  fds?: number;
}

export interface Collected {
  functions: Map<string, FunctionRow>;
  /** net.*, dns.req and http.req metrics by name and class: calls (or bytes) the metrics counted. */
  netMetrics: Map<string, { metric: string; cls: string; unit: string; value: number }>;
  processes: Map<number, ProcessInfo>;
  files: Map<string, FileRow>;
  peers: Map<string, PeerRow>;
  http: Map<string, HttpRow>;
  dns: Map<string, DnsRow>;
  failures: Map<string, FailureRow>;
  /** pid → its proc.* points, in time order as recorded. */
  procSeries: Map<number, ProcPoint[]>;
  /** Whole seconds → bytes: fs.read / fs.write / net.rx / net.tx summaries. */
  throughput: { fsRead: Map<number, number>; fsWrite: Map<number, number>; netRx: Map<number, number>; netTx: Map<number, number> };
  notices: Set<string>;
  /** Counts of what was read. */
  counts: { events: number; metrics: number; starts: number; other: number };
  first: number | null;
  last: number | null;
  /** Host names the run resolved, by address: for naming peers. */
  addrNames: Map<string, string>;
  /** Channels of accepted connections still open: their net.close counts with the accepting row. */
  acceptedChannels: Set<string>;
}

export function emptyCollected(): Collected {
  return {
    functions: new Map(),
    netMetrics: new Map(),
    processes: new Map(),
    files: new Map(),
    peers: new Map(),
    http: new Map(),
    dns: new Map(),
    failures: new Map(),
    procSeries: new Map(),
    throughput: { fsRead: new Map(), fsWrite: new Map(), netRx: new Map(), netTx: new Map() },
    notices: new Set(),
    counts: { events: 0, metrics: 0, starts: 0, other: 0 },
    first: null,
    last: null,
    addrNames: new Map(),
    acceptedChannels: new Set(),
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): JsonObject | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : null);

function proc(c: Collected, pid: number): ProcessInfo {
  let p = c.processes.get(pid);
  if (!p) {
    p = { pid, ppid: null, cmd: '', exe: null, first: null, last: null, exitStatus: null, signal: null, reads: new Set(), writes: new Set(), deletes: new Set() };
    c.processes.set(pid, p);
  }
  return p;
}

function seen(c: Collected, pid: number | null, t: number | null): ProcessInfo | null {
  if (t !== null) {
    if (c.first === null || t < c.first) c.first = t;
    if (c.last === null || t > c.last) c.last = t;
  }
  if (pid === null) return null;
  const p = proc(c, pid);
  if (t !== null) {
    if (p.first === null || t < p.first) p.first = t;
    if (p.last === null || t > p.last) p.last = t;
  }
  return p;
}

function file(c: Collected, path: string): FileRow {
  let f = c.files.get(path);
  if (!f) {
    f = { path, readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0, opens: 0, deletes: 0, renamedTo: 0 };
    c.files.set(path, f);
  }
  return f;
}

export function fail(c: Collected, kind: FailureRow['kind'], op: string, why: string, target: string, pid: number | null, n = 1): void {
  const key = `${kind}\0${op}\0${why}`;
  let f = c.failures.get(key);
  if (!f) {
    f = { kind, op, why, count: 0, targets: new Map(), pids: new Set() };
    c.failures.set(key, f);
  }
  f.count += n;
  f.targets.set(target, (f.targets.get(target) ?? 0) + n);
  if (pid !== null) f.pids.add(pid);
}

function fn(c: Collected, op: string): FunctionRow {
  let f = c.functions.get(op);
  if (!f) {
    f = { op, calls: 0, errors: 0, bytes: 0, totalUs: 0, maxUs: 0, timedCalls: 0 };
    c.functions.set(op, f);
  }
  return f;
}

function bump(m: Map<number, number>, t: number, v: number): void {
  const s = Math.floor(t);
  m.set(s, (m.get(s) ?? 0) + v);
}

/** `ip:port` (IPv6 bracketed), or a unix socket's path. */
export function peerText(d: JsonObject): string | null {
  const ip = str(d['net_peer_ip']);
  const port = num(d['net_peer_port']);
  if (ip !== null) return port === null ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  return str(d['net_peer_name']) ?? str(d['net_peer_path']);
}

/**
 * An HTTP target as a route: the query dropped, and path segments that are numbers, UUIDs or long
 * hex ids replaced by `:n` / `:id`, so /users/17 and /users/18 are one row.
 */
export function routeOf(target: string): string {
  const path = target.split(/[?#]/, 1)[0] ?? '';
  if (path === '' || path === '*') return path || '/';
  return path
    .split('/')
    .map((seg) => (/^\d+$/.test(seg) ? ':n' : /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) || /^[0-9a-f]{16,}$/i.test(seg) ? ':id' : seg))
    .join('/');
}

function onStart(c: Collected, rec: JsonObject): void {
  const info = obj(obj(rec['info'])?.['process']);
  if (!info) return;
  const pid = num(info['pid']);
  if (pid === null) return;
  c.counts.starts++;
  const p = proc(c, pid);
  p.ppid = num(info['ppid']);
  p.cmd = str(info['cmd']) ?? str(info['procname']) ?? p.cmd;
  p.exe = str(info['exe']) ?? p.exe;
  const notices = obj(rec['info'])?.['notices'];
  if (Array.isArray(notices)) for (const n of notices) if (typeof n === 'string') c.notices.add(n);
}

function onEvent(c: Collected, body: JsonObject): void {
  c.counts.events++;
  const source = str(body['source']) ?? '';
  const pid = num(body['pid']);
  const t = num(body['_time']);
  const p = seen(c, pid, t);
  if (p !== null && p.cmd === '') p.cmd = str(body['cmd']) ?? '';
  const d = obj(body['data']) ?? {};
  switch (source) {
    case 'fs.open': {
      const path = str(d['file']);
      if (path !== null) file(c, path).opens++;
      break;
    }
    case 'fs.close': {
      const path = str(d['file']);
      if (path === null) break;
      const f = file(c, path);
      const rb = num(d['file_read_bytes']) ?? 0,
        wb = num(d['file_write_bytes']) ?? 0;
      const ro = num(d['file_read_ops']) ?? 0,
        wo = num(d['file_write_ops']) ?? 0;
      f.readBytes += rb;
      f.writeBytes += wb;
      f.readOps += ro;
      f.writeOps += wo;
      if (p !== null) {
        if (rb > 0 || ro > 0) p.reads.add(path);
        if (wb > 0 || wo > 0) p.writes.add(path);
      }
      break;
    }
    case 'fs.delete': {
      const path = str(d['file']);
      if (path === null) break;
      file(c, path).deletes++;
      p?.deletes.add(path);
      break;
    }
    case 'fs.rename': {
      // The new name is a file the process made (an editor's or git's write-then-rename); the old
      // name was not deleted in the sense a report means (its content lives on), so it is not counted.
      const to = str(d['new_file']);
      if (to !== null) {
        file(c, to).renamedTo++;
        p?.writes.add(to);
      }
      break;
    }
    case 'fs.error': {
      const why = str(d['errno_name']) ?? str(d['message']) ?? 'error';
      fail(c, 'fs.error', str(d['op']) ?? '?', why, str(d['file']) ?? '', pid);
      break;
    }
    case 'net.open':
    case 'net.close': {
      // An accepted connection's peer port is the client's ephemeral one: such peers are counted by address.
      const accepted = c.acceptedChannels.has(str(body['_channel']) ?? '') || (str(d['op']) ?? '').startsWith('accept');
      const full = peerText(d);
      if (full === null) break;
      const peer = accepted ? (str(d['net_peer_ip']) ?? full) : full;
      const transport = str(d['net_transport']) ?? '';
      const key = `${transport}\0${peer}`;
      let row = c.peers.get(key);
      if (!row) {
        row = { peer, transport, name: null, connections: 0, accepted: 0, sent: 0, received: 0 };
        c.peers.set(key, row);
      }
      if (source === 'net.open') {
        if (accepted) {
          row.accepted++;
          const ch = str(body['_channel']);
          if (ch !== null) c.acceptedChannels.add(ch);
        } else row.connections++;
        break;
      }
      c.acceptedChannels.delete(str(body['_channel']) ?? '');
      row.sent += num(d['net_bytes_sent']) ?? 0;
      row.received += num(d['net_bytes_recv']) ?? 0;
      break;
    }
    case 'net.error': {
      const why = str(d['errno_name']) ?? str(d['message']) ?? 'error';
      fail(c, 'net.error', str(d['op']) ?? '?', why, peerText(d) ?? str(d['domain']) ?? '', pid);
      break;
    }
    case 'dns.req':
    case 'dns.resp': {
      const name = str(d['domain']);
      if (name === null) break;
      let row = c.dns.get(name);
      if (!row) {
        row = { name, requests: 0, answers: new Set(), errors: new Map() };
        c.dns.set(name, row);
      }
      if (source === 'dns.req') {
        row.requests++;
        break;
      }
      const addrs = d['addrs'];
      if (Array.isArray(addrs))
        for (const a of addrs)
          if (typeof a === 'string') {
            row.answers.add(a);
            if (!c.addrNames.has(a)) c.addrNames.set(a, name);
          }
      const err = str(d['error']);
      if (err !== null) {
        row.errors.set(err, (row.errors.get(err) ?? 0) + 1);
        fail(c, 'dns', str(d['op']) ?? 'lookup', err, name, pid);
      }
      break;
    }
    case 'http.resp': {
      const server = num(d['http_server_duration']) !== null;
      const method = str(d['http_method']) ?? '?';
      const host = str(d['http_host']) ?? peerText(d) ?? '?';
      const route = routeOf(str(d['http_target']) ?? '/');
      const key = `${server ? 's' : 'c'}\0${host}\0${method}\0${route}`;
      let row = c.http.get(key);
      if (!row) {
        row = { host, method, route, side: server ? 'server' : 'client', count: 0, status: {}, latencies: [] };
        c.http.set(key, row);
      }
      row.count++;
      const code = num(d['http_status_code']);
      const cls = code === null ? 'other' : `${Math.floor(code / 100)}xx`;
      row.status[cls] = (row.status[cls] ?? 0) + 1;
      const ms = num(d['http_client_duration']) ?? num(d['http_server_duration']);
      if (ms !== null) row.latencies.push(ms);
      if (code !== null && code >= 400) fail(c, 'http', method, `${code}${str(d['http_status_text']) ? ' ' + str(d['http_status_text']) : ''}`, `${host}${route}`, pid);
      const ip = str(d['net_peer_ip']);
      if (!server && ip !== null && str(d['http_host']) !== null) {
        const hostname = (str(d['http_host']) ?? '').replace(/:\d+$/, '');
        if (!/^[\d.]+$|^\[/.test(hostname) && !c.addrNames.has(ip)) c.addrNames.set(ip, hostname);
      }
      break;
    }
    case 'proc.exit': {
      // The parent reaped a child: its exit status (the only place it is seen), and its parent.
      const child = num(d['child_pid']);
      const status = num(d['exit_status']);
      if (child === null) break;
      const k = proc(c, child);
      if (k.ppid === null && pid !== null) k.ppid = pid;
      k.exitStatus = status;
      k.signal = str(d['signal']);
      if (t !== null && (k.last === null || t > k.last)) k.last = t;
      if (k.signal !== null) fail(c, 'crash', 'killed', `${k.signal}${d['core_dumped'] === true ? ' (core dumped)' : ''}`, String(child), pid);
      else if (status !== null && status !== 0) fail(c, 'exit', 'exit', `status ${status}`, String(child), pid);
      break;
    }
    case 'notice': {
      const m = str(d['message']);
      if (m !== null) c.notices.add(m);
      break;
    }
    default:
      break;
  }
}

function onMetric(c: Collected, body: JsonObject): void {
  c.counts.metrics++;
  const name = str(body['_metric']) ?? '';
  const value = num(body['_value']) ?? 0;
  const pid = num(body['pid']);
  const t = num(body['_time']);
  const p = seen(c, pid, t);
  if (p !== null && p.cmd === '' && name === 'proc.start') p.cmd = str(body['args']) ?? str(body['proc']) ?? '';
  if (name.startsWith('proc.')) {
    if (pid === null || t === null) return;
    let series = c.procSeries.get(pid);
    if (!series) c.procSeries.set(pid, (series = []));
    let point = series.at(-1);
    if (!point || point.t !== t) series.push((point = { t }));
    if (name === 'proc.cpu_perc') point.cpuPerc = value;
    else if (name === 'proc.mem') point.memKiB = value;
    else if (name === 'proc.thread') point.threads = value;
    else if (name === 'proc.fd') point.fds = value;
    return;
  }
  const op = str(body['op']);
  const numops = num(body['numops']);
  if (name.startsWith('fs.')) {
    if (t !== null) {
      if (name === 'fs.read') bump(c.throughput.fsRead, t, value);
      else if (name === 'fs.write') bump(c.throughput.fsWrite, t, value);
    }
    if (op === null) return;
    // A summary counts a period's calls; below the event verbosity each call is its own metric.
    const row = fn(c, op);
    switch (name) {
      case 'fs.open':
      case 'fs.close':
      case 'fs.seek':
      case 'fs.stat':
        row.calls += value;
        break;
      case 'fs.read':
      case 'fs.write':
        row.bytes += value;
        row.calls += numops ?? (body['summary'] === 'true' ? 0 : 1);
        break;
      case 'fs.duration': {
        const n = numops ?? 1;
        row.totalUs += value * n;
        row.timedCalls += n;
        row.maxUs = Math.max(row.maxUs, num(body['max']) ?? value);
        break;
      }
      case 'fs.error':
        row.errors += value;
        break;
      default:
        break;
    }
    return;
  }
  if (name.startsWith('net.') || name === 'dns.req' || name.startsWith('http.')) {
    if (t !== null) {
      if (name === 'net.rx') bump(c.throughput.netRx, t, value);
      else if (name === 'net.tx') bump(c.throughput.netTx, t, value);
    }
    // Gauges are levels, not counts: summing them would mean nothing.
    if (body['_metric_type'] === 'gauge' || name.startsWith('http.duration') || name === 'net.duration') return;
    const cls = str(body['class']) ?? str(body['proto']) ?? '';
    const key = `${name}\0${cls}`;
    let row = c.netMetrics.get(key);
    if (!row) c.netMetrics.set(key, (row = { metric: name, cls, unit: str(body['unit']) ?? '', value: 0 }));
    row.value += value;
  }
}

/** Count one record of any kind into c. */
export function collect(c: Collected, rec: JsonObject): void {
  const type = rec['type'];
  const body = obj(rec['body']);
  if (type === 'evt' && body) onEvent(c, body);
  else if (type === 'metric' && body) onMetric(c, body);
  else if (rec['format'] === 'ndjson' && obj(rec['info'])) onStart(c, rec);
  else c.counts.other++;
}

/** The value at fraction q of sorted numbers (nearest rank). */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
