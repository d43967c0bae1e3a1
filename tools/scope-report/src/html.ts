/**
 * `scope report --html FILE`: one self-contained page (styles, the small sorting script and the SVG
 * charts inline; no request leaves it), readable from a CI artifact on a phone or a wide screen. The
 * tables are in the HTML itself, so the page shows everything with scripts off; the script only
 * sorts a table when its heading is clicked. Each section says how many rows the session has
 * (data-count) and shows up to ROW_LIMIT of them.
 */
import { createHash } from 'node:crypto';
import { SCOPE_VERSION, printable } from '@scope/core';
import type { Collected } from './collect.js';
import { COLOURS, esc, histogram, lineChart } from './charts.js';
import type { Series } from './charts.js';
import type { Report, ReportProcess } from './report.js';
import { humanBytes } from './text.js';

/** Rows a table shows; past it the section says how many were left out. */
export const ROW_LIMIT = 1000;

const t = (s: string) => esc(printable(s));

interface Column<R> {
  head: string;
  /** Cell text. */
  text: (r: R) => string;
  /** Sort key when it differs from the text (numbers). */
  key?: (r: R) => number;
  num?: boolean;
}

function table<R>(id: string, rows: R[], columns: Column<R>[]): string {
  const shown = rows.slice(0, ROW_LIMIT);
  const head = columns.map((c, i) => `<th data-col="${i}"${c.num ? ' class="num"' : ''}>${esc(c.head)}</th>`).join('');
  const body = shown.map((r) => '<tr>' + columns.map((c) => `<td${c.num ? ' class="num"' : ''}${c.key ? ` data-key="${c.key(r)}"` : ''}>${t(c.text(r))}</td>`).join('') + '</tr>').join('\n');
  const more = rows.length > shown.length ? `<p class="more">${rows.length - shown.length} more rows not shown (scope report --json has them all)</p>` : '';
  return `<div class="scroll"><table class="sortable" id="${id}-table"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>${more}`;
}

function section(id: string, title: string, count: number, inner: string): string {
  return `<section id="${id}" data-count="${count}"><h2>${esc(title)} <span class="count">${count}</span></h2>${count === 0 ? '<p class="none">none</p>' : inner}</section>`;
}

function treeHtml(nodes: ReportProcess[]): string {
  if (nodes.length === 0) return '';
  return (
    '<ul>' +
    nodes
      .map((n) => {
        const exit = n.signal ? n.signal : n.exit_status === null ? '?' : String(n.exit_status);
        const bad = n.signal !== null || (n.exit_status !== null && n.exit_status !== 0);
        const label = `<span class="pid">${n.pid}</span> <code>${t(n.cmd || '(no record of its own)')}</code> <span class="exit${bad ? ' bad' : ''}" title="exit status">${esc(exit)}</span>${n.run_s !== null ? ` <span class="dim">${n.run_s.toFixed(3)} s</span>` : ''}`;
        return n.children.length
          ? `<li class="proc" data-pid="${n.pid}"><details open><summary>${label}</summary>${treeHtml(n.children)}</details></li>`
          : `<li class="proc" data-pid="${n.pid}">${label}</li>`;
      })
      .join('') +
    '</ul>'
  );
}

const ms = (v: number | null) => (v === null ? '-' : v.toFixed(2));

function charts(c: Collected): string {
  const t0 = c.first ?? 0;
  const byPid = (pick: (p: { cpuPerc?: number; memKiB?: number; threads?: number; fds?: number }) => number | undefined): Series[] => {
    const out: Series[] = [];
    for (const [pid, points] of c.procSeries) {
      const pts: [number, number][] = [];
      for (const p of points) {
        const v = pick(p);
        if (v !== undefined) pts.push([p.t - t0, v]);
      }
      const name = c.processes.get(pid)?.cmd.split(' ')[0] ?? '';
      if (pts.length) out.push({ name: `${pid} ${name}`, points: pts });
    }
    // The busiest eight: more lines than colours say nothing.
    const peak = (s: Series) => s.points.reduce((m, [, v]) => Math.max(m, v), 0);
    return out.sort((a, b) => peak(b) - peak(a)).slice(0, 8);
  };
  const rate = (m: Map<number, number>, name: string): Series => ({ name, points: [...m].sort((a, b) => a[0] - b[0]).map(([s, v]) => [s - Math.floor(t0), v]) });
  const latencies: number[] = [];
  for (const h of c.http.values()) for (const v of h.latencies) latencies.push(v);
  const figures = [
    lineChart(
      'CPU per process',
      'percent',
      byPid((p) => p.cpuPerc),
    ),
    lineChart(
      'Memory per process',
      'KiB',
      byPid((p) => p.memKiB),
    ),
    lineChart(
      'Threads per process',
      'threads',
      byPid((p) => p.threads),
    ),
    lineChart(
      'Open descriptors per process',
      'descriptors',
      byPid((p) => p.fds),
    ),
    lineChart('File throughput', 'bytes per summary', [rate(c.throughput.fsRead, 'read'), rate(c.throughput.fsWrite, 'written')]),
    lineChart('Network throughput', 'bytes per summary', [rate(c.throughput.netRx, 'received'), rate(c.throughput.netTx, 'sent')]),
    histogram('HTTP latency', 'ms', latencies),
  ].filter((f): f is string => f !== null);
  return section('charts', 'Over time', figures.length, `<div class="charts">${figures.join('\n')}</div>`);
}

const STYLE =
  COLOURS.map((c, i) => `.c${i}{background:${c}}`).join('') +
  `
:root{color-scheme:light dark;--fg:#111;--bg:#fff;--dim:#666;--line:#ddd;--bad:#b91c1c;--head:#f3f4f6}
@media (prefers-color-scheme:dark){:root{--fg:#e5e7eb;--bg:#111827;--dim:#9ca3af;--line:#374151;--bad:#f87171;--head:#1f2937}}
*{box-sizing:border-box}body{overflow-wrap:anywhere;margin:0 auto;max-width:1400px;padding:12px;font:14px/1.4 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.3em;margin:.2em 0;word-break:break-all}h2{font-size:1.1em;margin:1.2em 0 .4em;border-bottom:1px solid var(--line)}
.count{font-weight:normal;color:var(--dim);font-size:.85em}.dim,.none,.more{color:var(--dim)}
.summary{display:flex;flex-wrap:wrap;gap:.4em 1.4em}.summary b{font-weight:600}.notice{color:var(--bad)}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}td{word-break:break-all;white-space:pre-line}
th{background:var(--head);cursor:pointer;white-space:nowrap;position:sticky;top:0}th.num,td.num{text-align:right;word-break:normal;white-space:nowrap}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,400px),1fr));gap:12px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px}figcaption{font-weight:600}
svg{width:100%;height:auto;display:block}svg text{font-size:12px;fill:var(--dim)}svg .grid{stroke:var(--line);stroke-width:1}
.legend{display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:.85em}.key i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.tree ul{list-style:none;padding-left:1.2em;margin:0}.tree>ul{padding-left:0}.tree li{margin:2px 0}.pid{color:var(--dim)}
.exit{border:1px solid var(--line);border-radius:3px;padding:0 4px}.exit.bad{color:var(--bad);border-color:var(--bad)}code{word-break:break-all}
`;

// Sorting by a heading click: numbers by data-key, text by its content; a second click reverses.
const SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th) {
    th.addEventListener('click', function () {
      var col = Number(th.dataset.col), asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var key = function (row) { var c = row.cells[col]; return c.dataset.key !== undefined ? Number(c.dataset.key) : c.textContent; };
      rows.sort(function (a, b) { var x = key(a), y = key(b); var d = typeof x === 'number' ? x - y : String(x).localeCompare(String(y)); return asc ? d : -d; });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
`;

/**
 * The policy allows the page's own style sheet and script by their hashes, nothing else: should a
 * program's file name or command line ever get past the escaping as markup, it still could not run
 * a script, load anything or send anything anywhere.
 */
const hash = (text: string): string => `sha256-${createHash('sha256').update(text).digest('base64')}`;

/** The whole page. */
export function reportHtml(r: Report, c: Collected): string {
  const s = r.session;
  const exit = s.signal ? `killed by ${s.signal}` : s.exit_status === null ? 'unknown' : String(s.exit_status);
  const title = s.args.join(' ') || s.cmd || 'records without a session';
  const parts: string[] = [];
  parts.push(`<header><h1>scope report${s.id !== null ? ` · session ${s.id}` : ''}: <code>${t(title)}</code></h1>`);
  parts.push(
    `<div class="summary"><span>exit <b class="${exit === '0' ? '' : 'notice'}">${esc(exit)}</b></span><span>${esc(s.start ?? '?')} → ${esc(s.end ?? '?')}</span>` +
      `<span><b>${r.process_count}</b> processes</span><span><b>${s.records.events}</b> events</span><span><b>${s.records.metrics}</b> metrics</span>` +
      `${s.drops > 0 ? `<span class="notice"><b>${s.drops}</b> records dropped</span>` : ''}</div>`,
  );
  for (const n of s.notices) parts.push(`<p class="notice">notice: ${t(n)}</p>`);
  if (s.records.events + s.records.metrics + s.records.starts === 0) parts.push('<p class="notice">nothing was recorded</p>');
  parts.push('</header><main>');
  parts.push(charts(c));
  parts.push(
    section(
      'functions',
      'Functions',
      r.functions.length,
      table('functions', r.functions, [
        { head: 'function', text: (f) => f.op },
        { head: 'calls', text: (f) => String(f.calls), key: (f) => f.calls, num: true },
        { head: 'errors', text: (f) => (f.errors > 0 ? String(f.errors) : ''), key: (f) => f.errors, num: true },
        { head: 'bytes', text: (f) => (f.bytes > 0 ? humanBytes(f.bytes) : ''), key: (f) => f.bytes, num: true },
        { head: 'total ms', text: (f) => ms(f.total_ms), key: (f) => f.total_ms ?? -1, num: true },
        { head: 'avg µs', text: (f) => (f.avg_us === null ? '-' : f.avg_us.toFixed(1)), key: (f) => f.avg_us ?? -1, num: true },
        { head: 'max µs', text: (f) => (f.max_us === null ? '-' : String(f.max_us)), key: (f) => f.max_us ?? -1, num: true },
        { head: '% time', text: (f) => (f.time_pct === null ? '-' : f.time_pct.toFixed(2)), key: (f) => f.time_pct ?? -1, num: true },
      ]),
    ),
  );
  parts.push(section('processes', 'Processes', r.process_count, `<div class="tree">${treeHtml(r.processes)}</div>`));
  const fileCols = [
    { head: 'path', text: (f: { path: string }) => f.path },
    { head: 'bytes', text: (f: { bytes: number }) => humanBytes(f.bytes), key: (f: { bytes: number }) => f.bytes, num: true },
    { head: 'operations', text: (f: { ops: number }) => String(f.ops), key: (f: { ops: number }) => f.ops, num: true },
  ];
  parts.push(section('files-read', 'Files read', r.files.read.length, table('files-read', r.files.read, fileCols)));
  parts.push(section('files-written', 'Files written', r.files.written.length, table('files-written', r.files.written, fileCols)));
  parts.push(
    section(
      'files-deleted',
      'Files deleted',
      r.files.deleted.length,
      table('files-deleted', r.files.deleted, [
        { head: 'path', text: (f) => f.path },
        { head: 'times', text: (f) => String(f.count), key: (f) => f.count, num: true },
      ]),
    ),
  );
  parts.push(
    section(
      'connections',
      'Connections',
      r.connections.length,
      table('connections', r.connections, [
        { head: 'peer', text: (x) => x.peer },
        { head: 'name', text: (x) => x.name ?? '' },
        { head: 'transport', text: (x) => x.transport },
        { head: 'opened', text: (x) => String(x.connections), key: (x) => x.connections, num: true },
        { head: 'accepted', text: (x) => String(x.accepted), key: (x) => x.accepted, num: true },
        { head: 'sent', text: (x) => humanBytes(x.sent), key: (x) => x.sent, num: true },
        { head: 'received', text: (x) => humanBytes(x.received), key: (x) => x.received, num: true },
      ]),
    ),
  );
  parts.push(
    section(
      'http',
      'HTTP',
      r.http.length,
      table('http', r.http, [
        { head: 'side', text: (h) => h.side },
        { head: 'method', text: (h) => h.method },
        { head: 'host', text: (h) => h.host },
        { head: 'route', text: (h) => h.route },
        { head: 'count', text: (h) => String(h.count), key: (h) => h.count, num: true },
        { head: '2xx', text: (h) => String(h.status['2xx'] ?? 0), key: (h) => h.status['2xx'] ?? 0, num: true },
        { head: '3xx', text: (h) => String(h.status['3xx'] ?? 0), key: (h) => h.status['3xx'] ?? 0, num: true },
        { head: '4xx', text: (h) => String(h.status['4xx'] ?? 0), key: (h) => h.status['4xx'] ?? 0, num: true },
        { head: '5xx', text: (h) => String(h.status['5xx'] ?? 0), key: (h) => h.status['5xx'] ?? 0, num: true },
        { head: 'p50 ms', text: (h) => ms(h.p50_ms), key: (h) => h.p50_ms ?? -1, num: true },
        { head: 'p99 ms', text: (h) => ms(h.p99_ms), key: (h) => h.p99_ms ?? -1, num: true },
      ]),
    ),
  );
  parts.push(
    section(
      'dns',
      'DNS',
      r.dns.length,
      table('dns', r.dns, [
        { head: 'name', text: (d) => d.name },
        { head: 'requests', text: (d) => String(d.requests), key: (d) => d.requests, num: true },
        { head: 'answers', text: (d) => d.answers.join(' ') || Object.keys(d.errors).join(' ') },
      ]),
    ),
  );
  parts.push(
    section(
      'failures',
      'Failures',
      r.failures.length,
      table('failures', r.failures, [
        { head: 'kind', text: (f) => f.kind },
        { head: 'function', text: (f) => f.op },
        { head: 'why', text: (f) => f.why },
        { head: 'count', text: (f) => String(f.count), key: (f) => f.count, num: true },
        {
          head: 'what',
          text: (f) =>
            f.targets
              .slice(0, 50)
              .map((x) => (x.count > 1 ? `${x.target} (${x.count})` : x.target))
              .join('\n') + (f.targets.length > 50 ? `\n… ${f.targets.length - 50} more` : ''),
        },
        { head: 'pids', text: (f) => f.pids.slice(0, 20).join(' ') + (f.pids.length > 20 ? ' …' : '') },
      ]),
    ),
  );
  parts.push(`</main><footer class="dim"><p>Made by scope ${esc(SCOPE_VERSION)} report from ${esc(s.dir ?? 'stdin')}.</p></footer>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src '${hash(STYLE)}'; script-src '${hash(SCRIPT)}'">
<title>scope report: ${t(title)}</title><style>${STYLE}</style></head>
<body>
${parts.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}
