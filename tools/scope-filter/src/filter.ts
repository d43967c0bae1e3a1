/**
 * The work of `scope-filter`: NDJSON lines in (in batches, as read), the records some scope matches
 * out, each with body.matchedScopes (a decimal string: 2^63 does not fit a JavaScript number) and
 * body.matchedPolicies. Metrics and other records pass through; process-start records too, unless a
 * scope names start.msg.
 *
 * Speed: an event line of libscope's shape is not parsed whole (fastline.ts), and a kept line is
 * written as it came with the two keys spliced in, never re-serialised, where its shape allows
 * (libscope's always does).
 */
import { classify, formatBadLine, formatTime, formatValue, parseRecord, printable } from '@scope/core';
import type { JsonObject } from '@scope/core';
import { Matcher, viewOfBody } from './match.js';
import { fastEvent } from './fastline.js';
import type { MatcherOptions } from './match.js';
import type { Scopes } from './parse.js';
import { infoOfStart } from './procs.js';

export interface FilterOptions extends MatcherOptions {
  tool: string;
  /** `stdin` or the file's path, for messages. */
  where: string;
  format: 'json' | 'table';
  strict: boolean;
  warn: (message: string) => void;
  /** Write lines joined by newlines (NdjsonWriter.writeLine adds the last newline). */
  write: (text: string) => Promise<void>;
}

export interface FilterResult {
  bad: number;
  /** Records read and records written. */
  read: number;
  written: number;
}

function hasOwnObjectsBefore(rec: JsonObject, key: string): boolean {
  for (const k of Object.keys(rec)) {
    if (k === key) return false;
    const v = rec[k];
    if (v !== null && typeof v === 'object') return true;
  }
  return true;
}

/** The line with `fragment` (`"k":v,…`) added to the record's body, spliced when the shape allows. */
export function withInBody(line: string, rec: JsonObject, fragment: string): string {
  const body = rec['body'] as JsonObject;
  if (!('matchedScopes' in body) && !('matchedPolicies' in body) && !hasOwnObjectsBefore(rec, 'body')) {
    const at = line.indexOf('"body":{');
    // Keys before body hold no objects, and a quote inside a string is escaped, so the first
    // `"body":{` preceded by `,` or `{` is the record's own.
    if (at > 0 && (line[at - 1] === ',' || line[at - 1] === '{')) {
      const open = at + 8;
      return `${line.slice(0, open)}${fragment}${line[open] === '}' ? '' : ','}${line.slice(open)}`;
    }
  }
  const copy = { ...rec, body: { ...body } };
  const b = copy.body as JsonObject;
  delete b['matchedScopes'];
  delete b['matchedPolicies'];
  Object.assign(b, JSON.parse(`{${fragment}}`));
  return JSON.stringify(copy);
}

/** The line with `fragment` added at the record's top level. */
export function withAtTop(line: string, rec: JsonObject, fragment: string): string {
  const t = line.trimEnd();
  if (!('matchedScopes' in rec) && !('matchedPolicies' in rec) && t.endsWith('}')) return `${t.slice(0, -1)},${fragment}}`;
  const copy: JsonObject = { ...rec };
  delete copy['matchedScopes'];
  delete copy['matchedPolicies'];
  return JSON.stringify(Object.assign(copy, JSON.parse(`{${fragment}}`)));
}

/** `0000000000000104` for scopes 3 and 9. */
export function hex16(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}

export const TABLE_HEADER = `${'SCOPES'.padEnd(16)} ${'TIME'.padEnd(15)} ${'PID'.padStart(7)} ${'PROC'.padEnd(12)} ${'SOURCE'.padEnd(10)} DATA`;

function tableRow(mask: bigint, rec: JsonObject, start: boolean): string {
  let time: unknown, pid: unknown, proc: unknown, source: string, data: JsonObject;
  if (start) {
    const p = ((rec['info'] as JsonObject)['process'] ?? {}) as JsonObject;
    time = undefined;
    pid = p['pid'];
    proc = p['procname'];
    source = 'start.msg';
    data = { ppid: p['ppid'], exe: p['exe'], cmd: p['cmd'] };
  } else {
    const b = rec['body'] as JsonObject;
    time = b['_time'];
    pid = b['pid'];
    proc = b['proc'];
    source = printable(String(b['source']));
    data = (b['data'] ?? {}) as JsonObject;
  }
  const fields = Object.keys(data)
    .filter((k) => data[k] !== undefined)
    .map((k) => `${printable(k)}:${formatValue(data[k])}`)
    .join(' ');
  return `${hex16(mask)} ${formatTime(time)} ${String(pid ?? '-').padStart(7)} ${formatValue(proc ?? '-').padEnd(12)} ${source.padEnd(10)} ${fields}`;
}

/** Filter the lines; resolves when the input ends (or, with strict, at the first bad line). */
export async function runFilter(batches: AsyncIterable<string[]>, scopes: Scopes, o: FilterOptions): Promise<FilterResult> {
  const m = new Matcher(scopes, o);
  const fragments = new Map<bigint, string>();
  const fragment = (mask: bigint): string => {
    let f = fragments.get(mask);
    if (f === undefined) {
      f = `"matchedScopes":"${mask.toString()}","matchedPolicies":${JSON.stringify(m.names(mask))}`;
      fragments.set(mask, f);
    }
    return f;
  };
  const res: FilterResult = { bad: 0, read: 0, written: 0 };
  let n = 0;
  let stop = false;
  const bad = (line: number, reason: string, text: string) => {
    res.bad++;
    o.warn(formatBadLine(o.tool, { source: o.where, line, reason, text: text.slice(0, 120) }));
    if (o.strict) stop = true;
  };
  if (o.format === 'table') await o.write(TABLE_HEADER);
  for await (const batch of batches) {
    const out: string[] = [];
    for (const line of batch) {
      n++;
      if (line.length === 0 || (line.charCodeAt(0) !== 123 && line.trim() === '')) continue;
      const fast = fastEvent(line);
      if (fast !== null) {
        let mask: bigint | null;
        try {
          mask = m.matchEvent(fast);
        } catch {
          mask = null; // its data did not parse: the whole line is parsed below and reported
        }
        if (mask !== null) {
          res.read++;
          if (mask === 0n) continue;
          const at = fast.bodyStart;
          out.push(o.format === 'table' ? tableRow(mask, JSON.parse(line) as JsonObject, false) : `${line.slice(0, at)}${fragment(mask)},${line.slice(at)}`);
          res.written++;
          continue;
        }
      }
      const rec = parseRecord(line);
      if (typeof rec === 'string') {
        bad(n, rec, line);
        if (stop) break;
        continue;
      }
      res.read++;
      const kind = classify(rec);
      if (kind === 'event') {
        const mask = m.matchEvent(viewOfBody(rec['body'] as JsonObject));
        if (mask === 0n) continue;
        out.push(o.format === 'table' ? tableRow(mask, rec, false) : withInBody(line, rec, fragment(mask)));
      } else if (kind === 'other') {
        if (!('format' in rec && 'info' in rec)) {
          if (o.format === 'json')
            out.push(line); // metrics and other records pass through
          else continue;
        } else {
          const info = infoOfStart(rec);
          if (!info) {
            bad(n, 'process-start record without info.process.pid', line);
            if (stop) break;
            continue;
          }
          const mask = m.matchStart(info);
          if (!m.filtersStart) {
            if (o.format === 'json') out.push(line);
            else continue;
          } else if (mask !== 0n) {
            out.push(o.format === 'table' ? tableRow(mask, rec, true) : withAtTop(line, rec, fragment(mask)));
          } else continue;
        }
      } else {
        bad(n, kind, line);
        if (stop) break;
        continue;
      }
      res.written++;
    }
    if (out.length > 0) await o.write(out.join('\n'));
    if (stop) break;
  }
  return res;
}
