/**
 * The OTLP messages scope-export sends (ExportLogsServiceRequest, ExportMetricsServiceRequest; only
 * the fields it fills) and their two encodings: protobuf with the field numbers of
 * opentelemetry-proto (common/v1, resource/v1, logs/v1, metrics/v1, collector/*), and OTLP/JSON
 * (lowerCamelCase keys, 64-bit integers as decimal strings, enums as numbers, empty fields left out).
 */
import { ProtoWriter } from './protobuf.js';

export type AnyValue = { string: string } | { bool: boolean } | { int: bigint } | { double: number } | { array: AnyValue[] } | { kvlist: KeyValue[] };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface Scope {
  name: string;
  version: string;
}

export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
}

export interface ResourceLogs {
  resource: KeyValue[];
  scope: Scope;
  logRecords: LogRecord[];
}

export interface NumberPoint {
  attributes: KeyValue[];
  /** 0: none (gauges). */
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  value: { int: bigint } | { double: number };
}

export interface HistogramPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: bigint;
  sum: number;
  /** Absent when the point stands for several calls whose smallest is not known (a summary's mean). */
  min?: number;
  max: number;
}

/** AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA */
export const DELTA = 1;

export type MetricData = { gauge: NumberPoint[] } | { sum: NumberPoint[]; temporality: number; monotonic: boolean } | { histogram: HistogramPoint[]; temporality: number };

export interface OtlpMetric {
  name: string;
  description: string;
  unit: string;
  data: MetricData;
}

export interface ResourceMetrics {
  resource: KeyValue[];
  scope: Scope;
  metrics: OtlpMetric[];
}

// ---- protobuf ----

function anyValuePb(v: AnyValue): ProtoWriter {
  const w = new ProtoWriter();
  if ('string' in v) w.string(1, v.string);
  else if ('bool' in v) w.varint(2, v.bool);
  else if ('int' in v) w.varint(3, v.int);
  else if ('double' in v) w.double(4, v.double);
  else if ('array' in v) {
    const a = new ProtoWriter();
    for (const x of v.array) a.message(1, anyValuePb(x));
    w.message(5, a);
  } else {
    const l = new ProtoWriter();
    for (const kv of v.kvlist) l.message(1, keyValuePb(kv));
    w.message(6, l);
  }
  return w;
}

function keyValuePb(kv: KeyValue): ProtoWriter {
  return new ProtoWriter().string(1, kv.key).message(2, anyValuePb(kv.value));
}

function resourcePb(attributes: KeyValue[]): ProtoWriter {
  const w = new ProtoWriter();
  for (const kv of attributes) w.message(1, keyValuePb(kv));
  return w;
}

function scopePb(s: Scope): ProtoWriter {
  return new ProtoWriter().string(1, s.name).string(2, s.version);
}

function logRecordPb(r: LogRecord): ProtoWriter {
  const w = new ProtoWriter().fixed64(1, r.timeUnixNano);
  if (r.severityNumber !== 0) w.varint(2, r.severityNumber);
  if (r.severityText !== '') w.string(3, r.severityText);
  w.message(5, anyValuePb(r.body));
  for (const kv of r.attributes) w.message(6, keyValuePb(kv));
  return w.fixed64(11, r.observedTimeUnixNano);
}

/** ExportLogsServiceRequest as protobuf. */
export function logsRequestPb(resources: ResourceLogs[]): Uint8Array {
  const req = new ProtoWriter();
  for (const rl of resources) {
    const scopeLogs = new ProtoWriter().message(1, scopePb(rl.scope));
    for (const r of rl.logRecords) scopeLogs.message(2, logRecordPb(r));
    req.message(1, new ProtoWriter().message(1, resourcePb(rl.resource)).message(2, scopeLogs));
  }
  return req.finish();
}

function numberPointPb(p: NumberPoint): ProtoWriter {
  const w = new ProtoWriter();
  if (p.startTimeUnixNano !== 0n) w.fixed64(2, p.startTimeUnixNano);
  w.fixed64(3, p.timeUnixNano);
  if ('int' in p.value) w.fixed64(6, p.value.int);
  else w.double(4, p.value.double);
  for (const kv of p.attributes) w.message(7, keyValuePb(kv));
  return w;
}

function histogramPointPb(p: HistogramPoint): ProtoWriter {
  // No explicit bounds: one bucket holding every observation, as the data model allows.
  const w = new ProtoWriter().fixed64(2, p.startTimeUnixNano).fixed64(3, p.timeUnixNano).fixed64(4, p.count).double(5, p.sum);
  w.packedFixed64(6, [p.count]);
  for (const kv of p.attributes) w.message(9, keyValuePb(kv));
  if (p.min !== undefined) w.double(11, p.min);
  return w.double(12, p.max);
}

function metricPb(m: OtlpMetric): ProtoWriter {
  const w = new ProtoWriter().string(1, m.name);
  if (m.description !== '') w.string(2, m.description);
  if (m.unit !== '') w.string(3, m.unit);
  const d = m.data;
  if ('gauge' in d) {
    const g = new ProtoWriter();
    for (const p of d.gauge) g.message(1, numberPointPb(p));
    w.message(5, g);
  } else if ('sum' in d) {
    const s = new ProtoWriter();
    for (const p of d.sum) s.message(1, numberPointPb(p));
    s.varint(2, d.temporality).varint(3, d.monotonic);
    w.message(7, s);
  } else {
    const h = new ProtoWriter();
    for (const p of d.histogram) h.message(1, histogramPointPb(p));
    h.varint(2, d.temporality);
    w.message(9, h);
  }
  return w;
}

/** ExportMetricsServiceRequest as protobuf. */
export function metricsRequestPb(resources: ResourceMetrics[]): Uint8Array {
  const req = new ProtoWriter();
  for (const rm of resources) {
    const scopeMetrics = new ProtoWriter().message(1, scopePb(rm.scope));
    for (const m of rm.metrics) scopeMetrics.message(2, metricPb(m));
    req.message(1, new ProtoWriter().message(1, resourcePb(rm.resource)).message(2, scopeMetrics));
  }
  return req.finish();
}

// ---- OTLP/JSON ----

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function anyValueJson(v: AnyValue): Json {
  if ('string' in v) return { stringValue: v.string };
  if ('bool' in v) return { boolValue: v.bool };
  if ('int' in v) return { intValue: v.int.toString() };
  if ('double' in v) return { doubleValue: jsonDouble(v.double) };
  if ('array' in v) return { arrayValue: { values: v.array.map(anyValueJson) } };
  return { kvlistValue: { values: v.kvlist.map(keyValueJson) } };
}

/** Non-finite doubles are strings in the protobuf JSON mapping. */
function jsonDouble(n: number): Json {
  if (Number.isFinite(n)) return n;
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

function keyValueJson(kv: KeyValue): Json {
  return { key: kv.key, value: anyValueJson(kv.value) };
}

function withAttributes(o: { [key: string]: Json }, attributes: KeyValue[]): { [key: string]: Json } {
  if (attributes.length > 0) o['attributes'] = attributes.map(keyValueJson);
  return o;
}

/** ExportLogsServiceRequest as OTLP/JSON text. */
export function logsRequestJson(resources: ResourceLogs[]): string {
  const resourceLogs: Json[] = resources.map((rl) => ({
    resource: withAttributes({}, rl.resource),
    scopeLogs: [
      {
        scope: { name: rl.scope.name, version: rl.scope.version },
        logRecords: rl.logRecords.map((r) => {
          const o: { [key: string]: Json } = { timeUnixNano: r.timeUnixNano.toString(), observedTimeUnixNano: r.observedTimeUnixNano.toString() };
          if (r.severityNumber !== 0) o['severityNumber'] = r.severityNumber;
          if (r.severityText !== '') o['severityText'] = r.severityText;
          o['body'] = anyValueJson(r.body);
          return withAttributes(o, r.attributes);
        }),
      },
    ],
  }));
  return JSON.stringify({ resourceLogs });
}

function numberPointJson(p: NumberPoint): Json {
  const o: { [key: string]: Json } = {};
  if (p.startTimeUnixNano !== 0n) o['startTimeUnixNano'] = p.startTimeUnixNano.toString();
  o['timeUnixNano'] = p.timeUnixNano.toString();
  if ('int' in p.value) o['asInt'] = p.value.int.toString();
  else o['asDouble'] = jsonDouble(p.value.double);
  return withAttributes(o, p.attributes);
}

function histogramPointJson(p: HistogramPoint): Json {
  const o: { [key: string]: Json } = {
    startTimeUnixNano: p.startTimeUnixNano.toString(),
    timeUnixNano: p.timeUnixNano.toString(),
    count: p.count.toString(),
    sum: jsonDouble(p.sum),
    bucketCounts: [p.count.toString()],
    ...(p.min !== undefined ? { min: jsonDouble(p.min) } : {}),
    max: jsonDouble(p.max),
  };
  return withAttributes(o, p.attributes);
}

function metricJson(m: OtlpMetric): Json {
  const o: { [key: string]: Json } = { name: m.name };
  if (m.description !== '') o['description'] = m.description;
  if (m.unit !== '') o['unit'] = m.unit;
  const d = m.data;
  if ('gauge' in d) o['gauge'] = { dataPoints: d.gauge.map(numberPointJson) };
  else if ('sum' in d) o['sum'] = { dataPoints: d.sum.map(numberPointJson), aggregationTemporality: d.temporality, isMonotonic: d.monotonic };
  else o['histogram'] = { dataPoints: d.histogram.map(histogramPointJson), aggregationTemporality: d.temporality };
  return o;
}

/** ExportMetricsServiceRequest as OTLP/JSON text. */
export function metricsRequestJson(resources: ResourceMetrics[]): string {
  const resourceMetrics: Json[] = resources.map((rm) => ({
    resource: withAttributes({}, rm.resource),
    scopeMetrics: [{ scope: { name: rm.scope.name, version: rm.scope.version }, metrics: rm.metrics.map(metricJson) }],
  }));
  return JSON.stringify({ resourceMetrics });
}
