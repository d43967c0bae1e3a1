/**
 * Network flows from net events. One flow is one connection: the net.open, net.app and net.close
 * events that share a pid and a `_channel`. The tracker is fed records one at a time and says when a
 * flow closes (for --follow); at the end it holds every flow, open ones included.
 */
import type { JsonObject } from '@scope/core';
import { compareIp, inCidr, parseIp } from './ip.js';
import type { Cidr, IpAddress } from './ip.js';

/** closed: ended, which side first not known (a process followed from outside, whose reads are not seen). */
export type CloseReason = 'local' | 'remote' | 'closed' | 'open';

/** One connection, as gathered from its events. */
export interface Flow {
  /** 1-based order in which the flow was first seen; its id is this number in base 36. */
  seq: number;
  pid: number;
  proc: string;
  host: string | null;
  channel: string;
  transport: string | null;
  /** Application protocols in the order they were detected (TLS, then HTTP inside it). */
  appProtocols: string[];
  unix: boolean;
  localIp: string | null;
  localPort: number | null;
  peerIp: string | null;
  peerPort: number | null;
  localInode: number | null;
  peerInode: number | null;
  unixPath: string | null;
  /** The libc function that made the connection known (connect, accept4, sendto…). */
  openOp: string | null;
  /** _time of the flow's first event. */
  start: number;
  /** _time of its net.close, null while open. */
  end: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  /** From net.close; null while open. */
  duration: number | null;
  close: CloseReason;
}

/** The NDJSON record scope-flows writes for a flow (see README "Records"). */
export interface FlowRecord {
  type: 'flow';
  id: string;
  pid: number;
  proc: string;
  host: string | null;
  channel: string;
  protocol: string;
  transport: string | null;
  app_protocols: string[];
  local: string;
  peer: string;
  local_ip: string | null;
  local_port: number | null;
  peer_ip: string | null;
  peer_port: number | null;
  local_inode: number | null;
  peer_inode: number | null;
  unix_path: string | null;
  op: string | null;
  start: number;
  end: number | null;
  bytes_in: number | null;
  bytes_out: number | null;
  duration: number;
  close: CloseReason;
  payload_in?: string;
  payload_out?: string;
}

export const flowId = (seq: number): string => seq.toString(36);

const NET_SOURCES = new Set(['net.open', 'net.close', 'net.app']);

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** What feeding one record did. */
export type Fed = { kind: 'ignored' } | { kind: 'flow'; flow: Flow; closed: boolean } | { kind: 'bad'; reason: string };

/** Why a record cannot be read as scope records at all, or a net event lacks what a flow needs; null when fine. */
export function shapeProblem(record: JsonObject): string | null {
  if (record['type'] === 'metric') return isObject(record['body']) ? null : 'metric record without a body object';
  if (record['type'] !== 'evt') {
    if (isObject(record['info']) || record['format'] !== undefined) return null; // process-start record
    return 'not a scope record (no "type":"evt" or "metric", nor process-start "info")';
  }
  const body = record['body'];
  if (!isObject(body)) return 'event without a body object';
  const source = body['source'];
  if (typeof source !== 'string' || !NET_SOURCES.has(source)) return null;
  if (typeof record['_channel'] !== 'string') return `${source} event without a string _channel`;
  if (!Number.isInteger(body['pid'])) return `${source} event without an integer body.pid`;
  if (int(body['_time']) === null) return `${source} event without a numeric body._time`;
  const data = body['data'];
  if (!isObject(data)) return `${source} event without a body.data object`;
  if (source !== 'net.app' && typeof data['net_transport'] !== 'string') return `${source} event without data.net_transport`;
  if (source === 'net.app' && typeof data['net_protocol'] !== 'string') return 'net.app event without data.net_protocol';
  if (source === 'net.close') {
    if (int(data['duration']) === null) return 'net.close event without a numeric data.duration';
    // the byte totals and the close reason are absent for a process followed from outside (scope-supervise)
    for (const key of ['net_bytes_sent', 'net_bytes_recv']) {
      if (key in data && int(data[key]) === null) return `net.close event with a data.${key} that is not a number`;
    }
    const reason = data['net_close_reason'];
    if (reason !== undefined && reason !== 'local' && reason !== 'remote') return 'net.close event with a net_close_reason other than "local" or "remote"';
  }
  return null;
}

/** Gathers flows from records in input order. */
export class FlowTracker {
  private readonly byKey = new Map<string, Flow>();
  private readonly all: Flow[] = [];
  /** The latest _time of any event seen: open flows last at least until then. */
  lastTime: number | null = null;

  /** Feed one record (already checked with shapeProblem). */
  feed(record: JsonObject): Fed {
    if (record['type'] !== 'evt') return { kind: 'ignored' };
    const body = record['body'] as JsonObject;
    const time = int(body['_time']);
    if (time !== null && (this.lastTime === null || time > this.lastTime)) this.lastTime = time;
    const source = body['source'];
    if (typeof source !== 'string' || !NET_SOURCES.has(source)) return { kind: 'ignored' };
    const pid = body['pid'] as number;
    const channel = record['_channel'] as string;
    const data = body['data'] as JsonObject;
    const key = `${pid}/${channel}`;
    let flow = this.byKey.get(key);
    // A channel is one descriptor's lifetime; a second net.open after a close is a new connection.
    if (!flow || (source === 'net.open' && flow.close !== 'open')) {
      flow = {
        seq: this.all.length + 1,
        pid,
        proc: str(body['proc']) ?? '',
        host: str(body['host']),
        channel,
        transport: null,
        appProtocols: [],
        unix: false,
        localIp: null,
        localPort: null,
        peerIp: null,
        peerPort: null,
        localInode: null,
        peerInode: null,
        unixPath: null,
        openOp: null,
        start: time ?? 0,
        end: null,
        bytesIn: null,
        bytesOut: null,
        duration: null,
        close: 'open',
      };
      this.byKey.set(key, flow);
      this.all.push(flow);
    }
    this.absorb(flow, data);
    if (source === 'net.open') flow.openOp = str(data['op']) ?? flow.openOp;
    if (source === 'net.close' && flow.close === 'open') {
      flow.end = time;
      flow.bytesIn = int(data['net_bytes_recv']);
      flow.bytesOut = int(data['net_bytes_sent']);
      flow.duration = int(data['duration']);
      const reason = data['net_close_reason'];
      flow.close = reason === 'remote' ? 'remote' : reason === 'local' ? 'local' : 'closed';
      // A flow that was first seen at its close (follow started late) began `duration` ms earlier.
      if (flow.openOp === null && time !== null && flow.duration !== null) flow.start = time - flow.duration / 1000;
      return { kind: 'flow', flow, closed: true };
    }
    return { kind: 'flow', flow, closed: false };
  }

  /** Take the address and protocol fields an event carries. */
  private absorb(flow: Flow, data: JsonObject): void {
    const transport = str(data['net_transport']);
    if (transport !== null) {
      flow.transport = transport;
      flow.unix = transport.startsWith('Unix.');
    }
    const protocol = str(data['net_protocol']);
    if (protocol !== null && !flow.appProtocols.includes(protocol)) flow.appProtocols.push(protocol);
    if (typeof data['net_peer_ip'] === 'string') {
      flow.peerIp = data['net_peer_ip'];
      flow.peerPort = int(data['net_peer_port']);
    }
    if (typeof data['net_host_ip'] === 'string') {
      flow.localIp = data['net_host_ip'];
      flow.localPort = int(data['net_host_port']);
    }
    if (int(data['unix_peer_inode']) !== null) {
      flow.peerInode = int(data['unix_peer_inode']);
      flow.unix = true;
    }
    if (int(data['unix_local_inode']) !== null) {
      flow.localInode = int(data['unix_local_inode']);
      flow.unix = true;
    }
    const path = str(data['unix_path']);
    if (path !== null) flow.unixPath = path;
  }

  /** Every flow, in the order first seen. */
  flows(): Flow[] {
    return this.all;
  }

  /** The flow with this id (case-insensitive), or undefined. */
  find(id: string): Flow | undefined {
    const lower = id.toLowerCase();
    return this.all.find((f) => flowId(f.seq) === lower);
  }
}

/** `ip:port`, `[v6]:port`, or `unix:<inode>`; `-` when unknown. */
function address(unix: boolean, ip: string | null, port: number | null, inode: number | null): string {
  if (unix) return inode === null ? '-' : `unix:${inode}`;
  if (ip === null) return '-';
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === null ? host : `${host}:${port}`;
}

export const localAddress = (f: Flow): string => address(f.unix, f.localIp, f.localPort, f.localInode);
export const peerAddress = (f: Flow): string => address(f.unix, f.peerIp, f.peerPort, f.peerInode);
export const protocolOf = (f: Flow): string => [f.transport ?? '?', ...f.appProtocols].join(' ');

/** ms the flow lasted: its net.close duration, or from its first event to the last event seen. */
export function durationOf(f: Flow, lastTime: number | null): number {
  if (f.duration !== null) return f.duration;
  if (lastTime === null) return 0;
  return Math.max(0, Math.round((lastTime - f.start) * 1000));
}

/**
 * The payload file names libscope would give this flow's bytes (`<pid>_<peerip>:<port>_<localip>:<port>`,
 * unix: `<pid>_unix_<local inode>`), without the .in/.out suffix. An address libscope did not know yet is
 * written as 0.0.0.0 in events but empty in file names, so both are tried.
 */
export function payloadBases(f: Flow): string[] {
  if (f.unix) return f.localInode === null ? [] : [`${f.pid}_unix_${f.localInode}`];
  if (f.peerIp === null || f.localIp === null) return [];
  const variants = (ip: string) => (ip === '0.0.0.0' || ip === '::' ? [ip, ''] : [ip]);
  const out: string[] = [];
  for (const p of variants(f.peerIp)) {
    for (const l of variants(f.localIp)) out.push(`${f.pid}_${p}:${f.peerPort ?? 0}_${l}:${f.localPort ?? 0}`);
  }
  return out;
}

/** The record for a flow; `payload` gives the path of its .in/.out file when there is one. */
export function toRecord(f: Flow, lastTime: number | null, payload?: (f: Flow, dir: 'in' | 'out') => string | null): FlowRecord {
  const rec: FlowRecord = {
    type: 'flow',
    id: flowId(f.seq),
    pid: f.pid,
    proc: f.proc,
    host: f.host,
    channel: f.channel,
    protocol: protocolOf(f),
    transport: f.transport,
    app_protocols: f.appProtocols,
    local: localAddress(f),
    peer: peerAddress(f),
    local_ip: f.unix ? null : f.localIp,
    local_port: f.unix ? null : f.localPort,
    peer_ip: f.unix ? null : f.peerIp,
    peer_port: f.unix ? null : f.peerPort,
    local_inode: f.unix ? f.localInode : null,
    peer_inode: f.unix ? f.peerInode : null,
    unix_path: f.unixPath,
    op: f.openOp,
    start: f.start,
    end: f.end,
    bytes_in: f.bytesIn,
    bytes_out: f.bytesOut,
    duration: durationOf(f, lastTime),
    close: f.close,
  };
  if (payload) {
    const pin = payload(f, 'in');
    const pout = payload(f, 'out');
    if (pin !== null) rec.payload_in = pin;
    if (pout !== null) rec.payload_out = pout;
  }
  return rec;
}

/** True when the flow's peer lies in one of the networks (unix flows never do). */
export function peerMatches(f: Flow, nets: Cidr[]): boolean {
  if (f.unix || f.peerIp === null) return false;
  const addr = parseIp(f.peerIp);
  return addr !== null && nets.some((n) => inCidr(addr, n));
}

export const SORT_FIELDS = ['id', 'pid', 'proc', 'protocol', 'local', 'peer', 'in', 'out', 'duration', 'close', 'start'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

function compareAddress(a: Flow, b: Flow, side: 'local' | 'peer'): number {
  // IP flows before unix ones; IPs in address order then port; unix by inode.
  if (a.unix !== b.unix) return a.unix ? 1 : -1;
  if (a.unix) {
    const ia = side === 'peer' ? a.peerInode : a.localInode;
    const ib = side === 'peer' ? b.peerInode : b.localInode;
    return (ia ?? -1) - (ib ?? -1);
  }
  const parse = (f: Flow): IpAddress | null => {
    const ip = side === 'peer' ? f.peerIp : f.localIp;
    return ip === null ? null : parseIp(ip);
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa === null || pb === null) return (pa === null ? 1 : 0) - (pb === null ? 1 : 0);
  const c = compareIp(pa, pb);
  if (c !== 0) return c;
  const port = (f: Flow) => (side === 'peer' ? f.peerPort : f.localPort) ?? -1;
  return port(a) - port(b);
}

/**
 * Sort flows by a field; ties keep id order. Unknown values (in/out of an open flow) go last in either
 * direction.
 */
export function sortFlows(flows: Flow[], field: SortField, reverse: boolean, lastTime: number | null): Flow[] {
  const sign = reverse ? -1 : 1;
  const numeric =
    (get: (f: Flow) => number | null) =>
    (a: Flow, b: Flow): number => {
      const x = get(a);
      const y = get(b);
      if (x === null || y === null) return x === y ? 0 : x === null ? 2 : -2; // marker: not reversed
      return sign * (x - y);
    };
  const text = (get: (f: Flow) => string) => (a: Flow, b: Flow) => sign * (get(a) < get(b) ? -1 : get(a) > get(b) ? 1 : 0);
  const cmp: Record<SortField, (a: Flow, b: Flow) => number> = {
    id: numeric((f) => f.seq),
    pid: numeric((f) => f.pid),
    proc: text((f) => f.proc),
    protocol: text(protocolOf),
    local: (a, b) => sign * compareAddress(a, b, 'local'),
    peer: (a, b) => sign * compareAddress(a, b, 'peer'),
    in: numeric((f) => f.bytesIn),
    out: numeric((f) => f.bytesOut),
    duration: numeric((f) => durationOf(f, lastTime)),
    close: text((f) => f.close),
    start: numeric((f) => f.start),
  };
  const by = cmp[field];
  return [...flows].sort((a, b) => {
    const c = by(a, b);
    return c !== 0 ? Math.sign(c) : a.seq - b.seq;
  });
}
