/**
 * The report for a terminal: each section a heading and a table, long lists cut to the top rows
 * with a line saying how many more there are. Everything a program chose (commands, paths, names)
 * goes through printable(): a report is read on a terminal.
 */
import { printable, textTable } from '@scope/core';
import type { Report, ReportProcess } from './report.js';

/** 1536 → "1.5 KiB". */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

const p = (s: string) => printable(s);
const ms = (v: number | null) => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2));

function section(out: string[], title: string, count: number, shown: number, body: string | null): void {
  out.push('', `${title}${count > shown ? ` (top ${shown} of ${count})` : ''}`);
  out.push(body ?? '  (none)');
}

function treeLines(nodes: ReportProcess[], prefix: string, out: string[][]): void {
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    const exit = n.signal ? n.signal : n.exit_status === null ? '?' : String(n.exit_status);
    out.push([`${prefix}${last ? '└─ ' : '├─ '}${n.pid}`, exit, n.run_s === null ? '-' : n.run_s.toFixed(3), p(n.cmd || '(no record of its own)')]);
    treeLines(n.children, prefix + (last ? '   ' : '│  '), out);
  });
}

/** "a, b (2), c and 4 more": the first three targets of a failure group. */
export function targets(ts: { target: string; count: number }[]): string {
  const shown = ts
    .slice(0, 3)
    .map((t) => (t.count > 1 ? `${t.target} (${t.count})` : t.target))
    .join(', ');
  return ts.length > 3 ? `${shown} and ${ts.length - 3} more` : shown;
}

/** The whole report as text, each list cut to its top rows. */
export function reportText(r: Report, top: number): string {
  const out: string[] = [];
  const cut = <T>(xs: T[]): T[] => xs.slice(0, top);
  const s = r.session;
  const exit = s.signal ? `killed by ${s.signal}` : s.exit_status === null ? 'unknown' : String(s.exit_status);
  out.push(`scope report${s.id !== null ? ` of session ${s.id}` : ''}: ${p(s.args.join(' ') || s.cmd || '(records without a session)')}`);
  out.push(
    `  exit ${exit}  ·  ${s.start ?? '?'} → ${s.end ?? '?'}  ·  ${r.process_count} process${r.process_count === 1 ? '' : 'es'}  ·  ${s.records.events} events, ${s.records.metrics} metrics${s.drops > 0 ? `  ·  ${s.drops} DROPPED` : ''}`,
  );
  for (const n of s.notices) out.push(`  notice: ${p(n)}`);
  if (s.records.events + s.records.metrics + s.records.starts === 0) out.push('  nothing was recorded');

  const fnRows = r.functions
    .slice(0, top)
    .map((f) => [
      f.time_pct === null ? '-' : f.time_pct.toFixed(2),
      ms(f.total_ms),
      f.avg_us === null ? '-' : f.avg_us.toFixed(1),
      f.max_us === null ? '-' : String(f.max_us),
      String(f.calls),
      f.errors > 0 ? String(f.errors) : '',
      f.bytes > 0 ? humanBytes(f.bytes) : '',
      f.op,
    ]);
  section(
    out,
    'Functions (from the fs.* metric summaries; durations from timed calls)',
    r.functions.length,
    Math.min(top, r.functions.length),
    fnRows.length ? textTable(['% time', 'total ms', 'avg µs', 'max µs', 'calls', 'errors', 'bytes', 'function'], fnRows, { right: [0, 1, 2, 3, 4, 5, 6], indent: '  ' }) : null,
  );
  if (r.network_metrics.length)
    out.push(
      '',
      textTable(
        ['metric', 'class', 'value'],
        r.network_metrics.map((m) => [m.metric, m.class, m.unit === 'byte' ? humanBytes(m.value) : `${m.value} ${m.unit}`]),
        { right: [2], indent: '  ' },
      ),
    );

  const tree: string[][] = [];
  treeLines(r.processes, '', tree);
  section(out, 'Processes', r.process_count, r.process_count, tree.length ? textTable(['pid', 'exit', 'run s', 'command'], tree, { right: [1, 2], indent: '  ' }) : null);

  const fileTable = (rows: { path: string; bytes: number; ops: number }[]) =>
    textTable(
      ['bytes', 'ops', 'path'],
      rows.map((f) => [humanBytes(f.bytes), String(f.ops), p(f.path)]),
      { right: [0, 1], indent: '  ' },
    );
  section(out, 'Files read', r.files.read.length, cut(r.files.read).length, r.files.read.length ? fileTable(cut(r.files.read)) : null);
  section(out, 'Files written', r.files.written.length, cut(r.files.written).length, r.files.written.length ? fileTable(cut(r.files.written)) : null);
  section(
    out,
    'Files deleted',
    r.files.deleted.length,
    cut(r.files.deleted).length,
    r.files.deleted.length
      ? textTable(
          ['times', 'path'],
          cut(r.files.deleted).map((f) => [String(f.count), p(f.path)]),
          { right: [0], indent: '  ' },
        )
      : null,
  );

  section(
    out,
    'Connections',
    r.connections.length,
    cut(r.connections).length,
    r.connections.length
      ? textTable(
          ['sent', 'received', 'out', 'in', 'transport', 'peer'],
          cut(r.connections).map((c) => [humanBytes(c.sent), humanBytes(c.received), String(c.connections), String(c.accepted), c.transport, p(c.name ? `${c.peer} (${c.name})` : c.peer)]),
          { right: [0, 1, 2, 3], indent: '  ' },
        )
      : null,
  );

  section(
    out,
    'HTTP',
    r.http.length,
    cut(r.http).length,
    r.http.length
      ? textTable(
          ['count', '2xx', '3xx', '4xx', '5xx', 'p50 ms', 'p99 ms', 'side', 'request'],
          cut(r.http).map((h) => [
            String(h.count),
            String(h.status['2xx'] ?? 0),
            String(h.status['3xx'] ?? 0),
            String(h.status['4xx'] ?? 0),
            String(h.status['5xx'] ?? 0),
            ms(h.p50_ms),
            ms(h.p99_ms),
            h.side,
            p(`${h.method} ${h.host}${h.route}`),
          ]),
          { right: [0, 1, 2, 3, 4, 5, 6], indent: '  ' },
        )
      : null,
  );

  section(
    out,
    'DNS',
    r.dns.length,
    cut(r.dns).length,
    r.dns.length
      ? textTable(
          ['requests', 'name', 'answers'],
          cut(r.dns).map((d) => [String(d.requests), p(d.name), p(d.answers.join(' ') || Object.keys(d.errors).join(' ') || '-')]),
          { right: [0], indent: '  ' },
        )
      : null,
  );

  const failures = cut(r.failures);
  section(
    out,
    'Failures',
    r.failures.length,
    failures.length,
    failures.length
      ? textTable(
          ['count', 'kind', 'function', 'why', 'what'],
          failures.map((f) => [String(f.count), f.kind, p(f.op), p(f.why), p(targets(f.targets))]),
          { right: [0], indent: '  ' },
        )
      : null,
  );
  return out.join('\n') + '\n';
}
