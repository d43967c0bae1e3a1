/**
 * bench: scoped ÷ plain for the syscall-heavy workload (1 M tiny reads + 1 M tiny writes), the median
 * of interleaved runs, against DESIGN's budget (≤ 1.10); and the wall time of `scope run -- true`
 * (budget ≤ 100 ms). Never part of `npm test`.
 *
 *   npm run bench            (or: node bench/dist/src/run.js --runs 15 --ops 1000000)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libscopePath } from '@scope/libscope';

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('runs', 11);
const ops = arg('ops', 1_000_000);

const buildDir = join(benchDir, 'build');
mkdirSync(buildDir, { recursive: true });
const prog = join(buildDir, 'rwloop');
execFileSync('cc', ['-O2', '-o', prog, join(benchDir, 'c/rwloop.c')]);

const work = mkdtempSync(join(tmpdir(), 'scope-bench-'));
const plainEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const scopedEnv = {
  ...plainEnv,
  LD_PRELOAD: libscopePath(),
  SCOPE_EVENT_DEST: `file://${join(work, 'events.json')}`,
  SCOPE_METRIC_DEST: `file://${join(work, 'metrics.json')}`,
  SCOPE_LOG_DEST: `file://${join(work, 'libscope.log')}`,
};

function timeRun(env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(prog, [String(ops)], { env, stdio: 'ignore' });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`rwloop exited ${r.status} ${r.signal ?? ''}`);
  return Number(t1 - t0) / 1e6;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

// Warm the page cache and the loader once each, then interleave so drift hits both sides alike.
timeRun(plainEnv);
timeRun(scopedEnv);
const plain: number[] = [];
const scoped: number[] = [];
for (let i = 0; i < runs; i++) {
  plain.push(timeRun(plainEnv));
  scoped.push(timeRun(scopedEnv));
}
const p = median(plain);
const s = median(scoped);
const ratio = s / p;
const perCallNs = ((s - p) * 1e6) / (2 * ops);
const result = {
  benchmark: 'rwloop',
  ops: { reads: ops, writes: ops },
  runs,
  plain_ms_median: Number(p.toFixed(1)),
  scoped_ms_median: Number(s.toFixed(1)),
  ratio: Number(ratio.toFixed(3)),
  added_ns_per_call: Number(perCallNs.toFixed(1)),
  budget_ratio: 1.1,
  within_budget: ratio <= 1.1,
  when: new Date().toISOString(),
};
// `scope run -- true`: the whole tool, start to exit, with a fresh session each time.
const scopeBin = join(benchDir, '../tools/scope/bin/scope.js');
const runEnv = { ...plainEnv, SCOPE_HOME: join(work, 'home') };
const startup: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [scopeBin, 'run', '--no-stream', '--', 'true'], { env: runEnv, stdio: 'ignore' });
  startup.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (r.status !== 0) throw new Error(`scope run -- true exited ${r.status}`);
}
const runTrue = median(startup);
Object.assign(result, { scope_run_true_ms_median: Number(runTrue.toFixed(1)), scope_run_true_budget_ms: 100 });

mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'rwloop.json'), JSON.stringify(result, null, 2) + '\n');
process.stdout.write(
  `rwloop: ${ops} reads + ${ops} writes, median of ${runs}\n` +
    `  plain   ${p.toFixed(1)} ms\n  scoped  ${s.toFixed(1)} ms\n` +
    `  ratio   ${ratio.toFixed(3)}  (budget ≤ 1.10: ${ratio <= 1.1 ? 'within' : 'OVER'})\n` +
    `  added   ${perCallNs.toFixed(1)} ns per interposed call (metrics only)\n` +
    `scope run -- true: ${runTrue.toFixed(1)} ms median of ${runs} (budget ≤ 100 ms)\n`,
);
