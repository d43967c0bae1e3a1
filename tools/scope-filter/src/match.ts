/**
 * Matching records against the scopes: a bitmask per record, bit N-1 for scope N. The parts that are
 * the same for many records are cached: the event set by source, the process kinds by pid.
 */
import type { JsonObject } from '@scope/core';
import { START_MSG } from './names.js';
import type { KindFilter, Scope, Scopes } from './parse.js';
import { ProcessTable } from './procs.js';
import type { ProcInfo } from './procs.js';

const bit = (n: number): bigint => 1n << BigInt(n - 1);

/** What a record says of its process (the body's fields, or the start record's). */
interface ProcContext {
  pid: number | undefined;
  proc: string | undefined;
  host: string | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

/** A record is a failure: it carries an errno, or an HTTP status of 400 or more. */
export function isFailure(data: JsonObject | undefined): boolean {
  if (!data) return false;
  if (data['errno'] !== undefined) return true;
  const status = data['http_status_code'];
  return typeof status === 'number' && status >= 400;
}

function scalar(v: unknown): string | number | undefined {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : undefined;
}

export interface MatcherOptions {
  /** Reading live (stdin): pids without a start record are looked up in /proc. */
  live: boolean;
  hostname: string;
}

export class Matcher {
  readonly all: bigint;
  readonly table: ProcessTable;
  /** Whether start records are filtered (some scope names start.msg), else they pass unchanged. */
  readonly filtersStart: boolean;
  private readonly list: Scope[];
  private readonly followMask: bigint;
  /** Scopes with data or error filters, by event. */
  private readonly dataScopes = new Map<string, Scope[]>();
  private readonly eventCache = new Map<string, bigint>();
  private readonly procCache = new Map<number, { version: number; proc: unknown; host: unknown; uid: unknown; gid: unknown; mask: bigint }>();

  constructor(scopes: Scopes, options: MatcherOptions) {
    this.list = [...scopes.values()];
    this.all = this.list.reduce((m, s) => m | bit(s.n), 0n);
    this.followMask = this.list.filter((s) => s.follow === true).reduce((m, s) => m | bit(s.n), 0n);
    this.filtersStart = this.list.some((s) => s.event.eq.exact.has(START_MSG));
    for (const s of this.list) {
      for (const event of new Set([...s.data.keys(), ...s.error.keys()])) {
        const l = this.dataScopes.get(event) ?? [];
        l.push(s);
        this.dataScopes.set(event, l);
      }
    }
    this.table = new ProcessTable(options.live, options.hostname);
  }

  /** Scopes whose event set and sourcetype take this source (an event record's, or start.msg). */
  eventMask(source: string, sourcetype: string | undefined): bigint {
    const key = sourcetype === undefined ? source : `${source}\u0000${sourcetype}`;
    let m = this.eventCache.get(key);
    if (m !== undefined) return m;
    m = 0n;
    for (const s of this.list) {
      const ev = s.event;
      const selected = source === START_MSG
        ? ev.eq.exact.has(START_MSG) && !ev.ne.has(START_MSG)
        : (s.allEvents || ev.eq.size === 0 || ev.eq.has(source)) && !(ev.ne.size > 0 && ev.ne.has(source));
      if (!selected) continue;
      if (s.sourcetype && !s.sourcetype.match(sourcetype)) continue;
      m |= bit(s.n);
    }
    this.eventCache.set(key, m);
    return m;
  }

  private processMatch(s: Scope, ctx: ProcContext, info: ProcInfo | undefined): boolean {
    for (const [kind, f] of s.process) {
      let ok: boolean;
      switch (kind) {
        case 'comm': ok = f.match(ctx.proc); break;
        case 'binary': {
          const exe = info?.exe;
          ok = f.match(exe);
          const ns = exe === undefined ? undefined : s.binaryNs.get(exe);
          if (ok && ns !== undefined && info?.mntns !== ns) ok = false;
          break;
        }
        case 'pid': ok = f.match(ctx.pid); break;
        case 'ppid': ok = f.match(info?.ppid); break;
        case 'uid': ok = f.match(ctx.uid ?? info?.uid); break;
        case 'gid': ok = f.match(ctx.gid ?? info?.gid); break;
        case 'host': ok = f.match(ctx.host); break;
        case 'container': ok = f.match(info?.containerid); break;
        case 'mntns': ok = f.match(info?.mntns); break;
        case 'pidns': ok = f.match(info?.pidns); break;
        case 'tree': ok = ctx.pid !== undefined && this.inTree(f, ctx.pid, ctx.host); break;
      }
      if (!ok) return false;
    }
    if (s.pidNew !== undefined && (info?.isNew ?? false) !== s.pidNew) return false;
    if (s.inContainer !== undefined) {
      const id = info?.containerid;
      if (id === undefined || (id !== '') !== s.inContainer) return false;
    }
    return true;
  }

  private inTree(f: KindFilter, pid: number, host: string | undefined): boolean {
    const lineage = this.table.lineage(pid, host);
    const inEq = f.eq.size > 0 && lineage.some((p) => f.eq.has(p));
    const inNe = f.ne.size > 0 && lineage.some((p) => f.ne.has(p));
    return (f.eq.size === 0 || inEq) && !inNe;
  }

  /** Scopes whose process kinds the process matches, itself or through a followed parent. */
  private processMask(ctx: ProcContext, info: ProcInfo | undefined, within: bigint): bigint {
    let m = 0n;
    for (const s of this.list) {
      const b = bit(s.n);
      if ((within & b) === 0n) continue;
      if (this.processMatch(s, ctx, info)) m |= b;
    }
    const parent = info ? info.parentMask : 0n;
    return m | (this.followMask & parent & within);
  }

  /** The mask of a process-start record; remembers the image for later records of its pid. */
  matchStart(rec: JsonObject, info: ProcInfo): bigint {
    this.table.start(info);
    const ctx: ProcContext = { pid: info.pid, proc: info.procname, host: info.host, uid: info.uid, gid: info.gid };
    info.mask = this.processMask(ctx, info, this.all);
    void rec;
    return info.mask & this.eventMask(START_MSG, undefined);
  }

  /** The mask of an event record (its body already checked to be an object with source). */
  matchEvent(body: JsonObject): bigint {
    const source = body['source'] as string;
    const sourcetype = typeof body['sourcetype'] === 'string' ? body['sourcetype'] : undefined;
    const em = this.eventMask(source, sourcetype);
    if (em === 0n) return 0n;
    const pid = typeof body['pid'] === 'number' ? body['pid'] : undefined;
    const proc = body['proc'];
    const host = body['host'];
    const uid = body['uid'];
    const gid = body['gid'];
    let pm: bigint;
    const cached = pid === undefined ? undefined : this.procCache.get(pid);
    if (cached && cached.version === this.table.version && cached.proc === proc && cached.host === host && cached.uid === uid && cached.gid === gid) {
      pm = cached.mask;
    } else {
      const info = pid === undefined ? undefined : this.table.get(pid, typeof host === 'string' ? host : undefined);
      const ctx: ProcContext = {
        pid,
        proc: typeof proc === 'string' ? proc : undefined,
        host: typeof host === 'string' ? host : undefined,
        uid: typeof uid === 'number' ? uid : undefined,
        gid: typeof gid === 'number' ? gid : undefined,
      };
      pm = this.processMask(ctx, info, this.all);
      if (pid !== undefined) this.procCache.set(pid, { version: this.table.version, proc, host, uid, gid, mask: pm });
    }
    let m = em & pm;
    if (m === 0n) return 0n;
    const constrained = this.dataScopes.get(source);
    if (constrained) {
      const data = body['data'] as JsonObject | undefined;
      for (const s of constrained) {
        const b = bit(s.n);
        if ((m & b) !== 0n && !this.dataMatch(s, source, data)) m &= ~b;
      }
    }
    return m;
  }

  private dataMatch(s: Scope, source: string, data: JsonObject | undefined): boolean {
    const failure = s.error.get(source);
    if (failure !== undefined && isFailure(data) !== failure) return false;
    const fields = s.data.get(source);
    if (fields) for (const [field, f] of fields) if (!f.match(scalar(data?.[field]))) return false;
    return true;
  }

  /** The policy names (or scope numbers) of a mask, ascending by scope. */
  names(mask: bigint): string[] {
    return this.list.filter((s) => (mask & bit(s.n)) !== 0n).map((s) => s.name);
  }
}
