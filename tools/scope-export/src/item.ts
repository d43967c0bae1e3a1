/**
 * One input line as the destinations see it: an event, a metric (from an NDJSON metric record or a
 * StatsD line), a process-start record, or another scope record passed along as it is; or why the
 * line is bad.
 */
import { metricOf, parseLine, parseRecord } from '@scope/core';
import type { JsonObject, Metric } from '@scope/core';

export type Item =
  | { kind: 'event'; line: string; record: JsonObject; body: JsonObject }
  | { kind: 'metric'; line: string; metric: Metric }
  | { kind: 'start'; line: string; record: JsonObject }
  | { kind: 'other'; line: string; record: JsonObject };

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A line to an item; null for a blank line; a string saying why for a bad one. */
export function readItem(text: string): Item | string | null {
  const line = text.trim();
  if (line === '') return null;
  if (!line.startsWith('{')) {
    // Not an object: a StatsD line, or junk that parseLine explains.
    const parsed = parseLine(line);
    if (parsed.kind === 'metric') return { kind: 'metric', line: parsed.metric.json, metric: parsed.metric };
    return parsed.kind === 'bad' ? parsed.why : 'not a scope record';
  }
  const record = parseRecord(line);
  if (typeof record === 'string') return record;
  if (record['type'] === 'evt') {
    const body = record['body'];
    if (!isObject(body)) return 'event record without a "body" object';
    return { kind: 'event', line, record, body };
  }
  const metric = metricOf(record, line);
  if (typeof metric === 'string') return metric;
  if (metric !== null) return { kind: 'metric', line, metric };
  if (record['format'] === 'ndjson' && isObject(record['info'])) return { kind: 'start', line, record };
  return { kind: 'other', line, record };
}

/** The host a record came from, for NATS subjects ('' when it names none). */
export function hostOf(item: Item): string {
  if (item.kind === 'event') return typeof item.body['host'] === 'string' ? item.body['host'] : '';
  if (item.kind === 'metric') {
    const h = item.metric.dims['host'];
    return h === undefined ? '' : String(h);
  }
  const info = item.record['info'];
  const proc = isObject(info) && isObject(info['process']) ? info['process'] : null;
  if (proc && typeof proc['hostname'] === 'string') return proc['hostname'];
  const body = item.record['body'];
  return isObject(body) && typeof body['host'] === 'string' ? body['host'] : '';
}
