/**
 * Aggregation over the whole input, one entry per metric name + type + tag set (all dimensions):
 * counters summed, gauges the last value, timers and histograms count/min/avg/max (and their sum),
 * sets the number of distinct values. Gauges keep min/avg/max too (peak memory is worth seeing).
 */
import type { DimValue, Metric, MetricType } from '@scope/core';

export interface Aggregate {
  name: string;
  type: MetricType;
  /** The dimensions of the first record of the set, in its order. */
  dims: Record<string, DimValue>;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  /** The latest `_time` seen; null when no record had one. */
  time: number | null;
  distinct: Set<number>;
}

/** The tag set of a metric: its dimensions sorted by key. */
export function sortedDims(dims: Record<string, DimValue>): [string, DimValue][] {
  return Object.keys(dims)
    .sort()
    .map((k) => [k, dims[k] as DimValue]);
}

/** Identity of a metric series: name, type and every dimension. */
export function seriesKey(m: { name: string; type: string; dims: Record<string, DimValue> }): string {
  return JSON.stringify([m.name, m.type, sortedDims(m.dims)]);
}

function compareValue(a: DimValue | undefined, b: DimValue | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Order for uniq and aggregated rows: name, then type, then the sorted dimensions (numbers as numbers). */
export function compareSeries(a: { name: string; type: string; dims: Record<string, DimValue> }, b: { name: string; type: string; dims: Record<string, DimValue> }): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  const da = sortedDims(a.dims);
  const db = sortedDims(b.dims);
  for (let i = 0; i < Math.max(da.length, db.length); i++) {
    const [ka, va] = da[i] ?? [];
    const [kb, vb] = db[i] ?? [];
    if (ka !== kb) return ka === undefined ? -1 : kb === undefined ? 1 : ka < kb ? -1 : 1;
    const c = compareValue(va, vb);
    if (c !== 0) return c;
  }
  return 0;
}

export class Aggregator {
  private readonly byKey = new Map<string, Aggregate>();

  add(m: Metric): void {
    const key = seriesKey(m);
    let a = this.byKey.get(key);
    if (!a) {
      a = { name: m.name, type: m.type, dims: m.dims, count: 0, sum: 0, min: m.value, max: m.value, last: m.value, time: null, distinct: new Set() };
      this.byKey.set(key, a);
    }
    a.count++;
    a.sum += m.value;
    a.min = Math.min(a.min, m.value);
    a.max = Math.max(a.max, m.value);
    a.last = m.value;
    if (m.type === 'set') a.distinct.add(m.value);
    if (m.time !== null) a.time = a.time === null ? m.time : Math.max(a.time, m.time);
  }

  /** Every aggregate, in compareSeries order. */
  all(): Aggregate[] {
    return [...this.byKey.values()].sort(compareSeries);
  }
}

/** The one value that stands for an aggregate: sum (counters, timers, histograms), last (gauges), distinct count (sets). */
export function aggregateValue(a: Aggregate): number {
  switch (a.type) {
    case 'gauge':
      return a.last;
    case 'set':
      return a.distinct.size;
    default:
      return a.sum;
  }
}

/** Whether min/avg/max mean something for this type. */
export function hasSpread(type: MetricType): boolean {
  return type === 'timer' || type === 'histogram' || type === 'gauge';
}

/** The aggregate as a metric record: `_value` as aggregateValue, plus `_count` and, where they mean something, `_min`, `_avg`, `_max`. */
export function aggregateRecord(a: Aggregate): Record<string, unknown> {
  const body: Record<string, unknown> = { _metric: a.name, _metric_type: a.type, _value: aggregateValue(a), ...a.dims, _count: a.count };
  if (hasSpread(a.type)) {
    body['_min'] = a.min;
    body['_avg'] = a.sum / a.count;
    body['_max'] = a.max;
  }
  if (a.time !== null) body['_time'] = a.time;
  return { type: 'metric', body };
}
