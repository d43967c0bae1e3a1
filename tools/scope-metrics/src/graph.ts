/**
 * An ASCII line chart of one metric over time. The values of all tag sets are summed per timestamp
 * (so proc.cpu of three processes reported at one instant is one point). 10 rows high; as wide as
 * asked (the terminal's columns, else 80). The Y axis is labelled with the minimum (bottom row) and
 * the maximum (top row; when all values are equal they sit on the bottom row and only it is
 * labelled); the X axis runs from the first sample's time (left) to the last's (right), linear in
 * time. Each sample is a `*`; the line between samples, interpolated linearly per column, is `.`, with
 * `.` filling a column's vertical steps so the line stays connected.
 *
 * StatsD lines carry no time: when any sample lacks one, every record is its own sample, in input
 * order, and the X axis is the sample number (#1 … #N).
 */
import { fmtNum, fmtTime } from './table.js';
import type { Metric } from '@scope/core';

export const GRAPH_HEIGHT = 10;

export interface Point {
  x: number;
  value: number;
}

export class Series {
  private readonly byTime = new Map<number, number>();
  private readonly inOrder: number[] = [];
  private readonly tagSets = new Set<string>();
  private timeless = false;
  type: Metric['type'] | null = null;
  unit: string | null = null;

  add(m: Metric, tagKey: string): void {
    this.type ??= m.type;
    if (this.unit === null && m.dims['unit'] !== undefined) this.unit = String(m.dims['unit']);
    this.tagSets.add(tagKey);
    this.inOrder.push(m.value);
    if (m.time === null) this.timeless = true;
    else this.byTime.set(m.time, (this.byTime.get(m.time) ?? 0) + m.value);
  }

  /** True when X is the sample number, not the time. */
  get indexed(): boolean {
    return this.timeless;
  }

  /** The points, by X. */
  points(): Point[] {
    if (this.timeless) return this.inOrder.map((value, i) => ({ x: i + 1, value }));
    return [...this.byTime.entries()].sort((a, b) => a[0] - b[0]).map(([x, value]) => ({ x, value }));
  }

  get seriesCount(): number {
    return this.tagSets.size;
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The chart's lines (no trailing spaces). */
export function renderGraph(name: string, series: Series, width: number): string[] {
  const pts = series.points();
  const xLabel = (x: number) => (series.indexed ? `#${x}` : fmtTime(x, 3));
  const what = [series.type, series.unit].filter((s) => s !== null).join(', ');
  const title = `${name}${what === '' ? '' : ` (${what})`}: ${plural(pts.length, 'sample', 'samples')}, sum of ${plural(series.seriesCount, 'series', 'series')}`;
  const values = pts.map((p) => p.value);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const top = fmtNum(hi);
  const bottom = fmtNum(lo);
  const labelW = Math.max(top.length, bottom.length);
  const plotW = Math.max(10, width - labelW - 2);
  const H = GRAPH_HEIGHT;
  const x0 = (pts[0] as Point).x;
  const x1 = (pts[pts.length - 1] as Point).x;
  const span = x1 - x0;
  const col = (x: number) => (span === 0 ? 0 : Math.round(((x - x0) / span) * (plotW - 1)));
  const row = (v: number) => (hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (H - 1)));
  /** The value of the line at a column: linear between the samples around it. */
  const at = (c: number): number => {
    const x = x0 + (span * c) / (plotW - 1);
    let i = 0;
    while (i < pts.length - 2 && (pts[i + 1] as Point).x < x) i++;
    const a = pts[i] as Point;
    const b = pts[Math.min(i + 1, pts.length - 1)] as Point;
    if (b.x === a.x) return b.value;
    return a.value + ((b.value - a.value) * (x - a.x)) / (b.x - a.x);
  };

  const grid: string[][] = Array.from({ length: H }, () => Array.from({ length: plotW }, () => ' '));
  const byCol = new Map<number, number[]>();
  for (const p of pts) {
    const c = col(p.x);
    byCol.set(c, [...(byCol.get(c) ?? []), row(p.value)]);
  }
  const lastCol = span === 0 ? 0 : plotW - 1;
  let prev: number | null = null;
  for (let c = 0; c <= lastCol; c++) {
    const samples = byCol.get(c);
    const rows = samples ?? [row(at(c))];
    let low = Math.min(...rows);
    let high = Math.max(...rows);
    const first = rows[0] as number;
    if (prev !== null) {
      if (prev < first) low = Math.min(low, prev + 1);
      if (prev > first) high = Math.max(high, prev - 1);
    }
    for (let r = low; r <= high; r++) (grid[r] as string[])[c] = '.';
    if (samples) for (const r of samples) (grid[r] as string[])[c] = '*';
    prev = rows[rows.length - 1] as number;
  }

  const out = [title];
  for (let r = H - 1; r >= 0; r--) {
    const label = r === 0 ? bottom : r === H - 1 && hi !== lo ? top : '';
    out.push(`${label.padStart(labelW)} |${(grid[r] as string[]).join('')}`.trimEnd());
  }
  out.push(`${' '.repeat(labelW)} +${'-'.repeat(plotW)}`);
  const left = xLabel(x0);
  const right = xLabel(x1);
  const indent = ' '.repeat(labelW + 2);
  if (span === 0 || left.length + right.length + 1 > plotW) out.push(`${indent}${left}`);
  else out.push(`${indent}${left}${' '.repeat(plotW - left.length - right.length)}${right}`);
  return out;
}
