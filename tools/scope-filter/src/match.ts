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

/** An event record as matching needs it; data is read only when a data or error filter asks. */
export interface EventView {
  source: string;
  sourcetype: string | undefined;
  pid: number | undefined;
  proc: string | undefined;
  host: string | undefined;
  uid: number | undefined;
  gid: number | undefined;
  /** body.data[name], read when a data or error filter asks. */
  field: (name: string) => unknown;
}

/** The view of a parsed event body. */
export function viewOfBody(body: JsonObject): EventView {
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  const num = (k: string) => (typeof body[k] === 'number' ? (body[k] as number) : undefined);
  return {
    source: body['source'] as string,
    sourcetype: str('sourcetype'),
    pid: num('pid'),
    proc: str('proc'),
    host: str('host'),
    uid: num('uid'),
    gid: num('gid'),
    field: (name: string) => {
      const d = body['data'];
      return d !== null && typeof d === 'object' ? (d as JsonObject)[name] : undefined;
    },
  };
}

interface Combo {
  mask: bigint;
  constrained: Scope[];
  /** The data fields the constrained scopes read. */
  fields: string[];
  byFailures: Map<number, bigint>;
  /** The failures for the values of `fields` already seen (bounded). */
  byValues: Map<string, number>;
}

/** A map key for field values: the same key exactly when every value is the same. */
function valuesKey(values: unknown[]): string {
  let key = '';
  for (const v of values) key += typeof v === 'number' ? `n${v}\u0001` : typeof v === 'string' ? `s${v}\u0001` : v === undefined ? 'u\u0001' : `j${JSON.stringify(v)}\u0001`;
  return key;
}

/** What a record says of its process (the body's fields, or the start record's). */
interface ProcContext {
  pid: number | undefined;
  proc: string | undefined;
  host: string | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

/** A record is a failure: it carries an errno, or an HTTP status of 400 or more. */
export function isFailure(field: (name: string) => unknown): boolean {
  if (field('errno') !== undefined) return true;
  const status = field('http_status_code');
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
  private readonly comboCache = new Map<string, Map<bigint, Combo>>();
  private readonly procCache = new Map<number, { version: number; proc: string | undefined; host: string | undefined; uid: number | undefined; gid: number | undefined; mask: bigint }>();

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
      const selected = source === START_MSG ? ev.eq.exact.has(START_MSG) && !ev.ne.has(START_MSG) : (s.allEvents || ev.eq.size === 0 || ev.eq.has(source)) && !(ev.ne.size > 0 && ev.ne.has(source));
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
        case 'comm':
          ok = f.match(ctx.proc);
          break;
        case 'binary': {
          const exe = info?.exe;
          ok = exe !== undefined && f.matchAny(info?.mntns === undefined ? [exe] : [exe, `${info.mntns}:${exe}`]);
          break;
        }
        case 'pid':
          ok = f.match(ctx.pid);
          break;
        case 'ppid':
          ok = f.match(info?.ppid);
          break;
        case 'uid':
          ok = f.match(ctx.uid ?? info?.uid);
          break;
        case 'gid':
          ok = f.match(ctx.gid ?? info?.gid);
          break;
        case 'host':
          ok = f.match(ctx.host);
          break;
        case 'container':
          ok = f.match(info?.containerid);
          break;
        case 'mntns':
          ok = f.match(info?.mntns);
          break;
        case 'pidns':
          ok = f.match(info?.pidns);
          break;
        case 'tree':
          ok = ctx.pid !== undefined && this.inTree(f, ctx.pid, ctx.host);
          break;
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
  matchStart(info: ProcInfo): bigint {
    this.table.start(info);
    const ctx: ProcContext = { pid: info.pid, proc: info.procname, host: info.host, uid: info.uid, gid: info.gid };
    info.mask = this.processMask(ctx, info, this.all);
    return info.mask & this.eventMask(START_MSG, undefined);
  }

  /** What the event set and the process kinds leave, and which of those scopes filter data. */
  private combo(source: string, sourcetype: string | undefined, pm: bigint): Combo {
    const key = sourcetype === undefined ? source : `${source}\u0000${sourcetype}`;
    let bySource = this.comboCache.get(key);
    if (!bySource) this.comboCache.set(key, (bySource = new Map()));
    let c = bySource.get(pm);
    if (c) return c;
    const mask = this.eventMask(source, sourcetype) & pm;
    const constrained = (this.dataScopes.get(source) ?? []).filter((s) => (mask & bit(s.n)) !== 0n);
    const fields = new Set<string>();
    for (const s of constrained) {
      for (const f of s.data.get(source)?.keys() ?? []) fields.add(f);
      if (s.error.has(source)) fields.add('errno').add('http_status_code');
    }
    c = { mask, constrained, fields: [...fields], byFailures: new Map(), byValues: new Map() };
    bySource.set(pm, c);
    return c;
  }

  /** The mask of an event record. */
  matchEvent(v: EventView): bigint {
    const { pid, proc, host, uid, gid } = v;
    let pm: bigint;
    const cached = pid === undefined ? undefined : this.procCache.get(pid);
    if (cached && cached.version === this.table.version && cached.proc === proc && cached.host === host && cached.uid === uid && cached.gid === gid) {
      pm = cached.mask;
    } else {
      const info = pid === undefined ? undefined : this.table.get(pid, host);
      pm = this.processMask({ pid, proc, host, uid, gid }, info, this.all);
      if (pid !== undefined) this.procCache.set(pid, { version: this.table.version, proc, host, uid, gid, mask: pm });
    }
    const c = this.combo(v.source, v.sourcetype, pm);
    const n = c.constrained.length;
    if (n === 0) return c.mask;
    // Which constrained scopes fail, as a small integer while there are at most 30 of them, so the
    // mask for each pattern of failures is worked out once.
    if (n <= 30) {
      // The same values give the same failures: looked up by the values of the fields read.
      const key = valuesKey(c.fields.map((f) => v.field(f)));
      let fails = c.byValues.get(key);
      if (fails === undefined) {
        fails = 0;
        for (let i = 0; i < n; i++) if (!this.dataMatch(c.constrained[i] as Scope, v)) fails |= 1 << i;
        if (c.byValues.size >= 8192) c.byValues.clear();
        c.byValues.set(key, fails);
      }
      if (fails === 0) return c.mask;
      let m = c.byFailures.get(fails);
      if (m === undefined) {
        m = c.mask;
        for (let i = 0; i < n; i++) if (fails & (1 << i)) m &= ~bit((c.constrained[i] as Scope).n);
        c.byFailures.set(fails, m);
      }
      return m;
    }
    let m = c.mask;
    for (const s of c.constrained) if (!this.dataMatch(s, v)) m &= ~bit(s.n);
    return m;
  }

  private dataMatch(s: Scope, v: EventView): boolean {
    const failure = s.error.get(v.source);
    if (failure !== undefined && isFailure(v.field) !== failure) return false;
    const fields = s.data.get(v.source);
    if (fields) for (const [field, f] of fields) if (!f.match(scalar(v.field(field)))) return false;
    return true;
  }

  /** The policy names (or scope numbers) of a mask, ascending by scope. */
  names(mask: bigint): string[] {
    return this.list.filter((s) => (mask & bit(s.n)) !== 0n).map((s) => s.name);
  }
}
