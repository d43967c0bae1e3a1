/**
 * scope records → OTLP: events become log records, metrics become OTLP metrics, each under the
 * resource (host, process) that produced them. The mapping decisions are the README's "OTLP mapping".
 */
import type { DimValue, JsonObject, Metric } from '@scope/core';
import { SCOPE_VERSION } from '@scope/core';
import { DELTA } from './otlp-model.js';
import type { AnyValue, HistogramPoint, KeyValue, LogRecord, NumberPoint, OtlpMetric, ResourceLogs, ResourceMetrics, Scope } from './otlp-model.js';

export const INSTRUMENTATION: Scope = { name: 'scope', version: SCOPE_VERSION };

/** SeverityNumber values of the log data model. */
export const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;

/** Epoch seconds (float, µs precision) to nanoseconds; rounding at the microsecond keeps float noise out. */
export function nanos(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e6)) * 1000n;
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON value as an AnyValue; null when there is nothing to say (JSON null). */
export function anyValue(v: unknown): AnyValue | null {
  if (typeof v === 'string') return { string: v };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { int: BigInt(v) } : { double: v };
  if (Array.isArray(v)) return { array: v.map((x) => anyValue(x) ?? { string: 'null' }) };
  if (isObject(v)) return { kvlist: keyValues(v, '') };
  return null;
}

function keyValues(o: JsonObject, prefix: string, skip: ReadonlySet<string> = new Set()): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (skip.has(k)) continue;
    const value = anyValue(v);
    if (value !== null) out.push({ key: prefix + k, value });
  }
  return out;
}

/** Resource attributes of a process, from the values a record carries. */
function resourceOf(host: unknown, pid: unknown, proc: unknown, cmd: unknown, serviceName: string | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  const service = serviceName ?? (typeof proc === 'string' && proc !== '' ? proc : undefined);
  if (service !== undefined) out.push({ key: 'service.name', value: { string: service } });
  if (typeof host === 'string' && host !== '') out.push({ key: 'host.name', value: { string: host } });
  const pidNumber = typeof pid === 'number' ? pid : typeof pid === 'string' && /^\d+$/.test(pid) ? Number(pid) : undefined;
  if (pidNumber !== undefined && Number.isSafeInteger(pidNumber)) out.push({ key: 'process.pid', value: { int: BigInt(pidNumber) } });
  if (typeof proc === 'string' && proc !== '') out.push({ key: 'process.executable.name', value: { string: proc } });
  if (typeof cmd === 'string' && cmd !== '') out.push({ key: 'process.command_line', value: { string: cmd } });
  return out;
}

/** The body keys every event has; others are custom tags. */
const EVENT_KEYS = new Set(['sourcetype', '_time', 'source', 'host', 'proc', 'cmd', 'pid', 'data']);

/** Severity of an event: stderr output is a warning, an HTTP 5xx response an error, 4xx a warning. */
export function severityOf(body: JsonObject): { number: number; text: string } {
  const data = isObject(body['data']) ? body['data'] : {};
  if (body['sourcetype'] === 'console' && body['source'] === 'stderr') return { number: SEVERITY.WARN, text: 'WARN' };
  if (body['sourcetype'] === 'http') {
    const status = Number(data['http_status_code']);
    if (status >= 500) return { number: SEVERITY.ERROR, text: 'ERROR' };
    if (status >= 400) return { number: SEVERITY.WARN, text: 'WARN' };
  }
  return { number: SEVERITY.INFO, text: 'INFO' };
}

/** One event record as a log record. */
export function logRecordOf(record: JsonObject, body: JsonObject, observed: bigint): LogRecord {
  const data = isObject(body['data']) ? body['data'] : {};
  const text = body['sourcetype'] === 'console' || body['sourcetype'] === 'file';
  const message = data['message'];
  const asMessage = text && typeof message === 'string';
  const attributes: KeyValue[] = [];
  const add = (key: string, v: unknown) => {
    const value = anyValue(v);
    if (value !== null) attributes.push({ key, value });
  };
  add('scope.sourcetype', body['sourcetype']);
  add('scope.source', body['source']);
  add('scope.channel', record['_channel']);
  add('scope.id', record['id']);
  attributes.push(...keyValues(data, 'scope.', asMessage ? new Set(['message']) : undefined));
  for (const [k, v] of Object.entries(body)) if (!EVENT_KEYS.has(k)) add(`scope.tag.${k}`, v);
  const time = typeof body['_time'] === 'number' ? nanos(body['_time']) : observed;
  const severity = severityOf(body);
  return {
    timeUnixNano: time,
    observedTimeUnixNano: observed,
    severityNumber: severity.number,
    severityText: severity.text,
    body: asMessage ? { string: message } : { kvlist: keyValues(data, '') },
    attributes,
  };
}

/** Events grouped by the process that wrote them. */
export function logsOf(events: { record: JsonObject; body: JsonObject }[], serviceName: string | undefined, now: bigint): ResourceLogs[] {
  const groups = new Map<string, ResourceLogs>();
  for (const e of events) {
    const b = e.body;
    const key = JSON.stringify([b['host'], b['pid'], b['proc'], b['cmd']]);
    let group = groups.get(key);
    if (!group) {
      group = { resource: resourceOf(b['host'], b['pid'], b['proc'], b['cmd'], serviceName), scope: INSTRUMENTATION, logRecords: [] };
      groups.set(key, group);
    }
    group.logRecords.push(logRecordOf(e.record, b, now));
  }
  return [...groups.values()];
}

/** AppScope's units in UCUM, as OTLP wants them; a count of things is an annotation (`{operation}`). */
const UNITS: Record<string, string> = {
  byte: 'By',
  kibibyte: 'KiBy',
  second: 's',
  millisecond: 'ms',
  microsecond: 'us',
  nanosecond: 'ns',
  percent: '%',
};

export function unitOf(unit: DimValue | undefined): string {
  if (unit === undefined || unit === '') return '';
  const u = String(unit);
  return UNITS[u] ?? `{${u}}`;
}

/** Dimensions that describe the process: they go to the resource, not to each data point. */
const RESOURCE_DIMS = new Set(['host', 'pid', 'proc', 'unit']);

/**
 * Metrics as OTLP. Counters are monotonic Sums with delta temporality (each libscope counter record
 * is the increase over its summary period, not a running total); gauges and sets are Gauges; timers
 * and histograms are Histograms of one observation per record (count 1, sum = min = max = value).
 * A delta point's start time is the time of the series' previous point, or its own time the first
 * time the series is seen; `starts` keeps those across batches.
 */
export class MetricMapper {
  private readonly starts = new Map<string, bigint>();
  /** A record's start time once chosen, so a batch mapped again for a retry keeps it. */
  private readonly chosen = new WeakMap<Metric, bigint>();

  constructor(private readonly serviceName: string | undefined) {}

  map(metrics: Metric[], now: bigint): ResourceMetrics[] {
    const groups = new Map<string, { rm: ResourceMetrics; byName: Map<string, OtlpMetric> }>();
    for (const m of metrics) {
      const d = m.dims;
      const rkey = JSON.stringify([d['host'], d['pid'], d['proc']]);
      let group = groups.get(rkey);
      if (!group) {
        group = { rm: { resource: resourceOf(d['host'], d['pid'], d['proc'], undefined, this.serviceName), scope: INSTRUMENTATION, metrics: [] }, byName: new Map() };
        groups.set(rkey, group);
      }
      const attributes: KeyValue[] = [];
      for (const [k, v] of Object.entries(d)) {
        // numops and max describe the value (the calls a summary stands for, the longest), not its series.
        if (!RESOURCE_DIMS.has(k) && k !== 'numops' && k !== 'max')
          attributes.push({ key: k, value: typeof v === 'number' && Number.isSafeInteger(v) ? { int: BigInt(v) } : typeof v === 'number' ? { double: v } : { string: v } });
      }
      const time = m.time === null ? now : nanos(m.time);
      const mkey = `${m.name}\u0000${m.type === 'set' ? 'gauge' : m.type === 'histogram' ? 'timer' : m.type}`;
      let metric = group.byName.get(mkey);
      if (!metric) {
        const unit = unitOf(d['unit']);
        const data = m.type === 'counter' ? { sum: [], temporality: DELTA, monotonic: true } : m.type === 'timer' || m.type === 'histogram' ? { histogram: [], temporality: DELTA } : { gauge: [] };
        metric = { name: m.name, description: '', unit, data };
        group.byName.set(mkey, metric);
        group.rm.metrics.push(metric);
      }
      const series = `${rkey}\u0000${mkey}\u0000${JSON.stringify(attributes.map((a) => [a.key, String(Object.values(a.value)[0])]))}`;
      const data = metric.data;
      if ('gauge' in data) {
        data.gauge.push({ attributes, startTimeUnixNano: 0n, timeUnixNano: time, value: numberValue(m.value) });
        continue;
      }
      let start = this.chosen.get(m);
      if (start === undefined) {
        const prev = this.starts.get(series);
        start = prev !== undefined && prev < time ? prev : time;
        this.starts.set(series, time);
        this.chosen.set(m, start);
      }
      if ('sum' in data) {
        const point: NumberPoint = { attributes, startTimeUnixNano: start, timeUnixNano: time, value: numberValue(m.value) };
        data.sum.push(point);
      } else {
        // A summary of n calls (fs.duration: their mean, and the longest as max) is n observations.
        const n = typeof d['numops'] === 'number' && Number.isSafeInteger(d['numops']) && d['numops'] > 0 ? d['numops'] : 1;
        const max = typeof d['max'] === 'number' ? Math.max(d['max'], m.value) : m.value;
        const point: HistogramPoint =
          n === 1
            ? { attributes, startTimeUnixNano: start, timeUnixNano: time, count: 1n, sum: m.value, min: m.value, max: m.value }
            : { attributes, startTimeUnixNano: start, timeUnixNano: time, count: BigInt(n), sum: m.value * n, max };
        data.histogram.push(point);
      }
    }
    return [...groups.values()].map((g) => g.rm);
  }
}

function numberValue(v: number): NumberPoint['value'] {
  return Number.isSafeInteger(v) ? { int: BigInt(v) } : { double: v };
}
