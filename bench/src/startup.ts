/**
 * startup: `scope run --no-stream -- true`, wall time from spawn to exit with a fresh session each
 * time (budget ≤ 80 ms), and beside it what its parts cost, each the median of the same interleaved
 * rounds: `node -e 0` (node alone), `node tools/scope/bin/scope.js --version` (node and the tool's
 * modules), `true` under LD_PRELOAD of libscope (the library's start and exit, no tool), and plain
 * `true`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from './common.js';
import { clearRecords, median, r1, recorded, scoped, timeSync } from './common.js';

export async function startup(c: Ctx, runs: number, alsoRwloopJson: boolean): Promise<void> {
  const scopeBin = join(c.benchDir, '../tools/scope/bin/scope.js');
  const runEnv = { ...c.plainEnv, SCOPE_HOME: join(c.work, 'home') };
  // libscope's defaults (events and metrics on), its files in the work directory
  const lib = scoped(c, 'startup', 'metrics_only', { SCOPE_EVENT_ENABLE: 'true' });
  const node = process.execPath;
  const cases: [key: string, label: string, run: () => number][] = [
    ['scope_run_true', '`scope run --no-stream -- true`', () => timeSync(node, [scopeBin, 'run', '--no-stream', '--', 'true'], runEnv)],
    ['node_e_0', '`node -e 0`', () => timeSync(node, ['-e', '0'], c.plainEnv)],
    ['scope_version', '`node tools/scope/bin/scope.js --version`', () => timeSync(node, [scopeBin, '--version'], c.plainEnv)],
    ['true_preloaded', '`true` under LD_PRELOAD of libscope', () => timeSync('true', [], lib.env)],
    ['true_plain', '`true`', () => timeSync('true', [], c.plainEnv)],
  ];
  const got: Record<string, number[]> = Object.fromEntries(cases.map(([k]) => [k, []]));
  for (const [, , run] of cases) run(); // warm the page cache and the loader
  const rec = await recorded(lib);
  if (rec.metricLines === 0) throw new Error(`startup: \`true\` under LD_PRELOAD wrote no metrics: is libscope loaded? ${rec.log.slice(0, 400)}`);
  clearRecords(lib);
  for (let i = 0; i < runs; i++) for (const [k, , run] of cases) got[k]!.push(run());
  const med = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const runTrue = med['scope_run_true']!;
  c.latest['scope_run_true_ms_median'] = r1(runTrue);
  c.latest['scope_run_true_budget_ms'] = 80;
  c.latest['startup'] = {
    runs,
    ms_median: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, r1(v)])),
    libscope_start_and_exit_ms: r1(med['true_preloaded']! - med['true_plain']!),
    scope_modules_ms: r1(med['scope_version']! - med['node_e_0']!),
    scope_run_own_ms: r1(runTrue - med['scope_version']! - (med['true_preloaded']! - med['true_plain']!)),
  };
  c.budgets.push({ what: '`scope run -- true`, wall time', measured: `${runTrue.toFixed(1)} ms`, budget: '≤ 80 ms', within: runTrue <= 80, value: runTrue });
  const w = Math.max(...cases.map(([, l]) => l.length));
  process.stdout.write(
    `startup: medians of ${runs} interleaved rounds (budget ≤ 80 ms for scope run)\n` +
      cases.map(([k, l]) => `  ${l.padEnd(w)}  ${med[k]!.toFixed(1).padStart(7)} ms\n`).join('') +
      `  so: node itself ${med['node_e_0']!.toFixed(1)} ms, loading scope's modules ${(med['scope_version']! - med['node_e_0']!).toFixed(1)} ms, ` +
      `libscope's start and exit in \`true\` ${(med['true_preloaded']! - med['true_plain']!).toFixed(1)} ms, ` +
      `the rest of \`scope run\` (session, spawn, wait) ${(runTrue - med['scope_version']! - (med['true_preloaded']! - med['true_plain']!)).toFixed(1)} ms\n`,
  );
  // rwloop.json has always carried it
  const rwloopFile = join(c.benchDir, 'results', 'rwloop.json');
  if (alsoRwloopJson && existsSync(rwloopFile)) {
    const rw = JSON.parse(readFileSync(rwloopFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(rwloopFile, JSON.stringify({ ...rw, scope_run_true_ms_median: r1(runTrue), scope_run_true_budget_ms: 80 }, null, 2) + '\n');
  }
}
