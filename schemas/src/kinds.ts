// Which schema a record belongs to, decided from its shape alone.

/** Every record kind, one per schema in schemas/json/ (defs.json holds shared parts only). */
export const recordKinds = [
  'process-start',
  'event',
  'fs.open',
  'fs.close',
  'console',
  'notice',
  'metric',
  'proc.start',
  'proc.cpu',
  'proc.mem',
  'proc.thread',
  'proc.fd',
] as const;

/** A record kind; also the name of its schema file and of its examples directory. */
export type RecordKind = (typeof recordKinds)[number];

// Maps, not object literals: a source named "constructor" must not find a prototype key.
const eventKindBySource = new Map<string, RecordKind>([
  ['fs.open', 'fs.open'],
  ['fs.close', 'fs.close'],
  ['stdout', 'console'],
  ['stderr', 'console'],
  ['notice', 'notice'],
]);

const metricKindByName = new Map<string, RecordKind>([
  ['proc.start', 'proc.start'],
  ['proc.cpu', 'proc.cpu'],
  ['proc.mem', 'proc.mem'],
  ['proc.thread', 'proc.thread'],
  ['proc.fd', 'proc.fd'],
]);

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The kind of a record, or null when it is not a scope record at all.
 *
 * - `format` and `info` → `process-start`
 * - `type: "evt"` (or a body with `source`/`sourcetype`) → the schema of `body.source`, `console` for any
 *   source of sourcetype console, else the generic `event` envelope
 * - `type: "metric"` (or a body with `_metric`) → `proc.*` by `body._metric`, else the generic `metric`
 */
export function recordKind(record: unknown): RecordKind | null {
  if (!isObject(record)) return null;
  if ('format' in record && 'info' in record) return 'process-start';
  const body = isObject(record['body']) ? record['body'] : undefined;
  const type = record['type'];
  const looksLikeEvent = body !== undefined && ('source' in body || 'sourcetype' in body);
  const looksLikeMetric = body !== undefined && '_metric' in body;
  if (type === 'evt' || (type === undefined && looksLikeEvent)) {
    const source = body?.['source'];
    const bySource = typeof source === 'string' ? eventKindBySource.get(source) : undefined;
    if (bySource !== undefined) return bySource;
    return body?.['sourcetype'] === 'console' ? 'console' : 'event';
  }
  if (type === 'metric' || (type === undefined && looksLikeMetric)) {
    const name = body?.['_metric'];
    return (typeof name === 'string' ? metricKindByName.get(name) : undefined) ?? 'metric';
  }
  return null;
}
