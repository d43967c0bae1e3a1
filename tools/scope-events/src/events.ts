/**
 * The work of `scope-events`: lines of NDJSON in (in batches, as they were read), selected events out,
 * as NDJSON lines or one line per event for people.
 *
 * Each event is known by a short id: its line number in its input (the file or stdin), in base 36
 * (`1`, `a`, `2s`, …). Ids do not depend on the filters, so `scope-events 2s` finds the event shown
 * as `[2s]` by any earlier query on the same input.
 *
 * Speed: a line that does not contain the --match text, or none of the quoted --source/--sourcetype
 * names, cannot be selected, so it is not parsed; it is only checked to be framed as one JSON object
 * (`{…}`), which catches truncated and non-JSON lines. In NDJSON mode without --fields the original
 * line is written, never a re-serialised record.
 */
import { classify, formatBadLine, formatTime, formatTorn, formatValue, framed, isTornRecord, parseRecord, printable } from '@scope/core';
import type { JsonObject } from '@scope/core';

export interface EventsOptions {
  /** `scope-events`, for messages. */
  tool: string;
  /** `stdin` or the file's path, for messages. */
  where: string;
  /** NDJSON lines, or one line per event for people. */
  format: 'json' | 'people';
  /** ANSI colour in the people format. */
  color: boolean;
  match?: string | undefined;
  sources?: string[] | undefined;
  sourcetypes?: string[] | undefined;
  fields?: string[] | undefined;
  sort?: string | undefined;
  reverse?: boolean | undefined;
  /** Keep only the last N selected events (in input order, before sorting or reversing). */
  last?: number | undefined;
  /** Show only the event with this line number (an id). */
  only?: number | undefined;
  /** Stop at the first bad line. */
  strict?: boolean | undefined;
  /**
   * Following a file: the lines it held when we started. With `last`, the last N events of those are
   * shown once line `backlog` has been read, and every later event as it comes.
   */
  backlog?: number | undefined;
  warn: (message: string) => void;
  /** Write lines given joined by newlines, and a final newline (NdjsonWriter.writeLine). */
  write: (text: string) => Promise<void>;
}

export interface EventsResult {
  /** Lines that were not records we could read (torn records apart). */
  bad: number;
  /** Torn records (a writer killed mid-line) skipped, named in one warning at the end. */
  torn?: number;
  /** Selected events (before --last). */
  selected: number;
  /** Events written. */
  shown: number;
  /** With `only`: whether that event was found. */
  found: boolean;
}

/** An event kept for output. */
interface Item {
  n: number;
  line: string;
  rec: JsonObject;
}

// ---------------------------------------------------------------------------------------------
// Ids

/** The short id of the record on line `n`. */
export function shortId(n: number): string {
  return n.toString(36);
}

/** The line number an id names, or null when it is not an id. */
export function parseShortId(text: string): number | null {
  if (!/^[0-9a-z]{1,10}$/i.test(text)) return null;
  const n = parseInt(text.toLowerCase(), 36);
  return n >= 1 && Number.isSafeInteger(n) ? n : null;
}

// ---------------------------------------------------------------------------------------------
// Records

function bodyOf(rec: JsonObject): JsonObject {
  return rec['body'] as JsonObject;
}

function dataOf(rec: JsonObject): JsonObject {
  const d = bodyOf(rec)['data'];
  return (d ?? {}) as JsonObject;
}

/** The record with body.data reduced to `fields`, in that order (absent ones left out). */
export function withFields(rec: JsonObject, fields: string[]): JsonObject {
  const data = dataOf(rec);
  const reduced: JsonObject = {};
  for (const f of fields) if (Object.hasOwn(data, f)) reduced[f] = data[f];
  return { ...rec, body: { ...bodyOf(rec), data: reduced } };
}

/** A body field by path: `_time`, `proc`, `data.duration`; a leading `body.` is allowed. */
export function fieldValue(rec: JsonObject, path: string): unknown {
  const parts = (path.startsWith('body.') ? path.slice(5) : path).split('.');
  let v: unknown = bodyOf(rec);
  for (const p of parts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as JsonObject)[p];
  }
  return v;
}

type SortKey = { rank: 0; v: number } | { rank: 1; v: string } | { rank: 2; v: string } | { rank: 3 };

function sortKey(v: unknown): SortKey {
  if (typeof v === 'number' && Number.isFinite(v)) return { rank: 0, v };
  if (typeof v === 'string') return { rank: 1, v };
  if (v === undefined || v === null) return { rank: 3 };
  return { rank: 2, v: JSON.stringify(v) };
}

/**
 * Order events by a body field: numbers numerically, strings lexicographically (numbers before
 * strings); records lacking the field come last in either direction. Stable.
 */
export function sortItems<T extends { rec: JsonObject }>(items: T[], field: string, reverse: boolean): T[] {
  const keyed = items.map((item) => ({ item, key: sortKey(fieldValue(item.rec, field)) }));
  const dir = reverse ? -1 : 1;
  keyed.sort((a, b) => {
    const ka = a.key;
    const kb = b.key;
    if (ka.rank === 3 || kb.rank === 3) return ka.rank === kb.rank ? 0 : ka.rank === 3 ? 1 : -1;
    if (ka.rank !== kb.rank) return (ka.rank - kb.rank) * dir;
    const va = (ka as { v: number | string }).v;
    const vb = (kb as { v: number | string }).v;
    return (va < vb ? -1 : va > vb ? 1 : 0) * dir;
  });
  return keyed.map((k) => k.item);
}

// ---------------------------------------------------------------------------------------------
// The format for people

const COLORS: Record<string, string> = { fs: '34', net: '32', http: '35', dns: '36', console: '33', file: '33', metric: '90' };
const dim = (s: string) => `\u001b[2m${s}\u001b[22m`;
const paint = (code: string, s: string) => `\u001b[${code}m${s}\u001b[39m`;

/** `[2s] Nov 23 15:06:08 cat fs      fs.open   file:/etc/hostname op:openat …` */
export function formatEvent(n: number, rec: JsonObject, fields: string[] | undefined, color: boolean): string {
  const body = bodyOf(rec);
  const data = dataOf(rec);
  const id = `[${shortId(n)}]`;
  const time = formatTime(body['_time']);
  // Names and values come from the observed program: control characters escaped (formatValue too).
  const proc = typeof body['proc'] === 'string' && body['proc'] !== '' ? printable(body['proc'] as string) : '-';
  const sourcetype = printable(String(body['sourcetype']));
  const source = printable(String(body['source']));
  const stPad = sourcetype.padEnd(7);
  let out = color
    ? `${dim(id)} ${dim(time)} ${proc} ${paint(COLORS[sourcetype] ?? '1', sourcetype)}${stPad.slice(sourcetype.length)} ${source.padEnd(9)}`
    : `${id} ${time} ${proc} ${stPad} ${source.padEnd(9)}`;
  const keys = fields ?? Object.keys(data);
  for (const k of keys) {
    if (!Object.hasOwn(data, k)) continue;
    const key = printable(k);
    out += color ? ` ${dim(key + ':')}${formatValue(data[k])}` : ` ${key}:${formatValue(data[k])}`;
  }
  return out.trimEnd();
}

// ---------------------------------------------------------------------------------------------
// The run

function isBlank(line: string): boolean {
  if (line.length === 0) return true;
  const c = line.charCodeAt(0);
  if (c === 123) return false;
  return line.trim() === '';
}

/** A bounded list that keeps the last `size` items pushed. */
class Tail<T> {
  private buf: T[] = [];
  private start = 0;
  constructor(private readonly size: number) {}
  push(item: T): void {
    if (this.size <= 0) return;
    if (this.buf.length < this.size) this.buf.push(item);
    else {
      this.buf[this.start] = item;
      this.start = (this.start + 1) % this.size;
    }
  }
  drain(): T[] {
    const out = this.buf.slice(this.start).concat(this.buf.slice(0, this.start));
    this.buf = [];
    this.start = 0;
    return out;
  }
}

/**
 * Read the batches of lines, select, format and write. Non-event records (process-start records,
 * metrics, other record types) are never shown for people; in NDJSON mode they are passed through
 * unchanged only when nothing selects (no --match, --source, --sourcetype, --fields, --sort, --last).
 */
export async function runEvents(batches: AsyncIterable<string[]>, o: EventsOptions): Promise<EventsResult> {
  const result: EventsResult = { bad: 0, selected: 0, shown: 0, found: false };
  const selecting = o.match !== undefined || o.sources !== undefined || o.sourcetypes !== undefined || o.fields !== undefined || o.sort !== undefined || o.last !== undefined;
  const passThrough = o.format === 'json' && !selecting;
  const sources = o.sources ? new Set(o.sources) : null;
  const sourcetypes = o.sourcetypes ? new Set(o.sourcetypes) : null;
  // A selected event's line holds `"name"` for one of the names (when no name needs escaping).
  const names = [...(o.sources ?? []), ...(o.sourcetypes ?? [])];
  const quoted = names.every((s) => JSON.stringify(s) === `"${s}"`) ? names.map((s) => `"${s}"`) : null;
  const prefilter = names.length > 0 ? quoted : null;
  const match = o.match;

  // Where selected events go: straight out (streaming), into a tail, or into a list to sort.
  const all: Item[] | null = o.sort !== undefined || o.reverse === true ? [] : null;
  let tail: Tail<Item> | null = o.last !== undefined ? new Tail<Item>(o.last) : null;
  const format = (item: Item): string => {
    if (o.format === 'json') {
      return o.fields ? JSON.stringify(withFields(item.rec, o.fields)) : item.line;
    }
    return formatEvent(item.n, item.rec, o.fields, o.color);
  };
  let out: string[] = [];
  const flushTail = () => {
    if (!tail) return;
    for (const item of tail.drain()) {
      out.push(format(item));
      result.shown++;
    }
    tail = null;
  };

  const bad = (n: number, line: string, reason: string): boolean => {
    if (isTornRecord(line)) {
      result.torn = (result.torn ?? 0) + 1;
      return true;
    }
    result.bad++;
    o.warn(formatBadLine(o.tool, { source: o.where, line: n, reason, text: line.slice(0, 120) }));
    return o.strict !== true;
  };
  /** A line we do not parse must still look like a record; false when reading must stop. */
  const checkSkipped = (n: number, line: string): boolean => {
    if (framed(line)) return true;
    const parsed = parseRecord(line);
    return typeof parsed === 'string' ? bad(n, line, parsed) : true;
  };

  let n = 0;
  let stop = false;
  for await (const batch of batches) {
    for (const line of batch) {
      n++;
      if (isBlank(line)) continue;
      if (o.only !== undefined) {
        if (n !== o.only) continue;
        stop = true;
        const rec = parseRecord(line);
        if (typeof rec === 'string') {
          bad(n, line, rec);
          break;
        }
        const kind = classify(rec);
        if (kind !== 'event' && kind !== 'other') bad(n, line, kind);
        if (kind !== 'event') break;
        result.found = true;
        result.shown = 1;
        out.push(o.format === 'json' ? line : JSON.stringify(rec, null, 2));
        break;
      }
      if (match !== undefined && !line.includes(match)) {
        if (!checkSkipped(n, line)) {
          stop = true;
          break;
        }
        continue;
      }
      if (prefilter !== null) {
        let hit = false;
        for (const q of prefilter)
          if (line.includes(q)) {
            hit = true;
            break;
          }
        if (!hit) {
          if (!checkSkipped(n, line)) {
            stop = true;
            break;
          }
          continue;
        }
      }
      const rec = parseRecord(line);
      if (typeof rec === 'string') {
        if (!bad(n, line, rec)) {
          stop = true;
          break;
        }
        continue;
      }
      const kind = classify(rec);
      if (kind === 'other') {
        if (passThrough) out.push(line);
        continue;
      }
      if (kind !== 'event') {
        if (!bad(n, line, kind)) {
          stop = true;
          break;
        }
        continue;
      }
      const body = bodyOf(rec);
      if (sources !== null && !sources.has(body['source'] as string)) continue;
      if (sourcetypes !== null && !sourcetypes.has(body['sourcetype'] as string)) continue;
      result.selected++;
      const item = { n, line, rec };
      if (tail) tail.push(item);
      else if (all) all.push(item);
      else {
        out.push(format(item));
        result.shown++;
      }
    }
    // Following with --last: the backlog is read; show its tail, then stream.
    if (o.backlog !== undefined && n >= o.backlog && all === null) flushTail();
    if (out.length > 0) {
      const text = out.join('\n');
      out = [];
      await o.write(text);
    }
    if (stop) break;
  }
  if (all) {
    let items = tail ? tail.drain() : all;
    tail = null;
    items = o.sort !== undefined ? sortItems(items, o.sort, o.reverse === true) : items.reverse();
    for (const item of items) {
      out.push(format(item));
      result.shown++;
    }
  } else {
    flushTail();
  }
  if (out.length > 0) await o.write(out.join('\n'));
  if (result.torn) o.warn(formatTorn(o.tool, o.where, result.torn));
  return result;
}
