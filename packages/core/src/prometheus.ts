/**
 * Prometheus text exposition format 0.0.4, aggregated over the whole input (as a node_exporter
 * textfile or a scrape would want it): one family per metric name, one sample per family + label set.
 * Names follow Prometheus's conventions:
 *
 *   counter            → counter `<name>[_<unit>]_total`, the sum
 *   gauge              → gauge `<name>[_<unit>]`, the last value (of each process, summed over them)
 *   set                → gauge `<name>`, the number of distinct values
 *   timer, histogram   → summary `<name>[_<unit>]` without quantiles: `_sum` and `_count`
 *
 * Units become base units in the name, and the values are converted: byte and kibibyte → `_bytes`,
 * microsecond, millisecond and second → `_seconds`, percent → `_ratio` (0…1); a count (operation,
 * connection, request…) has no unit suffix. The `unit` dimension is then not a label (the HELP line
 * keeps it). `pid` is a label only when asked (`pidLabel`): a process id on every series multiplies
 * their number with each restart; without it a process's samples add up with the others of its
 * proc and host (gauges: each process's last value, summed).
 *
 * Names: every character outside [a-zA-Z0-9_] becomes `_` (so `.` → `_`), and a leading digit gets a
 * `_` before it. Labels are the other dimensions: names snake_cased (fooBar → foo_bar), lowercased, other
 * characters `_`, no leading digit, no reserved `__` prefix, `quantile` renamed `quantile_`; two
 * dimensions that come out the same get `_2`, `_3`, …; `numops` and `max` are not labels (a
 * summary's `numops` weighs its value instead: n calls of that mean). Values are escaped (\\, \", \n).
 * Families are sorted by name, samples by their label text, and carry no timestamp. Each family has a
 * HELP line (`scope metric fs.read (counter, byte)`) since promtool's linter asks for one.
 */
import type { DimValue, Metric } from './metric.js';

type PromType = 'counter' | 'gauge' | 'summary';

interface Sample {
  labels: string;
  count: number;
  sum: number;
  /** A gauge's last value, per process (the pid, or '' without one). */
  last: Map<string, number>;
  distinct: Set<number>;
}

/** Units as Prometheus names them (base units), and the factor to them. */
const UNITS: Record<string, { suffix: string; factor: number }> = {
  byte: { suffix: 'bytes', factor: 1 },
  kibibyte: { suffix: 'bytes', factor: 1024 },
  microsecond: { suffix: 'seconds', factor: 1e-6 },
  millisecond: { suffix: 'seconds', factor: 1e-3 },
  second: { suffix: 'seconds', factor: 1 },
  percent: { suffix: 'ratio', factor: 0.01 },
};

export interface PrometheusOptions {
  /** Keep `pid` as a label (default: processes of one proc and host add up). */
  pidLabel?: boolean;
}

interface Family {
  name: string;
  type: PromType;
  /** The scope metric type it came from. */
  source: Metric['type'];
  help: string;
  samples: Map<string, Sample>;
}

export function promMetricName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) || s === '' ? `_${s}` : s;
}

export function promLabelName(key: string): string {
  let s = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `_${s}`;
  if (s.startsWith('__')) s = s.replace(/^_+/, '_');
  if (s === 'quantile') s = 'quantile_';
  return s;
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}` (sorted by label name), or '' without dimensions. */
export function promLabels(dims: Record<string, DimValue>): string {
  const pairs: [string, string][] = [];
  const used = new Set<string>();
  for (const key of Object.keys(dims).sort()) {
    const base = promLabelName(key);
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    pairs.push([name, escapeLabelValue(String(dims[key]))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

export function promValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  // A converted unit (µs × 1e-6) leaves binary noise in the last digits: 15 significant are exact.
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(15)));
}

export class PrometheusWriter {
  private readonly families = new Map<string, Family>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly warn: (message: string) => void,
    private readonly options: PrometheusOptions = {},
  ) {}

  add(m: Metric): void {
    const type: PromType = m.type === 'counter' ? 'counter' : m.type === 'timer' || m.type === 'histogram' ? 'summary' : 'gauge';
    const unitDim = m.dims['unit'];
    const unit = m.type === 'set' || typeof unitDim !== 'string' ? undefined : UNITS[unitDim];
    let base = promMetricName(m.name);
    if (unit?.suffix === 'ratio') base = base.replace(/_perc(ent)?$/, ''); // proc.cpu_perc → proc_cpu_ratio
    if (unit && !base.endsWith(`_${unit.suffix}`)) base = `${base}_${unit.suffix}`;
    const name = type === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
    let family = this.families.get(name);
    if (!family) {
      const help = `scope metric ${m.name} (${m.type}${unitDim === undefined ? '' : `, ${unitDim}`})`;
      family = { name, type, source: m.type, help, samples: new Map() };
      this.families.set(name, family);
    } else if (family.type !== type || (type === 'gauge' && family.source !== m.type)) {
      if (!this.warned.has(name)) {
        this.warned.add(name);
        this.warn(`prometheus: ${m.name} is a ${m.type} here but ${name} is already a ${family.source}; its ${m.type} records are left out`);
      }
      return;
    }
    // numops and max describe one record's value (how many calls a summary stands for, the longest
    // of them), not which series it belongs to: as labels they would make a new series each period.
    // The unit is in the name now; the pid only when asked.
    const { numops, max: _max, unit: _unit, pid, ...identity } = m.dims;
    void _max;
    void _unit;
    if (this.options.pidLabel === true && pid !== undefined) identity['pid'] = pid;
    const labels = promLabels(identity);
    let sample = family.samples.get(labels);
    if (!sample) {
      sample = { labels, count: 0, sum: 0, last: new Map(), distinct: new Set() };
      family.samples.set(labels, sample);
    }
    const value = m.value * (unit?.factor ?? 1);
    // A summary record of n calls (fs.duration: their mean) counts as n observations of the summary.
    const n = type === 'summary' && typeof numops === 'number' && numops > 0 ? numops : 1;
    sample.count += n;
    sample.sum += value * n;
    sample.last.set(pid === undefined ? '' : String(pid), value);
    if (m.type === 'set') sample.distinct.add(m.value);
  }

  /** The exposition text, one line per element. */
  lines(): string[] {
    const out: string[] = [];
    const names = [...this.families.keys()].sort();
    for (const name of names) {
      const f = this.families.get(name) as Family;
      out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`);
      const samples = [...f.samples.values()].sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
      for (const s of samples) {
        if (f.type === 'summary') {
          out.push(`${name}_sum${s.labels} ${promValue(s.sum)}`, `${name}_count${s.labels} ${s.count}`);
        } else if (f.type === 'counter') {
          out.push(`${name}${s.labels} ${promValue(s.sum)}`);
        } else {
          let sum = 0;
          for (const v of s.last.values()) sum += v;
          out.push(`${name}${s.labels} ${promValue(f.source === 'set' ? s.distinct.size : sum)}`);
        }
      }
    }
    return out;
  }
}
