/**
 * The filter language of ../../../shared/FILTER.md: `-f [N:]NAME OP VALUES` (and bare booleans) parsed
 * into up to 64 scopes. Every malformed filter is a UsageError quoting the flag; the checks are all
 * made here, at start, so matching never meets a filter it cannot apply.
 */
import { UsageError } from '@scope/core';
import { dataFields, EVENT_FAMILIES, isDataField, isEventName, isFileEventName, SOURCETYPES, START_MSG } from './names.js';

export const MAX_SCOPES = 64;
export type Op = '=' | '!=' | '<' | '>' | '<=' | '>=';
const OPS: Op[] = ['!=', '<=', '>=', '=', '<', '>'];

/** A set of values as a filter gives them: exact strings and numbers, and `*` patterns for strings. */
export class ValueSet {
  readonly exact = new Set<string>();
  readonly nums = new Set<number>();
  readonly prefix: string[] = [];
  readonly suffix: string[] = [];
  readonly contains: string[] = [];
  /** The values as written, for --explain and SCOPE_FILTER. */
  readonly written: string[] = [];

  get size(): number {
    return this.written.length;
  }

  /** Whether any value is a `*` pattern. */
  get patterns(): boolean {
    return this.prefix.length + this.suffix.length + this.contains.length > 0;
  }

  add(text: string, pattern: boolean): void {
    this.written.push(text);
    const n = numberOf(text);
    if (n !== undefined) this.nums.add(n);
    const lead = pattern && text.length > 1 && text.startsWith('*');
    const trail = pattern && text.length > 1 && text.endsWith('*');
    if (lead && trail && text.length > 2) this.contains.push(text.slice(1, -1));
    else if (lead) this.suffix.push(text.slice(1));
    else if (trail) this.prefix.push(text.slice(0, -1));
    else this.exact.add(text);
  }

  has(v: string | number): boolean {
    if (typeof v === 'number') return this.nums.has(v);
    if (this.exact.has(v)) return true;
    for (const p of this.prefix) if (v.startsWith(p)) return true;
    for (const s of this.suffix) if (v.endsWith(s)) return true;
    for (const c of this.contains) if (v.includes(c)) return true;
    return false;
  }
}

/** A decimal integer or decimal number, or undefined. */
export function numberOf(text: string): number | undefined {
  return /^-?(\d+)(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

/** One kind in one scope: the equal set, the not-equal set and the range, as FILTER.md defines them. */
export class KindFilter {
  readonly eq = new ValueSet();
  readonly ne = new ValueSet();
  lo: number | undefined;
  hi: number | undefined;
  /** Set semantics: (EQ empty or v in EQ) and v not in NE (the event and tree kinds). */
  constructor(
    readonly kind: string,
    readonly setSemantics = false,
  ) {}

  get hasRange(): boolean {
    return this.lo !== undefined || this.hi !== undefined;
  }

  /** Results for strings already seen, when patterns make a lookup more than one Set.has. */
  private memo: Map<string, boolean> | undefined;

  /** FILTER.md's semantics table; a missing value (undefined) fails. */
  match(v: string | number | undefined): boolean {
    if (v === undefined) return false;
    if (typeof v === 'string' && (this.eq.patterns || this.ne.patterns)) {
      this.memo ??= new Map();
      let r = this.memo.get(v);
      if (r === undefined) {
        r = this.compute(v);
        if (this.memo.size >= 4096) this.memo.clear();
        this.memo.set(v, r);
      }
      return r;
    }
    return this.compute(v);
  }

  private compute(v: string | number): boolean {
    return this.decide(v, this.eq.size > 0 && this.eq.has(v), this.ne.size > 0 && this.ne.has(v));
  }

  /** The match when any of several spellings of one value counts (binary: PATH and MNTNS:PATH). */
  matchAny(vs: (string | number)[]): boolean {
    if (vs.length === 0) return false;
    const inEq = this.eq.size > 0 && vs.some((v) => this.eq.has(v));
    const inNe = this.ne.size > 0 && vs.some((v) => this.ne.has(v));
    return this.decide(vs[0] as string | number, inEq, inNe);
  }

  private decide(v: string | number, inEq: boolean, inNe: boolean): boolean {
    if (this.setSemantics) return (this.eq.size === 0 || inEq) && !inNe;
    if (this.hasRange) {
      if (inEq) return true;
      if (typeof v !== 'number') return false;
      return (this.lo === undefined || this.lo < v) && (this.hi === undefined || v < this.hi) && !inNe;
    }
    if (this.eq.size > 0 && this.ne.size > 0) return inEq || !inNe;
    if (this.eq.size > 0) return inEq;
    return !inNe;
  }
}

/** The process kinds: decided per process (its start record, or the body fields that name it). */
export const PROCESS_KINDS = ['comm', 'binary', 'pid', 'ppid', 'uid', 'gid', 'host', 'container', 'mntns', 'pidns', 'tree'] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];
const NUMERIC: ReadonlySet<string> = new Set(['pid', 'ppid', 'uid', 'gid', 'mntns', 'pidns', 'tree']);
const STRING_KINDS: ReadonlySet<string> = new Set(['comm', 'binary', 'host', 'container', 'sourcetype', 'event']);
const EQ_ONLY: ReadonlySet<string> = new Set(['event', 'sourcetype', 'comm', 'binary', 'host', 'container', 'mntns', 'pidns', 'tree']);

export interface Scope {
  n: number;
  /** The policy's name, or the scope number as text. */
  name: string;
  /** The filters as given (`-f` text or a policy's), for --explain and SCOPE_FILTER. */
  texts: string[];
  process: Map<ProcessKind, KindFilter>;
  /** `pid=new` / `pid!=new`. */
  pidNew: boolean | undefined;
  /** Bare `container` / `not-container`. */
  inContainer: boolean | undefined;
  follow: boolean | undefined;
  event: KindFilter;
  /** Whether `*` was given: every event record. */
  allEvents: boolean;
  sourcetype: KindFilter | undefined;
  /** EVENT → its data filters by field. */
  data: Map<string, Map<string, KindFilter>>;
  /** EVENT → must be a failure (true) / must not (false). */
  error: Map<string, boolean>;
}

function newScope(n: number): Scope {
  return {
    n,
    name: String(n),
    texts: [],
    process: new Map(),
    pidNew: undefined,
    inContainer: undefined,
    follow: undefined,
    event: new KindFilter('event', true),
    allEvents: false,
    sourcetype: undefined,
    data: new Map(),
    error: new Map(),
  };
}

/** The scopes a set of filters makes, by number. */
export type Scopes = Map<number, Scope>;

/** `where` names the filter as the user gave it: `-f "comm>5"`, or a policy's file and entry. */
function fail(where: string, why: string): never {
  throw new UsageError(`${where}: ${why}`);
}

/** Split `[N:]rest`: the prefix counts only before the first operator character. */
function scopePrefix(where: string, flag: string): { n: number; rest: string } {
  const opAt = flag.search(/[=!<>]/);
  const colon = flag.indexOf(':');
  if (colon < 0 || (opAt >= 0 && colon > opAt)) return { n: 1, rest: flag };
  const head = flag.slice(0, colon);
  if (!/^\d+$/.test(head)) fail(where, `"${head}" is not a scope number (1 to ${MAX_SCOPES})`);
  const n = Number(head);
  if (n < 1 || n > MAX_SCOPES) fail(where, `scope ${head} is outside 1..${MAX_SCOPES}`);
  return { n, rest: flag.slice(colon + 1) };
}

function splitOp(where: string, rest: string): { name: string; op: Op; values: string[] } | { name: string; op: null } {
  const at = rest.search(/[=!<>]/);
  if (at < 0) return { name: rest, op: null };
  const name = rest.slice(0, at);
  const op = OPS.find((o) => rest.startsWith(o, at));
  if (!op) fail(where, `"${rest.slice(at)}" does not start with an operator (=, !=, <, >, <=, >=)`);
  const valueText = rest.slice(at + op.length);
  if (valueText === '') fail(where, `the operator ${op} has no value`);
  const values = valueText.split(',');
  if (values.some((v) => v === '')) fail(where, 'an empty value in the list');
  return { name, op, values };
}

/** What a name before the operator means. */
type KindRef = { k: 'process'; kind: ProcessKind } | { k: 'event' } | { k: 'sourcetype' } | { k: 'follow' } | { k: 'data'; event: string; field: string } | { k: 'error'; event: string };

function kindOf(where: string, name: string): KindRef {
  if ((PROCESS_KINDS as readonly string[]).includes(name)) return { k: 'process', kind: name as ProcessKind };
  if (name === 'event') return { k: 'event' };
  if (name === 'sourcetype') return { k: 'sourcetype' };
  if (name === 'follow') return { k: 'follow' };
  const data = /^(.+)\.data\.(.+)$/.exec(name);
  if (data) {
    const [, event, field] = data as unknown as [string, string, string];
    checkDataEvent(where, event);
    if (!isDataField(event, field)) fail(where, `${event} has no data field "${field}" (its fields: ${dataFields(event).join(', ')})`);
    return { k: 'data', event, field };
  }
  const err = /^(.+)\.error$/.exec(name);
  if (err) {
    const event = err[1] as string;
    checkDataEvent(where, event);
    return { k: 'error', event };
  }
  fail(where, `unknown kind "${name}" (kinds: event, sourcetype, ${PROCESS_KINDS.join(', ')}, follow, EVENT.data.FIELD, EVENT.error)`);
}

function checkDataEvent(where: string, event: string): void {
  if (event === START_MSG) fail(where, 'the process-start record (start.msg) has no data fields');
  if (event.endsWith('*')) fail(where, `"${event}": data and error filters name one event, not a family`);
  if (!isEventName(event) && !isFileEventName(event)) fail(where, `unknown event "${event}"`);
}

function checkEventValue(where: string, value: string): void {
  if (value === '*') return;
  const name = value.startsWith('-') ? value.slice(1) : value;
  if (name === '' || name === '*') fail(where, `"${value}" names no event`);
  if (isFileEventName(name)) return;
  const family = /^([^*]+)\.\*$/.exec(name);
  if (family) {
    if (!EVENT_FAMILIES.includes(family[1] as string)) fail(where, `unknown event family "${name}" (families: ${EVENT_FAMILIES.map((f) => `${f}.*`).join(', ')})`);
    return;
  }
  if (!isEventName(name)) fail(where, `unknown event "${name}"`);
}

function checkValue(where: string, kindName: string, numeric: boolean, value: string, op: Op): void {
  if (value === '*') fail(where, 'a lone * matches everything; leave the filter out instead');
  if (numeric && !(kindName === 'pid' && value === 'new' && (op === '=' || op === '!=')) && !/^\d+$/.test(value)) {
    fail(where, `"${value}" is not a number${kindName === 'pid' ? ' (or new)' : ''}`);
  }
}

function addValues(f: KindFilter, where: string, op: Op, values: string[], pattern: boolean): void {
  const nums = (): number[] =>
    values.map((v) => {
      const n = numberOf(v);
      if (n === undefined) fail(where, `"${v}" is not a number (${op} compares numbers)`);
      return n;
    });
  switch (op) {
    case '=':
      for (const v of values) f.eq.add(v, pattern);
      break;
    case '!=':
      for (const v of values) f.ne.add(v, pattern);
      break;
    case '>':
    case '>=': {
      const ns = nums();
      const lo = Math.min(...ns);
      f.lo = f.lo === undefined ? lo : Math.min(f.lo, lo);
      if (op === '>=') for (const v of values) f.eq.add(v, false);
      break;
    }
    case '<':
    case '<=': {
      const ns = nums();
      const hi = Math.max(...ns);
      f.hi = f.hi === undefined ? hi : Math.max(f.hi, hi);
      if (op === '<=') for (const v of values) f.eq.add(v, false);
      break;
    }
  }
}

function setBool(where: string, current: boolean | undefined, value: boolean, what: string): boolean {
  if (current !== undefined && current !== value) fail(where, `conflicts with an earlier ${value ? 'not-' : ''}${what} in the same scope`);
  return value;
}

/** Add one filter (its text without the scope prefix) to a scope. */
export function addFilter(scope: Scope, where: string, rest: string): void {
  const parsed = splitOp(where, rest);
  if (parsed.op === null) {
    const negated = parsed.name.startsWith('not-');
    const name = negated ? parsed.name.slice(4) : parsed.name;
    if (name === '') fail(where, 'no kind');
    const ref = kindOf(where, name);
    if (ref.k === 'follow') scope.follow = setBool(where, scope.follow, !negated, 'follow');
    else if (ref.k === 'process' && ref.kind === 'container') scope.inContainer = setBool(where, scope.inContainer, !negated, 'container');
    else if (ref.k === 'error') {
      const cur = scope.error.get(ref.event);
      scope.error.set(ref.event, setBool(where, cur, !negated, `${ref.event}.error`));
    } else fail(where, `"${name}" needs an operator and a value (e.g. ${name}=VALUE)`);
    scope.texts.push(rest);
    return;
  }
  const { name, op, values } = parsed;
  const ref = kindOf(where, name);
  if (ref.k === 'follow' || ref.k === 'error') fail(where, `${name} is a boolean: write it bare, or not-${name}`);
  if (ref.k === 'event') {
    if (op !== '=' && op !== '!=') fail(where, `event takes = and !=, not ${op}`);
    for (const v of values) {
      checkEventValue(where, v);
      if (v === '*') {
        if (op === '!=') fail(where, 'event!=* would select nothing');
        scope.allEvents = true;
      } else if (v.startsWith('-')) scope.event.ne.add(v.slice(1), true);
      else (op === '=' ? scope.event.eq : scope.event.ne).add(v, true);
    }
  } else if (ref.k === 'sourcetype') {
    if (op !== '=' && op !== '!=') fail(where, `sourcetype takes = and !=, not ${op}`);
    for (const v of values) if (!SOURCETYPES.includes(v)) fail(where, `unknown sourcetype "${v}" (sourcetypes: ${SOURCETYPES.join(', ')})`);
    scope.sourcetype ??= new KindFilter('sourcetype');
    addValues(scope.sourcetype, where, op, values, false);
  } else if (ref.k === 'data') {
    let byField = scope.data.get(ref.event);
    if (!byField) scope.data.set(ref.event, (byField = new Map()));
    let f = byField.get(ref.field);
    if (!f) byField.set(ref.field, (f = new KindFilter(`${ref.event}.data.${ref.field}`)));
    for (const v of values) if (v === '*') fail(where, 'a lone * matches everything; leave the filter out instead');
    addValues(f, where, op, values, op === '=' || op === '!=');
  } else {
    const kind = ref.kind;
    if (EQ_ONLY.has(kind) && op !== '=' && op !== '!=') fail(where, `${kind} takes = and !=, not ${op}`);
    const numeric = NUMERIC.has(kind);
    for (const v of values) checkValue(where, kind, numeric, v, op);
    let vals = values;
    if (kind === 'pid') {
      const news = values.filter((v) => v === 'new');
      if (news.length > 0) {
        scope.pidNew = setBool(where, scope.pidNew, op === '=', 'pid=new');
        vals = values.filter((v) => v !== 'new');
      }
    }
    // `host:PATH` is PATH; `MNTNS:PATH` stays as written and is matched against `<mntns>:<exe>`.
    if (kind === 'binary') vals = vals.map((v) => v.replace(/^host:(?=.)/, ''));
    if (kind === 'container') vals = vals.map((v) => (v.endsWith('*') ? v : `${v}*`));
    if (vals.length > 0) {
      let f = scope.process.get(kind);
      if (!f) scope.process.set(kind, (f = new KindFilter(kind, kind === 'tree')));
      addValues(f, where, op, vals, STRING_KINDS.has(kind));
    }
  }
  scope.texts.push(rest);
}

/** Parse the `-f` flags into scopes (an unprefixed filter is scope 1). */
export function parseFilters(flags: string[]): Scopes {
  const scopes: Scopes = new Map();
  for (const flag of flags) {
    const where = `-f "${flag}"`;
    const { n, rest } = scopePrefix(where, flag);
    if (rest === '') fail(where, 'an empty filter');
    let scope = scopes.get(n);
    if (!scope) scopes.set(n, (scope = newScope(n)));
    addFilter(scope, where, rest);
  }
  return new Map([...scopes.entries()].sort((a, b) => a[0] - b[0]));
}

/** A fresh scope for a policy: its workload and rule filters are added with addFilter. */
export function policyScope(n: number, name: string): Scope {
  const s = newScope(n);
  s.name = name;
  return s;
}

/** Whether any scope names the process-start record, so start records are filtered too. */
export function selectsStartRecords(scopes: Scopes): boolean {
  for (const s of scopes.values()) if (s.event.eq.exact.has(START_MSG)) return true;
  return false;
}
