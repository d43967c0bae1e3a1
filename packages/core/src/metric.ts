/**
 * One input line to one metric: an NDJSON metric record, or a StatsD line as libscope writes it with
 * SCOPE_METRIC_FORMAT=statsd (`name:value|type[|@rate][|#k:v,…]`). Other scope records (events,
 * process-start records, any other `type`) are skipped; anything else is a bad line with a reason.
 */
import { parseRecord } from './ndjson.js';
import { tooLongReason } from './lines.js';
import type { JsonObject } from './ndjson.js';

export const METRIC_TYPES = ['counter', 'gauge', 'timer', 'histogram', 'set'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export type DimValue = string | number;

export interface Metric {
  name: string;
  type: MetricType;
  value: number;
  /** Epoch seconds; null for a StatsD line (they carry no time). */
  time: number | null;
  /** Every key of the body beyond _metric, _metric_type, _value and _time, in record order. */
  dims: Record<string, DimValue>;
  /** The record as NDJSON text: the input line itself, or the record made from a StatsD line. */
  json: string;
}

export type Parsed = { kind: 'metric'; metric: Metric } | { kind: 'skip' } | { kind: 'bad'; why: string };

/** StatsD type letters and the metric types they stand for. */
export const STATSD_TYPES: Record<string, MetricType> = { c: 'counter', g: 'gauge', ms: 'timer', h: 'histogram', s: 'set' };
export const STATSD_LETTER: Record<MetricType, string> = { counter: 'c', gauge: 'g', timer: 'ms', histogram: 'h', set: 's' };

/** Dimensions that are integers in the NDJSON records; from a StatsD tag they are read back as numbers. */
const NUMERIC_DIMS = new Set(['pid', 'fd', 'port', 'localp', 'remotep', 'numops', 'max', 'uid', 'gid', 'duration', 'http_status_code']);

const STATSD_LINE = /^([^\s:|#][^:|]*):([^|]*)\|(c|g|ms|h|s)(\|@[0-9.eE+-]+)?(?:\|#(.*))?$/;

/** A dimension value as a string or a number (anything else as its JSON text). */
function dimValue(v: unknown): DimValue {
  if (typeof v === 'string' || typeof v === 'number') return v;
  return JSON.stringify(v) ?? String(v);
}

export function parseStatsd(text: string): Metric | string {
  const m = STATSD_LINE.exec(text);
  if (!m) return 'not a JSON object or a StatsD line (name:value|type|#tags)';
  const [, name, valueText, letter, , tags] = m as unknown as [string, string, string, string, string | undefined, string | undefined];
  const value = Number(valueText);
  if (valueText.trim() === '' || !Number.isFinite(value)) return `StatsD value "${valueText}" is not a number`;
  const dims: Record<string, DimValue> = {};
  if (tags !== undefined && tags !== '') {
    for (const tag of tags.split(',')) {
      if (tag === '') continue;
      const colon = tag.indexOf(':');
      const key = colon < 0 ? tag : tag.slice(0, colon);
      const raw = colon < 0 ? '' : tag.slice(colon + 1);
      dims[key] = NUMERIC_DIMS.has(key) && /^(0|-?[1-9]\d{0,14})$/.test(raw) ? Number(raw) : raw;
    }
  }
  const type = STATSD_TYPES[letter] as MetricType;
  const body = { _metric: name, _metric_type: type, _value: value, ...dims };
  return { name, type, value, time: null, dims, json: JSON.stringify({ type: 'metric', body }) };
}

/** A JSON record's metric, or why it is not one; null when it is another kind of record. */
export function metricOf(record: JsonObject, text: string): Metric | string | null {
  if (record['type'] !== 'metric') {
    if (typeof record['type'] === 'string' || 'format' in record) return null;
    return 'not a scope record (no "type" or "format" key)';
  }
  const body = record['body'];
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'metric record without a "body" object';
  const b = body as JsonObject;
  const name = b['_metric'];
  if (typeof name !== 'string' || name === '') return 'metric record: "_metric" is not a name';
  const type = b['_metric_type'];
  if (typeof type !== 'string' || !(METRIC_TYPES as readonly string[]).includes(type)) {
    return `metric record: "_metric_type" is not one of ${METRIC_TYPES.join(', ')}`;
  }
  const value = b['_value'];
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'metric record: "_value" is not a number';
  const time = b['_time'];
  if (time !== undefined && (typeof time !== 'number' || !Number.isFinite(time))) return 'metric record: "_time" is not a number';
  const dims: Record<string, DimValue> = {};
  for (const [k, v] of Object.entries(b)) {
    if (k === '_metric' || k === '_metric_type' || k === '_value' || k === '_time') continue;
    dims[k] = dimValue(v);
  }
  return { name, type: type as MetricType, value, time: typeof time === 'number' ? time : null, dims, json: text };
}

/** Read one line. */
export function parseLine(text: string): Parsed {
  const tooLong = tooLongReason(text);
  if (tooLong !== null) return { kind: 'bad', why: tooLong };
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'skip' };
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    const record = parseRecord(trimmed);
    if (typeof record === 'string') return { kind: 'bad', why: record };
    const metric = metricOf(record, trimmed);
    if (metric === null) return { kind: 'skip' };
    if (typeof metric === 'string') return { kind: 'bad', why: metric };
    return { kind: 'metric', metric };
  }
  const metric = parseStatsd(trimmed);
  if (typeof metric === 'string') {
    // A line that is neither: say what JSON.parse says when it looks more like JSON than StatsD.
    if (!trimmed.includes('|')) {
      const asJson = parseRecord(trimmed);
      if (typeof asJson === 'string') return { kind: 'bad', why: `not a JSON object or a StatsD line: ${asJson}` };
    }
    return { kind: 'bad', why: metric };
  }
  return { kind: 'metric', metric };
}

/** A StatsD tag or name part: the characters that would break the line become `_`. */
const statsdSafe = (s: string) => s.replace(/[,|#\n\r]/g, '_');

/** `name:value|c|#k:v,…` (tags in the record's order). */
export function statsdLine(name: string, type: MetricType, value: number, dims: Record<string, DimValue>): string {
  const tags = Object.entries(dims).map(([k, v]) => `${statsdSafe(k).replace(/:/g, '_')}:${statsdSafe(String(v))}`);
  return `${statsdSafe(name).replace(/:/g, '_')}:${value}|${STATSD_LETTER[type]}${tags.length === 0 ? '' : `|#${tags.join(',')}`}`;
}
