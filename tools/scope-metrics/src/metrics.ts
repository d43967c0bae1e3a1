/**
 * scope-metrics' logic: lines in (NDJSON records or StatsD lines), metrics selected by name, then one
 * view (raw rows, --uniq, --aggregate, --cols, --graph) written in one format (table, json, statsd,
 * prometheus). Only metrics come out: events and process-start records are skipped in every format.
 */
import { formatBadLine, parseLine, printable, PrometheusWriter, statsdLine } from '@scope/core';
import type { DimValue, Metric, MetricType } from '@scope/core';
import { Aggregator, aggregateRecord, aggregateValue, compareSeries, hasSpread, seriesKey } from './aggregate.js';
import { renderGraph, Series } from './graph.js';
import type { Line } from './input.js';
import { fmtNum, fmtTags, fmtTime, renderTable, StreamTable } from './table.js';
import type { Column } from './table.js';

export type View = 'raw' | 'uniq' | 'aggregate' | 'cols' | 'graph';
export type Format = 'table' | 'json' | 'statsd' | 'prometheus';
export const FORMATS: readonly Format[] = ['table', 'json', 'statsd', 'prometheus'];

export interface MetricsOptions {
  /** For messages: `scope-metrics`. */
  tool: string;
  /** --metric: names, or prefixes ending in `*`; undefined for all. */
  names?: string[] | undefined;
  view: View;
  format: Format;
  /** ANSI colour in tables. */
  color: boolean;
  /** Chart width in columns. */
  width: number;
  /** Rows are written as they come (raw view, --follow): fixed column widths. */
  stream: boolean;
  strict: boolean;
  /** Prometheus: keep pid as a label. */
  pidLabel?: boolean;
  warn: (message: string) => void;
  write: (line: string) => Promise<void>;
}

export interface MetricsResult {
  bad: number;
  /** Metrics selected. */
  metrics: number;
}

/** A predicate for --metric: exact names, and prefixes written with a trailing `*`. */
export function nameMatcher(names: string[] | undefined): (name: string) => boolean {
  if (names === undefined) return () => true;
  const exact = new Set(names.filter((n) => !n.endsWith('*')));
  const prefixes = names.filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

/** Shown in their own columns, so not in TAGS. */
const OWN_COLUMNS: ReadonlySet<string> = new Set(['unit', 'pid']);

const dimText = (v: DimValue | undefined) => (v === undefined ? '-' : String(v));

const RAW_COLUMNS: Column[] = [
  { title: 'NAME', width: 22 },
  { title: 'VALUE', right: true, width: 10 },
  { title: 'TYPE', width: 9 },
  { title: 'UNIT', width: 11 },
  { title: 'PID', right: true, width: 7 },
  { title: 'TAGS', faint: true },
];

const AGG_COLUMNS: Column[] = [
  { title: 'NAME' },
  { title: 'VALUE', right: true },
  { title: 'TYPE' },
  { title: 'UNIT' },
  { title: 'PID', right: true },
  { title: 'COUNT', right: true },
  { title: 'MIN', right: true },
  { title: 'AVG', right: true },
  { title: 'MAX', right: true },
  { title: 'TAGS', faint: true },
];

function rawRow(m: { name: string; type: MetricType; value: number; dims: Record<string, DimValue> }): string[] {
  return [m.name, fmtNum(m.value), m.type, dimText(m.dims['unit']), dimText(m.dims['pid']), fmtTags(m.dims, OWN_COLUMNS)];
}

/** Read every line, hand each selected metric to `take`; returns the bad line count (stops at the first with strict). */
async function readMetrics(lines: AsyncIterable<Line>, o: MetricsOptions, take: (m: Metric) => Promise<void> | void): Promise<MetricsResult> {
  const wanted = nameMatcher(o.names);
  let bad = 0;
  let metrics = 0;
  for await (const line of lines) {
    const parsed = parseLine(line.text);
    if (parsed.kind === 'skip') continue;
    if (parsed.kind === 'bad') {
      bad++;
      o.warn(formatBadLine(o.tool, { source: line.where, line: line.line, reason: parsed.why, text: line.text.slice(0, 120) }));
      if (o.strict) break;
      continue;
    }
    if (!wanted(parsed.metric.name)) continue;
    metrics++;
    await take(parsed.metric);
  }
  return { bad, metrics };
}

export async function runMetrics(lines: AsyncIterable<Line>, o: MetricsOptions): Promise<MetricsResult> {
  switch (o.view) {
    case 'raw':
      return raw(lines, o);
    case 'uniq':
      return uniq(lines, o);
    case 'aggregate':
      return aggregate(lines, o);
    case 'cols':
      return cols(lines, o);
    case 'graph':
      return graph(lines, o);
  }
}

async function raw(lines: AsyncIterable<Line>, o: MetricsOptions): Promise<MetricsResult> {
  if (o.format === 'prometheus') return prometheus(lines, o);
  if (o.format === 'json') return readMetrics(lines, o, (m) => o.write(m.json));
  if (o.format === 'statsd') return readMetrics(lines, o, (m) => o.write(statsdLine(m.name, m.type, m.value, m.dims)));
  if (o.stream) {
    const table = new StreamTable(RAW_COLUMNS, o.color);
    await o.write(table.header());
    return readMetrics(lines, o, (m) => o.write(table.row(rawRow(m))));
  }
  const rows: string[][] = [];
  const result = await readMetrics(lines, o, (m) => void rows.push(rawRow(m)));
  for (const l of renderTable(RAW_COLUMNS, rows, o.color)) await o.write(l);
  return result;
}

async function prometheus(lines: AsyncIterable<Line>, o: MetricsOptions): Promise<MetricsResult> {
  const prom = new PrometheusWriter(o.warn, { pidLabel: o.pidLabel === true });
  const result = await readMetrics(lines, o, (m) => prom.add(m));
  for (const l of prom.lines()) await o.write(l);
  return result;
}

async function uniq(lines: AsyncIterable<Line>, o: MetricsOptions): Promise<MetricsResult> {
  const last = new Map<string, Metric>();
  const result = await readMetrics(lines, o, (m) => {
    const key = seriesKey(m);
    last.delete(key);
    last.set(key, m);
  });
  const kept = [...last.values()].sort(compareSeries);
  if (o.format === 'json') for (const m of kept) await o.write(m.json);
  else if (o.format === 'statsd') for (const m of kept) await o.write(statsdLine(m.name, m.type, m.value, m.dims));
  else for (const l of renderTable(RAW_COLUMNS, kept.map(rawRow), o.color)) await o.write(l);
  return result;
}

async function aggregate(lines: AsyncIterable<Line>, o: MetricsOptions): Promise<MetricsResult> {
  if (o.format === 'prometheus') return prometheus(lines, o);
  const agg = new Aggregator();
  const result = await readMetrics(lines, o, (m) => agg.add(m));
  const all = agg.all();
  if (o.format === 'json') {
    for (const a of all) await o.write(JSON.stringify(aggregateRecord(a)));
  } else if (o.format === 'statsd') {
    // One line per set: timers and histograms as their average, the rest as aggregateValue.
    for (const a of all) {
      const value = a.type === 'timer' || a.type === 'histogram' ? a.sum / a.count : aggregateValue(a);
      await o.write(statsdLine(a.name, a.type, value, a.dims));
    }
  } else {
    const rows = all.map((a) => {
      const spread = hasSpread(a.type);
      return [
        a.name,
        fmtNum(aggregateValue(a)),
        a.type,
        dimText(a.dims['unit']),
        dimText(a.dims['pid']),
        String(a.count),
        spread ? fmtNum(a.min) : '-',
        spread ? fmtNum(a.sum / a.count) : '-',
        spread ? fmtNum(a.max) : '-',
        fmtTags(a.dims, OWN_COLUMNS),
      ];
    });
    for (const l of renderTable(AGG_COLUMNS, rows, o.color)) await o.write(l);
  }
  return result;
}

/** --cols: one row per timestamp, one column per metric name (sorted), the values of all tag sets summed. */
async function cols(lines: AsyncIterable<Line>, o: MetricsOptions): Promise<MetricsResult> {
  const rows = new Map<number | null, Map<string, number>>();
  const names = new Set<string>();
  const result = await readMetrics(lines, o, (m) => {
    names.add(m.name);
    let row = rows.get(m.time);
    if (!row) rows.set(m.time, (row = new Map()));
    row.set(m.name, (row.get(m.name) ?? 0) + m.value);
  });
  const sortedNames = [...names].sort();
  // Timed rows by time, then the row of the records without a time (StatsD lines).
  const times = [...rows.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
  if (o.format === 'json') {
    for (const t of times) {
      const row = rows.get(t) as Map<string, number>;
      const rec: Record<string, number> = t === null ? {} : { _time: t };
      for (const n of sortedNames) if (row.has(n)) rec[n] = row.get(n) as number;
      await o.write(JSON.stringify(rec));
    }
    return result;
  }
  const columns: Column[] = [{ title: 'TIME' }, ...sortedNames.map((n) => ({ title: n, right: true }))];
  const table = times.map((t) => {
    const row = rows.get(t) as Map<string, number>;
    return [t === null ? '-' : fmtTime(t), ...sortedNames.map((n) => (row.has(n) ? fmtNum(row.get(n) as number) : '-'))];
  });
  for (const l of renderTable(columns, table, o.color)) await o.write(l);
  return result;
}

/** --graph: the chart of one metric (json: the summed series as metric records). */
async function graph(lines: AsyncIterable<Line>, o: MetricsOptions): Promise<MetricsResult> {
  const name = (o.names as string[])[0] as string;
  const series = new Series();
  const result = await readMetrics(lines, o, (m) => series.add(m, seriesKey(m)));
  if (result.metrics === 0) {
    o.warn(`${o.tool}: no samples of ${name}`);
    return { ...result, metrics: 0 };
  }
  if (o.format === 'json') {
    const unit = series.unit;
    for (const p of series.points()) {
      const body: Record<string, unknown> = { _metric: name, _metric_type: series.type, _value: p.value };
      if (unit !== null) body['unit'] = unit;
      if (!series.indexed) body['_time'] = p.x;
      await o.write(JSON.stringify({ type: 'metric', body }));
    }
    return result;
  }
  for (const l of renderGraph(printable(name), series, o.width)) await o.write(l);
  return result;
}
