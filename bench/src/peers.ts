/**
 * peers: the same workloads under scope and under the tools a user would compare it with, in the
 * same run, medians of interleaved runs; one table, workload × tool → ratio to plain.
 *
 * Workloads: rwloop (N tiny reads + N tiny writes, whole process; time ÷ plain), nginx HTTP/1.1
 * keep-alive under wrk (requests/s ÷ plain; the tracer runs nginx, taskset keeps the pin, nginx is
 * stopped with SIGQUIT and the tracer exits with it) and `true` (start-up; time ÷ plain).
 * Tools: plain; scope metrics only; scope all events; `strace -f`; `strace -f --seccomp-bpf -e
 * trace=%file,%network`; `ltrace -f`; `perf trace` — each probed on `true` first, and "not
 * available: why" when it does not run here. Slow tracers run the rwloop with fewer operations
 * (the ops are stated), against plain runs of the same count, so each ratio compares like with
 * like. A run past --peers-timeout seconds is killed and marked "did not finish in N s".
 */
import type { Ctx, Scoped } from './common.js';
import { arg, clearRecords, median, mustHaveRecorded, r3, runAsync, scoped, which } from './common.js';
import { makeSite, nginxNeeds, nginxRun } from './nginx.js';

interface Tool {
  key: string;
  label: string;
  wrap: string[];
  scope?: Scoped;
  /** the rwloop's operations are divided by this under the tool */
  opsDiv: number;
  /** why it cannot run here, when it cannot */
  unavailable?: string;
}

type Cell = { ratio: number; detail: string } | { failed: string };

async function probe(wrap: string[], pkg: string, timeoutMs: number): Promise<string | undefined> {
  if (!which(wrap[0] as string)) return `skipped (needs ${wrap[0]}: apt-get install ${pkg})`;
  const r = await runAsync(wrap[0] as string, [...wrap.slice(1), 'true'], { timeoutMs });
  if (r.timedOut) return `not available: \`${wrap.join(' ')} true\` did not finish in ${timeoutMs / 1000} s`;
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(0, 2)
      .join(' / ');
    return `not available: \`${wrap.join(' ')} true\` exited ${r.status ?? r.signal}: ${why}`;
  }
  return undefined;
}

export async function peers(c: Ctx, rwloopProg: string): Promise<void> {
  const runs = arg('peers-runs', 3);
  const ops = arg('peers-ops', arg('ops', 1_000_000));
  const secs = arg('peers-nginx-secs', 3);
  const timeoutS = arg('peers-timeout', 120);
  const tools: Tool[] = [
    { key: 'plain', label: 'plain', wrap: [], opsDiv: 1 },
    { key: 'scope_metrics', label: 'scope metrics', wrap: [], scope: scoped(c, 'peers-metrics', 'metrics_only'), opsDiv: 1 },
    { key: 'scope_events', label: 'scope events', wrap: [], scope: scoped(c, 'peers-events', 'all_events'), opsDiv: 1 },
    { key: 'strace', label: 'strace -f', wrap: ['strace', '-f', '-o', '/dev/null'], opsDiv: 10 },
    { key: 'strace_seccomp', label: 'strace seccomp', wrap: ['strace', '-f', '--seccomp-bpf', '-e', 'trace=%file,%network', '-o', '/dev/null'], opsDiv: 1 },
    { key: 'ltrace', label: 'ltrace -f', wrap: ['ltrace', '-f', '-o', '/dev/null'], opsDiv: 100 },
    { key: 'perf_trace', label: 'perf trace', wrap: ['perf', 'trace', '-o', '/dev/null', '--'], opsDiv: 10 },
  ];
  const pkgs: Record<string, string> = { strace: 'strace', ltrace: 'ltrace', perf: 'linux-perf' };
  for (const t of tools) if (t.wrap.length) t.unavailable = await probe(t.wrap, pkgs[t.wrap[0] as string] ?? (t.wrap[0] as string), 30_000);
  const live = tools.filter((t) => t.unavailable === undefined);
  const opsOf = (t: Tool) => Math.max(1000, Math.round(ops / t.opsDiv));
  const cells: Record<string, Record<string, Cell>> = { rwloop: {}, nginx: {}, true: {} };

  // ---- rwloop and true: each tool's runs beside plain runs of the same count -------------------
  const timeOne = async (t: Tool, argv: string[]): Promise<number | string> => {
    if (t.scope) clearRecords(t.scope);
    const cmd = [...t.wrap, ...argv];
    const r = await runAsync(cmd[0] as string, cmd.slice(1), { env: t.scope ? t.scope.env : c.plainEnv, timeoutMs: timeoutS * 1000 });
    if (r.timedOut) return `did not finish in ${timeoutS} s`;
    if (r.status !== 0) {
      if (t.wrap.length === 0) throw new Error(`${argv.join(' ')} (${t.label}) exited ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
      return `exited ${r.status ?? r.signal}: ${r.stderr.split('\n')[0]}`;
    }
    if (t.scope) await mustHaveRecorded(t.scope, `peers (${t.label}, ${argv[0]})`, argv[0] === 'true' ? null : 'fs');
    return r.ms;
  };
  const workloads: [name: 'rwloop' | 'true', argv: (t: Tool) => string[], plainArgv: (t: Tool) => string[]][] = [
    ['rwloop', (t) => [rwloopProg, String(opsOf(t))], (t) => [rwloopProg, String(opsOf(t))]],
    ['true', () => ['true'], () => ['true']],
  ];
  const plainTool = tools[0] as Tool;
  for (const [name, argv] of workloads) {
    const ms: Record<string, number[]> = {};
    const plainMs: Record<string, number[]> = {};
    const failed: Record<string, string> = {};
    for (const t of live) {
      ms[t.key] = [];
      plainMs[t.key] = [];
    }
    for (const t of live) await timeOne(t, argv(t)); // warm up (and the first timeout shows here)
    for (let i = 0; i < runs; i++) {
      for (const t of live) {
        if (failed[t.key] !== undefined) continue;
        const p = await timeOne(plainTool, argv(t));
        const x = t.key === 'plain' ? p : await timeOne(t, argv(t));
        if (typeof x === 'string') failed[t.key] = x;
        else {
          plainMs[t.key]!.push(p as number);
          ms[t.key]!.push(x);
        }
      }
    }
    for (const t of live) {
      if (failed[t.key] !== undefined) cells[name]![t.key] = { failed: failed[t.key]! };
      else {
        const m = median(ms[t.key]!);
        const p = median(plainMs[t.key]!);
        cells[name]![t.key] = { ratio: m / p, detail: `${name === 'rwloop' ? `${opsOf(t)} ops: ` : ''}${p.toFixed(1)} → ${m.toFixed(1)} ms` };
      }
    }
  }

  // ---- nginx under wrk -------------------------------------------------------------------------
  const skip = nginxNeeds('http');
  if (skip) for (const t of live) cells['nginx']![t.key] = { failed: skip };
  else {
    const site = await makeSite(c, 'http', 'peers');
    const rps: Record<string, number[]> = {};
    const failed: Record<string, string> = {};
    for (const t of live) rps[t.key] = [];
    await nginxRun(site, { env: c.plainEnv, secs }); // warm up
    for (let i = 0; i < runs; i++) {
      for (const t of live) {
        if (failed[t.key] !== undefined) continue;
        if (t.scope) clearRecords(t.scope);
        try {
          const r = await nginxRun(site, { env: t.scope ? t.scope.env : c.plainEnv, secs, ...(t.wrap.length ? { wrap: t.wrap, startTimeoutMs: timeoutS * 1000 } : {}) });
          if (t.scope) await mustHaveRecorded(t.scope, `peers (${t.label}, nginx)`, 'http');
          rps[t.key]!.push(r.rps);
        } catch (e) {
          if (t.wrap.length === 0) throw e;
          failed[t.key] = String(e instanceof Error ? e.message : e)
            .split('\n')[0]!
            .slice(0, 200);
        }
      }
    }
    const p = median(rps['plain']!);
    for (const t of live) {
      if (failed[t.key] !== undefined) cells['nginx']![t.key] = { failed: failed[t.key]! };
      else {
        const m = median(rps[t.key]!);
        cells['nginx']![t.key] = { ratio: m / p, detail: `${p.toFixed(0)} → ${m.toFixed(0)} req/s` };
      }
    }
  }
  for (const t of tools) if (t.scope) clearRecords(t.scope);

  // ---- the table -------------------------------------------------------------------------------
  const rows: [string, string][] = [
    ['rwloop', `rwloop, ${ops} reads + writes (time ÷ plain)`],
    ['nginx', `nginx HTTP/1.1 under wrk, ${secs} s (req/s ÷ plain)`],
    ['true', '`true` start-up (time ÷ plain)'],
  ];
  const cell = (w: string, t: Tool): string => {
    if (t.unavailable !== undefined) return 'n/a';
    const x = cells[w]![t.key];
    if (x === undefined) return 'n/a';
    return 'ratio' in x ? x.ratio.toFixed(x.ratio >= 100 ? 0 : x.ratio >= 10 ? 1 : 3) : x.failed.startsWith('did not finish') ? 'dnf' : 'failed';
  };
  const w0 = Math.max(...rows.map(([, l]) => l.length));
  const widths = tools.map((t) => Math.max(t.label.length, ...rows.map(([w]) => cell(w, t).length)));
  let text =
    `peers: medians of ${runs} interleaved runs, ratio to plain\n` +
    `  ${''.padEnd(w0)}  ${tools.map((t, i) => t.label.padStart(widths[i]!)).join('  ')}\n` +
    rows.map(([w, l]) => `  ${l.padEnd(w0)}  ${tools.map((t, i) => cell(w, t).padStart(widths[i]!)).join('  ')}\n`).join('');
  text += `  rwloop ops per tool: ${live.map((t) => `${t.label} ${opsOf(t)}`).join(', ')} (each against plain runs of the same count)\n`;
  for (const t of tools) if (t.unavailable !== undefined) text += `  ${t.label}: ${t.unavailable}\n`;
  for (const [w] of rows)
    for (const t of live) {
      const x = cells[w]![t.key];
      if (x && 'failed' in x) text += `  ${t.label} on ${w}: ${x.failed}\n`;
    }
  process.stdout.write(text);

  const json = (w: string) =>
    Object.fromEntries(
      tools.map((t) => {
        if (t.unavailable !== undefined) return [t.key, { unavailable: t.unavailable }];
        const x = cells[w]![t.key]!;
        return [t.key, 'ratio' in x ? { ratio: r3(x.ratio), detail: x.detail, ...(w === 'rwloop' ? { ops: opsOf(t) } : {}) } : { failed: x.failed }];
      }),
    );
  c.latest['peers'] = {
    runs,
    tools: Object.fromEntries(tools.map((t) => [t.key, { label: t.label, command: t.wrap.length ? t.wrap.join(' ') : t.scope ? `LD_PRELOAD=libscope (${t.scope.kind})` : '' }])),
    rwloop: { ops, ratio: 'time ÷ plain', by_tool: json('rwloop') },
    nginx: { seconds: secs, ratio: 'requests/s ÷ plain', by_tool: json('nginx') },
    true: { ratio: 'time ÷ plain', by_tool: json('true') },
  };
}
