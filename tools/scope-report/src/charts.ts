/**
 * Inline SVG charts for the HTML report: drawn here, in the file, so the page needs no script and
 * no network to show them. Line charts over the run's time and one histogram; each scales with the
 * width of its box (a viewBox, no fixed pixel size).
 */

export interface Series {
  name: string;
  /** [seconds since the run began, value] */
  points: [number, number][];
}

const W = 640;
const H = 220;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };
/** Line colours; html.ts's style sheet has a .cN class for each. */
export const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

/** Escape text for HTML and SVG. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A round step near range/4, and its ticks from 0. */
function ticks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.001; v += step) out.push(v);
  if ((out.at(-1) ?? 0) < max) out.push((out.at(-1) ?? 0) + step);
  return out;
}

/** 1234567 → "1.2M" for axis labels. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toFixed(2));
}

function frame(yTicks: number[], yMax: number, xMax: number, xLabel: (v: number) => string, xTicks: number[]): string {
  const plotH = H - PAD.top - PAD.bottom;
  const plotW = W - PAD.left - PAD.right;
  const parts: string[] = [];
  for (const v of yTicks) {
    const y = PAD.top + plotH - (v / yMax) * plotH;
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(shortNumber(v))}</text>`);
  }
  for (const v of xTicks) {
    const x = PAD.left + (xMax > 0 ? (v / xMax) * plotW : 0);
    parts.push(`<text x="${x.toFixed(1)}" y="${H - 8}" text-anchor="middle">${esc(xLabel(v))}</text>`);
  }
  return parts.join('');
}

/** A line chart of several series over seconds; null when there is nothing to draw. */
export function lineChart(title: string, unit: string, series: Series[]): string | null {
  const drawn = series.filter((s) => s.points.length > 0);
  if (drawn.length === 0) return null;
  let xMax = 0;
  let yMaxRaw = 0;
  for (const s of drawn)
    for (const [x, y] of s.points) {
      if (x > xMax) xMax = x;
      if (y > yMaxRaw) yMaxRaw = y;
    }
  const yTicks = ticks(yMaxRaw);
  const yMax = yTicks.at(-1) || 1;
  const xTicks = ticks(xMax).filter((v) => v <= xMax || xMax === 0);
  const plotH = H - PAD.top - PAD.bottom;
  const plotW = W - PAD.left - PAD.right;
  const px = (x: number) => PAD.left + (xMax > 0 ? (x / xMax) * plotW : plotW / 2);
  const py = (y: number) => PAD.top + plotH - (y / yMax) * plotH;
  const lines = drawn.map((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    const dots = s.points.length === 1 ? `<circle cx="${px(s.points[0]![0]).toFixed(1)}" cy="${py(s.points[0]![1]).toFixed(1)}" r="3" fill="${colour}"/>` : '';
    return `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts}"><title>${esc(s.name)}</title></polyline>${dots}`;
  });
  // Classes, not style attributes: the page's policy allows its own style sheet only.
  const legend = drawn.map((s, i) => `<span class="key"><i class="c${i % COLOURS.length}"></i>${esc(s.name)}</span>`).join('');
  return (
    `<figure class="chart" data-chart="${esc(title)}"><figcaption>${esc(title)} <small>(${esc(unit)})</small></figcaption>` +
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${frame(yTicks, yMax, xMax, (v) => `${shortNumber(v)}s`, xTicks)}${lines.join('')}</svg>` +
    `<div class="legend">${legend}</div></figure>`
  );
}

/** A histogram of values over logarithmic buckets (1, 2, 5, 10 …); null without values. */
export function histogram(title: string, unit: string, values: number[]): string | null {
  if (values.length === 0) return null;
  const edges: number[] = [];
  // biome-ignore lint/complexity/useMathMinMax: Math.max(...values) would overflow the stack on a long series
  const max = values.reduce((m, v) => (v > m ? v : m), 0);
  for (let mag = 0.01; mag < max * 10 && edges.length < 40; mag *= 10) for (const m of [1, 2, 5]) edges.push(+(m * mag).toPrecision(2));
  const top = edges.findIndex((e) => e >= max);
  const used = edges.slice(0, top < 0 ? edges.length : top + 1);
  const counts = new Array<number>(used.length).fill(0);
  for (const v of values) {
    let i = used.findIndex((e) => v <= e);
    if (i < 0) i = used.length - 1;
    counts[i]!++;
  }
  const first = counts.findIndex((n) => n > 0);
  const bins = used.slice(first);
  const ns = counts.slice(first);
  const yTicks = ticks(Math.max(...ns));
  const yMax = yTicks.at(-1) || 1;
  const plotH = H - PAD.top - PAD.bottom;
  const plotW = W - PAD.left - PAD.right;
  const bw = plotW / bins.length;
  const bars = ns.map((n, i) => {
    const h = (n / yMax) * plotH;
    const x = PAD.left + i * bw;
    return (
      `<rect x="${(x + 1).toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#2563eb"><title>≤ ${bins[i]} ${esc(unit)}: ${n}</title></rect>` +
      `<text x="${(x + bw / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle">≤${esc(shortNumber(bins[i]!))}</text>`
    );
  });
  const grid = frame(yTicks, yMax, 0, () => '', []);
  return (
    `<figure class="chart" data-chart="${esc(title)}"><figcaption>${esc(title)} <small>(${esc(unit)}, ${values.length} responses)</small></figcaption>` +
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${grid}${bars.join('')}</svg></figure>`
  );
}
