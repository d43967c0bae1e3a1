// Which schema a record belongs to, decided from its shape alone.

/** Every record kind, one per schema in schemas/json/ (defs.json holds shared parts only). */
export const recordKinds = [
  'process-start',
  'event',
  'fs.open',
  'fs.close',
  'fs.delete',
  'fs.rename',
  'fs.mkdir',
  'fs.error',
  'console',
  'file',
  'notice',
  'net.open',
  'net.close',
  'net.app',
  'net.error',
  'dns.req',
  'dns.resp',
  'http.req',
  'http.resp',
  'proc.exit',
  'metric',
  'proc.start',
  'proc.cpu',
  'proc.cpu_perc',
  'proc.mem',
  'proc.thread',
  'proc.fd',
  'proc.child',
  'fs.open-metric',
  'fs.close-metric',
  'fs.read',
  'fs.write',
  'fs.seek',
  'fs.stat',
  'fs.duration',
  'fs.error-metric',
  'net.open-metric',
  'net.close-metric',
  'net.rx',
  'net.tx',
  'net.duration',
  'net.error-metric',
  'net.tcp',
  'net.udp',
  'net.other',
  'net.port',
  'dns.req-metric',
  'http.req-metric',
  'http.duration.client',
  'http.duration.server',
  'http.req.content_length',
  'http.resp.content_length',
  'statsd',
  'snapshot',
  'crash',
] as const;

/**
 * A record kind; also the name of its schema file and of its examples directory. An event kind is named
 * by its source, a metric kind by its `_metric`, with `-metric` appended where an event has that name.
 */
export type RecordKind = (typeof recordKinds)[number];

// Maps, not object literals: a source named "constructor" must not find a prototype key.
const eventKindBySource = new Map<string, RecordKind>([
  ['fs.open', 'fs.open'],
  ['fs.close', 'fs.close'],
  ['fs.delete', 'fs.delete'],
  ['fs.rename', 'fs.rename'],
  ['fs.mkdir', 'fs.mkdir'],
  ['fs.error', 'fs.error'],
  ['stdout', 'console'],
  ['stderr', 'console'],
  ['notice', 'notice'],
  ['net.open', 'net.open'],
  ['net.close', 'net.close'],
  ['net.app', 'net.app'],
  ['net.error', 'net.error'],
  ['dns.req', 'dns.req'],
  ['dns.resp', 'dns.resp'],
  ['http.req', 'http.req'],
  ['http.resp', 'http.resp'],
  ['proc.exit', 'proc.exit'],
]);

const metricKindByName = new Map<string, RecordKind>([
  ['proc.start', 'proc.start'],
  ['proc.cpu', 'proc.cpu'],
  ['proc.cpu_perc', 'proc.cpu_perc'],
  ['proc.mem', 'proc.mem'],
  ['proc.thread', 'proc.thread'],
  ['proc.fd', 'proc.fd'],
  ['proc.child', 'proc.child'],
  ['fs.open', 'fs.open-metric'],
  ['fs.close', 'fs.close-metric'],
  ['fs.read', 'fs.read'],
  ['fs.write', 'fs.write'],
  ['fs.seek', 'fs.seek'],
  ['fs.stat', 'fs.stat'],
  ['fs.duration', 'fs.duration'],
  ['fs.error', 'fs.error-metric'],
  ['net.open', 'net.open-metric'],
  ['net.close', 'net.close-metric'],
  ['net.rx', 'net.rx'],
  ['net.tx', 'net.tx'],
  ['net.duration', 'net.duration'],
  ['net.error', 'net.error-metric'],
  ['net.tcp', 'net.tcp'],
  ['net.udp', 'net.udp'],
  ['net.other', 'net.other'],
  ['net.port', 'net.port'],
  ['dns.req', 'dns.req-metric'],
  ['http.req', 'http.req-metric'],
  ['http.duration.client', 'http.duration.client'],
  ['http.duration.server', 'http.duration.server'],
  ['http.req.content_length', 'http.req.content_length'],
  ['http.resp.content_length', 'http.resp.content_length'],
]);

// Sourcetypes whose events share one schema whatever their source (a file event's source is a path).
const eventKindBySourcetype = new Map<string, RecordKind>([
  ['console', 'console'],
  ['file', 'file'],
]);

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The kind of a record, or null when it is not a scope record at all.
 *
 * - `format` and `info` → `process-start`
 * - `type: "snapshot"` → `snapshot`, `type: "crash"` → `crash` (scope snapshot's records)
 * - `type: "evt"` (or a body with `source`/`sourcetype`) → the schema of `body.source`; for a source
 *   without one, `console` for sourcetype console, `file` for sourcetype file, else the generic `event`
 * - `type: "metric"` (or a body with `_metric`) → `statsd` when `body._source` is `"statsd"` (a metric the
 *   app sent, relayed), else the schema of `body._metric` (`fs.open` → `fs.open-metric`,
 *   `dns.req` → `dns.req-metric`, …), else the generic `metric`
 */
export function recordKind(record: unknown): RecordKind | null {
  if (!isObject(record)) return null;
  if ('format' in record && 'info' in record) return 'process-start';
  if (record['type'] === 'snapshot') return 'snapshot';
  if (record['type'] === 'crash') return 'crash';
  const body = isObject(record['body']) ? record['body'] : undefined;
  const type = record['type'];
  const looksLikeEvent = body !== undefined && ('source' in body || 'sourcetype' in body);
  const looksLikeMetric = body !== undefined && '_metric' in body;
  if (type === 'evt' || (type === undefined && looksLikeEvent)) {
    const source = body?.['source'];
    const bySource = typeof source === 'string' ? eventKindBySource.get(source) : undefined;
    if (bySource !== undefined) return bySource;
    const sourcetype = body?.['sourcetype'];
    return (typeof sourcetype === 'string' ? eventKindBySourcetype.get(sourcetype) : undefined) ?? 'event';
  }
  if (type === 'metric' || (type === undefined && looksLikeMetric)) {
    // A metric the app sent as StatsD (libscope's statsd watch) has the app's name, whatever it is.
    if (body?.['_source'] === 'statsd') return 'statsd';
    const name = body?.['_metric'];
    return (typeof name === 'string' ? metricKindByName.get(name) : undefined) ?? 'metric';
  }
  return null;
}
