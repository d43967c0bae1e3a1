/**
 * Shared views of a record: what kind it is, whether a raw line can be one, and how a time and a
 * data value are shown to people.
 */
import type { JsonObject } from './ndjson.js';
import { printable } from './printable.js';

/** 'event', 'other' (metrics, process-start records, other record types), or why it is malformed. */
export function classify(rec: JsonObject): 'event' | 'other' | string {
  const type = rec['type'];
  if (type === 'evt') {
    const body = rec['body'];
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'event without a "body" object';
    const b = body as JsonObject;
    if (typeof b['sourcetype'] !== 'string') return 'event body without a "sourcetype" string';
    if (typeof b['source'] !== 'string') return 'event body without a "source" string';
    const data = b['data'];
    if (data !== undefined && (data === null || typeof data !== 'object' || Array.isArray(data))) return 'event "data" is not an object';
    return 'event';
  }
  if (typeof type === 'string') return 'other';
  if ('format' in rec && 'info' in rec) return 'other';
  return 'not a scope record (no "type", and not a process-start record)';
}

/** First and last non-blank characters are `{` and `}`: possibly one JSON object. */
export function framed(line: string): boolean {
  if (line.charCodeAt(0) === 123 && line.charCodeAt(line.length - 1) === 125) return true;
  const t = line.trim();
  return t.charCodeAt(0) === 123 && t.charCodeAt(t.length - 1) === 125;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `Nov 23 15:06:08` in local time (the TZ environment variable). */
export function formatTime(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '--- -- --:--:--';
  const d = new Date(seconds * 1000);
  return `${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export const MAX_VALUE = 40;

/** A data value as shown: strings bare, others as compact JSON, control characters escaped, cut at 40. */
export function formatValue(v: unknown): string {
  let s = printable(typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
  if (s.length > MAX_VALUE) s = s.slice(0, MAX_VALUE - 1) + '…';
  return s;
}
