/**
 * bench: libscope's overhead against DESIGN's budgets. Never part of `npm test`.
 *
 *  1. rwloop: scoped ÷ plain wall time of a whole process doing 1 M tiny reads + 1 M tiny writes
 *     (metrics only), median of interleaved runs (budget ≤ 1.10).
 *  2. percall (bench/c/percall.c): ns per call timed inside the process around the loop, pinned to
 *     one CPU, median of interleaved runs:
 *     - read 1 byte of /dev/zero + write 1 byte to /dev/null, plain vs scoped with metrics only
 *       (SCOPE_EVENT_ENABLE=false): the added ns per interposed call (budget ≤ 25 ns), from the app
 *       thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which whatever else runs on that CPU does not
 *       inflate as it does wall time; wall time is reported beside it;
 *     - open + close of /dev/null, plain vs scoped with events on (each call is an fs.open or
 *       fs.close event): the added ns per event-emitting call on the app's thread (budget ≤ 250 ns),
 *       from the app thread's CPU time. The loop runs in batches with untimed pauses between them, so
 *       the reporting thread keeps the queue from filling: every measured call emits its event, and
 *       the run checks that all of them reached the file (a dropped record is a cheaper path).
 *  3. `scope run -- true` wall time (budget ≤ 100 ms).
 *  4. nginx under wrk (when both are installed: Debian's nginx-light and wrk): requests per second
 *     of one nginx worker pinned to one CPU, wrk on the other, keep-alive connections on loopback;
 *     plain, scoped with metrics only, and scoped with every event type on (http, net, fs, console,
 *     default rate limit); median of interleaved runs; scoped ÷ plain (budget ≥ 0.97).
 *  5. events: scope-events on 2 M generated events (fs, net, http, console) from a file, NDJSON out to
 *     /dev/null: --match TEXT and --sourcetype net, lines per second (budget ≥ 500 000) and against
 *     `jq -c 'select(…)'` on the same query (budget ≥ 3×); both are checked to select the same lines.
 *  6. filter: scope-filter on the same 2 M events with 1 scope (every line kept and marked; against
 *     jq doing the same) and with 64 scopes of data, range and process filters (budget ≥ 500 000
 *     lines/s); the lines kept are checked to carry matchedScopes.
 *  7. slowdest (src/slowdest.ts): 1 M one-byte writes with tcp:// destinations that refuse, never
 *     read, or never complete the connect, each ÷ the same with file destinations (budget ≤ 1.10).
 *
 * Writes bench/results/latest.json (everything) and bench/results/rwloop.json (as before).
 *
 *   npm run bench
 *   node bench/dist/src/run.js [--runs 11] [--ops 1000000] [--percall-runs 9] [--percall-ops 2000000]
 *                              [--event-ops 200000] [--cpu N] [--nginx-runs 5] [--nginx-secs 5]
 *                              [--events-lines 2000000] [--events-runs 3]
 *                              [--filter-lines 2000000] [--filter-runs 3]
 *                              [--slowdest-runs 7]
 *                              [--only rwloop|percall|startup|nginx|events|filter|slowdest]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { libscopePath } from '@scope/libscope';
import { slowdest } from './slowdest.js';

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const strArg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = arg('runs', 11);
const ops = arg('ops', 1_000_000);
const percallRuns = Math.max(7, arg('percall-runs', 9));
const percallOps = arg('percall-ops', 2_000_000);
const eventOps = arg('event-ops', 200_000);
const eventBatch = 1000; // 2000 events a batch: a quarter of the default queue (8192)
const eventPauseUs = 5000; // enough for the reporting thread to write 2000 events, on the same CPU
const only = strArg('only');
const doing = (part: string) => only === undefined || only === part;

const buildDir = join(benchDir, 'build');
mkdirSync(buildDir, { recursive: true });
const prog = join(buildDir, 'rwloop');
execFileSync('cc', ['-O2', '-o', prog, join(benchDir, 'c/rwloop.c')]);
const percallProg = join(buildDir, 'percall');
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', percallProg, join(benchDir, 'c/percall.c')]);

const work = mkdtempSync(join(tmpdir(), 'scope-bench-'));
const plainEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const scopedEnv = {
  ...plainEnv,
  LD_PRELOAD: libscopePath(),
  SCOPE_EVENT_DEST: `file://${join(work, 'events.json')}`,
  SCOPE_METRIC_DEST: `file://${join(work, 'metrics.json')}`,
  SCOPE_LOG_DEST: `file://${join(work, 'libscope.log')}`,
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const r1 = (x: number) => Number(x.toFixed(1));

const latest: Record<string, unknown> = {
  when: new Date().toISOString(),
  host: { cpus: availableParallelism(), kernel: release(), node: process.version },
  library: libscopePath(),
};
const budgets: { what: string; measured: string; budget: string; within: boolean; value: number; invalid?: string }[] = [];

// ---- 1. rwloop: the whole process, scoped ÷ plain ---------------------------------------------
function timeRun(env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(prog, [String(ops)], { env, stdio: 'ignore' });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`rwloop exited ${r.status} ${r.signal ?? ''}`);
  return Number(t1 - t0) / 1e6;
}

if (doing('rwloop')) {
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
    plain_ms_median: r1(p),
    scoped_ms_median: r1(s),
    ratio: Number(ratio.toFixed(3)),
    added_ns_per_call: r1(perCallNs),
    budget_ratio: 1.1,
    within_budget: ratio <= 1.1,
    when: new Date().toISOString(),
  };
  latest['rwloop'] = result;
  budgets.push({
    what: `${ops / 1e6} M tiny reads + ${ops / 1e6} M tiny writes, scoped ÷ plain (metrics only)`,
    measured: `${ratio.toFixed(3)} (${p.toFixed(0)} → ${s.toFixed(0)} ms)`,
    budget: '≤ 1.10',
    within: ratio <= 1.1,
    value: ratio,
  });
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'rwloop.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    `rwloop: ${ops} reads + ${ops} writes, median of ${runs}\n` +
      `  plain   ${p.toFixed(1)} ms\n  scoped  ${s.toFixed(1)} ms\n` +
      `  ratio   ${ratio.toFixed(3)}  (budget ≤ 1.10: ${ratio <= 1.1 ? 'within' : 'OVER'})\n` +
      `  added   ${perCallNs.toFixed(1)} ns per interposed call (metrics only, whole process)\n`,
  );
}

// ---- 2. percall: ns per call inside the process, on one CPU ------------------------------------
interface PercallOut {
  wall_ns_per_call: number;
  cpu_ns_per_call: number;
}

/** The CPU to pin to (the last one unless --cpu), or null when taskset is missing or refuses it. */
function pinCpu(): string | null {
  const cpu = String(arg('cpu', availableParallelism() - 1));
  const probe = spawnSync('taskset', ['-c', cpu, 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? cpu : null;
}

if (doing('percall')) {
  const cpu = pinCpu();
  const pcMetrics = join(work, 'percall-metrics.json');
  const pcEvents = join(work, 'percall-events.json');
  const pcLog = join(work, 'percall-libscope.log');
  const metricsOnlyEnv = {
    ...plainEnv,
    LD_PRELOAD: libscopePath(),
    SCOPE_EVENT_ENABLE: 'false',
    SCOPE_METRIC_DEST: `file://${pcMetrics}`,
    SCOPE_LOG_DEST: `file://${pcLog}`,
  };
  const eventsEnv = {
    ...plainEnv,
    LD_PRELOAD: libscopePath(),
    SCOPE_EVENT_ENABLE: 'true',
    SCOPE_EVENT_DEST: `file://${pcEvents}`,
    // every open and close an fs event, none held back by the rate limit (AppScope: 0 = no limit)
    SCOPE_EVENT_FS: 'true',
    SCOPE_EVENT_FS_NAME: '.*',
    SCOPE_EVENT_MAXEPS: '0',
    SCOPE_METRIC_DEST: `file://${pcMetrics}`,
    SCOPE_LOG_DEST: `file://${pcLog}`,
  };
  const percall = (env: NodeJS.ProcessEnv, args: string[]): PercallOut => {
    const [cmd, argv] = cpu === null ? [percallProg, args] : ['taskset', ['-c', cpu, percallProg, ...args]];
    const r = spawnSync(cmd, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`percall ${args.join(' ')} exited ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
    return JSON.parse(r.stdout) as PercallOut;
  };
  /** fs.open and fs.close events in the file, and the drops libscope reported. */
  const countEvents = async (): Promise<{ events: number; drops: number }> => {
    let events = 0;
    let drops = 0;
    if (existsSync(pcEvents)) {
      for await (const line of createInterface({ input: createReadStream(pcEvents) })) {
        if (line.includes('"source":"fs.open"') || line.includes('"source":"fs.close"')) events++;
      }
    }
    const log = existsSync(pcLog) ? readFileSync(pcLog, 'utf8') : '';
    for (const m of log.matchAll(/libscope dropped (\d+) records/g)) drops += Number(m[1]);
    return { events, drops };
  };

  const rwArgs = ['rw', String(percallOps)];
  const ocArgs = ['openclose', String(eventOps), String(eventBatch), String(eventPauseUs)];
  const expectedEvents = 2 * (eventOps + Math.max(1, Math.floor(eventOps / 10))); // warm-up included
  const series = { rwPlain: [] as PercallOut[], rwMetrics: [] as PercallOut[], ocPlain: [] as PercallOut[], ocMetrics: [] as PercallOut[], ocEvents: [] as PercallOut[] };
  const eventChecks: { events: number; drops: number }[] = [];
  // One untimed round first (page cache, loader), then interleaved rounds.
  for (let i = -1; i < percallRuns; i++) {
    const round = {
      rwPlain: percall(plainEnv, rwArgs),
      rwMetrics: percall(metricsOnlyEnv, rwArgs),
      ocPlain: percall(plainEnv, ocArgs),
      ocMetrics: percall(metricsOnlyEnv, ocArgs),
      ocEvents: (() => {
        rmSync(pcEvents, { force: true });
        rmSync(pcLog, { force: true });
        return percall(eventsEnv, ocArgs);
      })(),
    };
    eventChecks.push(await countEvents());
    rmSync(pcEvents, { force: true });
    rmSync(pcMetrics, { force: true });
    if (i < 0) continue;
    for (const k of Object.keys(series) as (keyof typeof series)[]) series[k].push(round[k]);
  }
  const med = (xs: PercallOut[]) => ({
    wall_ns_per_call: Number(median(xs.map((x) => x.wall_ns_per_call)).toFixed(2)),
    cpu_ns_per_call: Number(median(xs.map((x) => x.cpu_ns_per_call)).toFixed(2)),
  });
  const m = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, med(v)])) as Record<keyof typeof series, PercallOut>;
  const added = (a: PercallOut, b: PercallOut) => ({
    wall: Number((a.wall_ns_per_call - b.wall_ns_per_call).toFixed(1)),
    app_thread_cpu: Number((a.cpu_ns_per_call - b.cpu_ns_per_call).toFixed(1)),
  });
  const addedMetrics = added(m.rwMetrics, m.rwPlain);
  const addedOcMetrics = added(m.ocMetrics, m.ocPlain);
  const addedEvents = added(m.ocEvents, m.ocPlain);
  const worstEvents = Math.min(...eventChecks.map((c) => c.events));
  const totalDrops = eventChecks.reduce((s, c) => s + c.drops, 0);
  latest['percall'] = {
    runs: percallRuns,
    pinned_cpu: cpu,
    read_write: {
      iterations: percallOps,
      calls: 2 * percallOps,
      plain: m.rwPlain,
      metrics_only: m.rwMetrics,
      added_ns_per_call: addedMetrics,
    },
    open_close: {
      iterations: eventOps,
      calls: 2 * eventOps,
      batch: eventBatch,
      pause_us: eventPauseUs,
      plain: m.ocPlain,
      metrics_only: m.ocMetrics,
      events_on: m.ocEvents,
      added_ns_per_call_metrics_only: addedOcMetrics,
      added_ns_per_event_call: addedEvents,
      events_expected_per_run: expectedEvents,
      events_written_min: worstEvents,
      drops_total: totalDrops,
    },
  };
  budgets.push({
    what: 'added per interposed call, metrics only (1-byte read/write)',
    measured: `${addedMetrics.app_thread_cpu.toFixed(1)} ns (${m.rwPlain.cpu_ns_per_call.toFixed(1)} → ${m.rwMetrics.cpu_ns_per_call.toFixed(1)}; wall ${addedMetrics.wall.toFixed(1)})`,
    budget: '≤ 25 ns',
    within: addedMetrics.app_thread_cpu <= 25,
    value: addedMetrics.app_thread_cpu,
  });
  budgets.push({
    what: "added per event-emitting call (open/close), app's thread",
    measured: `${addedEvents.app_thread_cpu.toFixed(1)} ns (${m.ocPlain.cpu_ns_per_call.toFixed(0)} → ${m.ocEvents.cpu_ns_per_call.toFixed(0)})`,
    budget: '≤ 250 ns',
    within: addedEvents.app_thread_cpu <= 250,
    value: addedEvents.app_thread_cpu,
    ...(worstEvents < expectedEvents || totalDrops > 0
      ? { invalid: `only ${worstEvents} of ${expectedEvents} events written, ${totalDrops} dropped` }
      : {}),
  });
  const row = (name: string, x: PercallOut) =>
    `  ${name.padEnd(34)} ${x.wall_ns_per_call.toFixed(1).padStart(9)} ${x.cpu_ns_per_call.toFixed(1).padStart(9)}\n`;
  process.stdout.write(
    `percall: median of ${percallRuns}, ${cpu === null ? 'not pinned (no taskset)' : `pinned to CPU ${cpu}`}; ns per call\n` +
      `  ${''.padEnd(34)} ${'wall'.padStart(9)} ${'app cpu'.padStart(9)}\n` +
      row(`read+write ×${percallOps / 1e6} M, plain`, m.rwPlain) +
      row(`read+write, metrics only`, m.rwMetrics) +
      row(`open+close ×${eventOps / 1e3} k, plain`, m.ocPlain) +
      row(`open+close, metrics only`, m.ocMetrics) +
      row(`open+close, events on`, m.ocEvents) +
      `  added, metrics only (read/write):   ${addedMetrics.app_thread_cpu.toFixed(1)} ns app cpu, ${addedMetrics.wall.toFixed(1)} ns wall\n` +
      `  added, metrics only (open/close):   ${addedOcMetrics.app_thread_cpu.toFixed(1)} ns app cpu, ${addedOcMetrics.wall.toFixed(1)} ns wall\n` +
      `  added, events on (open/close):      ${addedEvents.app_thread_cpu.toFixed(1)} ns on the app's thread; ` +
      `${addedEvents.wall.toFixed(1)} ns wall on one CPU (the reporting thread's formatting and writing included)\n` +
      `  events written: ${worstEvents} of ${expectedEvents} per run at least; drops over all runs: ${totalDrops}\n`,
  );
  if (worstEvents < expectedEvents || totalDrops > 0) {
    process.stdout.write('  WARNING: some event-emitting calls did not reach the file; the events-on figure is too low\n');
  }
}

// ---- 3. `scope run -- true`: the whole tool, start to exit, with a fresh session each time -------
if (doing('startup')) {
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
  latest['scope_run_true_ms_median'] = r1(runTrue);
  latest['scope_run_true_budget_ms'] = 100;
  budgets.push({ what: '`scope run -- true`, wall time', measured: `${runTrue.toFixed(1)} ms`, budget: '≤ 100 ms', within: runTrue <= 100, value: runTrue });
  process.stdout.write(`scope run -- true: ${runTrue.toFixed(1)} ms median of ${runs} (budget ≤ 100 ms)\n`);
  // rwloop.json has always carried it
  const rwloopFile = join(benchDir, 'results', 'rwloop.json');
  if (doing('rwloop') && existsSync(rwloopFile)) {
    const rw = JSON.parse(readFileSync(rwloopFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(rwloopFile, JSON.stringify({ ...rw, scope_run_true_ms_median: r1(runTrue), scope_run_true_budget_ms: 100 }, null, 2) + '\n');
  }
}

// ---- 4. nginx under wrk: requests per second, scoped ÷ plain ----------------------------------
function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function nginxBench(): Promise<void> {
  const nginxRuns = arg('nginx-runs', 5);
  const secs = arg('nginx-secs', 5);
  const dir = join(work, 'nginx');
  mkdirSync(join(dir, 'html'), { recursive: true });
  writeFileSync(join(dir, 'html', 'index.html'), '<p>hello from nginx</p>\n'.repeat(20));
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const cpus = availableParallelism();
  const conf = [
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'daemon off;', 'master_process off;', 'worker_processes 1;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log warn;`,
    'events { worker_connections 1024; }',
    `http { access_log off; server { listen 127.0.0.1:${port}; root ${dir}/html; location / { } } }`,
  ].join('\n');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const pin = (cpu: number, cmd: string[]) => (cpus > 1 && which('taskset') ? ['taskset', '-c', String(cpu), ...cmd] : cmd);
  const modes: Record<string, NodeJS.ProcessEnv> = {
    plain: plainEnv,
    metrics_only: { ...scopedEnv, SCOPE_EVENT_ENABLE: 'false' },
    all_events: { ...scopedEnv, SCOPE_EVENT_ENABLE: 'true', SCOPE_EVENT_HTTP: 'true', SCOPE_EVENT_NET: 'true', SCOPE_EVENT_FS: 'true' },
  };
  const one = async (env: NodeJS.ProcessEnv): Promise<number> => {
    const { spawn } = await import('node:child_process');
    const [cmd, ...args] = pin(0, ['nginx', '-c', join(dir, 'nginx.conf'), '-p', dir]);
    const ngx = spawn(cmd as string, args, { env, stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && spawnSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]).status !== 0; i++)
        spawnSync('sleep', ['0.05']);
      const [wcmd, ...wargs] = pin(cpus - 1, ['wrk', '-t1', '-c16', `-d${secs}s`, `http://127.0.0.1:${port}/index.html`]);
      const r = spawnSync(wcmd as string, wargs, { encoding: 'utf8' });
      const m = /Requests\/sec:\s+([0-9.]+)/.exec(r.stdout);
      if (!m) throw new Error(`wrk: ${r.stdout}${r.stderr}`);
      return Number(m[1]);
    } finally {
      ngx.kill('SIGQUIT');
      await new Promise((resolve) => ngx.once('close', resolve));
    }
  };
  const got: Record<string, number[]> = { plain: [], metrics_only: [], all_events: [] };
  await one(plainEnv); // warm up
  for (let i = 0; i < nginxRuns; i++) for (const [mode, env] of Object.entries(modes)) got[mode]!.push(await one(env));
  const med = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const ratioM = med['metrics_only']! / med['plain']!;
  const ratioE = med['all_events']! / med['plain']!;
  latest['nginx'] = {
    runs: nginxRuns, seconds: secs, connections: 16, requests_per_sec_median: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, r1(v)])),
    ratio_metrics_only: Number(ratioM.toFixed(3)), ratio_all_events: Number(ratioE.toFixed(3)), budget_ratio: 0.97,
  };
  budgets.push({ what: 'nginx under wrk, requests/s scoped ÷ plain (metrics only)', measured: `${ratioM.toFixed(3)} (${med['plain']!.toFixed(0)} → ${med['metrics_only']!.toFixed(0)} req/s)`, budget: '≥ 0.97', within: ratioM >= 0.97, value: ratioM });
  budgets.push({ what: 'nginx under wrk, requests/s scoped ÷ plain (all events on)', measured: `${ratioE.toFixed(3)} (${med['plain']!.toFixed(0)} → ${med['all_events']!.toFixed(0)} req/s)`, budget: '≥ 0.97', within: ratioE >= 0.97, value: ratioE });
  process.stdout.write(`nginx under wrk (${secs} s, 16 connections), median of ${nginxRuns}: ` +
    `plain ${med['plain']!.toFixed(0)}, metrics only ${med['metrics_only']!.toFixed(0)}, all events ${med['all_events']!.toFixed(0)} req/s\n`);
}

if (doing('nginx')) {
  if (which('nginx') && which('wrk')) await nginxBench();
  else process.stdout.write('nginx: skipped (needs nginx and wrk: apt-get install nginx-light wrk)\n');
}

// ---- 5. scope-events on NDJSON: lines per second, and against jq on the same query -----------------
/** One line of a realistic session: fs, net, http and console events of an nginx worker. */
function benchEventLine(i: number): string {
  const k = i % 10;
  const t = (1763890000 + i * 0.00001).toFixed(6);
  const cmd = 'nginx: worker process';
  const ev = (st: string, src: string, ch: string, data: unknown) =>
    `{"type":"evt","id":"bench-nginx-${cmd}","_channel":"${ch}","body":{"sourcetype":"${st}","_time":${t},"source":"${src}","host":"bench","proc":"nginx","cmd":"${cmd}","pid":4300,"data":${JSON.stringify(data)}}}`;
  if (k < 4) return ev('fs', k % 2 ? 'fs.close' : 'fs.open', String(430000000000 + (i % 97)), { file: `/var/www/html/page${i % 500}.html`, op: 'openat', fd: 10 + (i % 50), proc_uid: 33, proc_gid: 33, file_perms: 420, file_owner: 0, file_group: 0 });
  if (k < 7) return ev('net', k === 6 ? 'net.close' : 'net.open', String(430000000000 + (i % 89)), { net_transport: 'IP.TCP', net_peer_ip: `10.0.${i % 250}.${i % 200}`, net_peer_port: 40000 + (i % 20000), net_host_ip: '10.0.0.1', net_host_port: 80, fd: 9, op: 'accept4', duration: i % 300, net_bytes_sent: i % 5000, net_bytes_recv: i % 7000, net_close_reason: 'remote' });
  if (k < 9) return ev('http', k === 8 ? 'http.resp' : 'http.req', '430000000009', { http_method: 'GET', http_target: `/api/items/${i % 1000}`, http_flavor: '1.1', http_scheme: 'http', http_host: 'example.org', http_status_code: 200, http_status_text: 'OK', http_server_duration: (i % 100) / 7 });
  return ev('console', 'stderr', '0', { message: `worker ${i % 8}: request ${i} served in ${((i % 100) / 7).toFixed(3)}ms\n` });
}

/** `lines` generated events in a file, and its first 100 000 lines in another. */
function writeEventsFile(lines: number): { file: string; small: string } {
  const file = join(work, 'events.ndjson');
  const small = join(work, 'events-small.ndjson');
  const fd = openSync(file, 'w');
  for (let i = 0; i < lines; ) {
    let chunk = '';
    for (let j = 0; j < 2000 && i < lines; j++) chunk += benchEventLine(i++) + '\n';
    writeSync(fd, chunk);
    if (i === Math.min(lines, 100_000)) writeFileSync(small, readFileSync(file));
  }
  closeSync(fd);
  return { file, small };
}

/** Seconds for one run with stdin from `input` and stdout to `out`. */
function timed(cmd: string, argv: string[], input: string, out: string): number {
  const inFd = openSync(input, 'r');
  const outFd = openSync(out, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: [inFd, outFd, 'inherit'], env: { ...plainEnv, TZ: 'UTC' } });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(inFd);
  closeSync(outFd);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}`);
  return secs;
}

const lineCount = (f: string) => readFileSync(f, 'utf8').split('\n').length - 1;

if (doing('events')) {
  const lines = arg('events-lines', 2_000_000);
  const eventsRuns = arg('events-runs', 3);
  const { file, small } = writeEventsFile(lines);
  const eventsBin = join(benchDir, '../tools/scope-events/bin/scope-events.js');
  const jq = '/usr/bin/jq';
  const queries = [
    { name: '--match', args: ['--match', 'page42.html'], jq: 'select(tojson | contains("page42.html"))' },
    { name: '--sourcetype net', args: ['--sourcetype', 'net'], jq: 'select(.body.sourcetype == "net")' },
  ];
  const haveJq = existsSync(jq);
  const eventsResults: Record<string, unknown> = { lines, bytes: statSync(file).size };
  for (const q of queries) {
    // Same selection as jq on the first 100 000 lines.
    const ours = join(work, 'ours.ndjson');
    const theirs = join(work, 'theirs.ndjson');
    timed(process.execPath, [eventsBin, '--json', ...q.args], small, ours);
    const count = lineCount;
    if (haveJq) {
      timed(jq, ['-c', q.jq], small, theirs);
      if (count(ours) !== count(theirs)) throw new Error(`scope-events ${q.name}: ${count(ours)} lines, jq: ${count(theirs)}`);
    }
    const ourSecs = median(Array.from({ length: eventsRuns }, () => timed(process.execPath, [eventsBin, '--json', ...q.args], file, '/dev/null')));
    const rate = lines / ourSecs;
    const entry: Record<string, unknown> = { scope_events_s: Number(ourSecs.toFixed(3)), lines_per_s: Math.round(rate), selected_of_100k: count(ours) };
    budgets.push({ what: `scope-events ${q.name}, lines/s`, measured: `${Math.round(rate).toLocaleString('en')} lines/s`, budget: '≥ 500 000', within: rate >= 500_000, value: rate });
    let line = `scope-events ${q.name}: ${ourSecs.toFixed(2)} s for ${lines} lines, ${Math.round(rate)} lines/s`;
    if (haveJq) {
      const jqSecs = timed(jq, ['-c', q.jq], file, '/dev/null');
      const ratio = jqSecs / ourSecs;
      entry['jq_s'] = Number(jqSecs.toFixed(3));
      entry['ratio_vs_jq'] = Number(ratio.toFixed(2));
      budgets.push({ what: `scope-events ${q.name}, speed ÷ jq`, measured: `${ratio.toFixed(2)}× (jq ${Math.round(lines / jqSecs)} lines/s)`, budget: '≥ 3×', within: ratio >= 3, value: ratio });
      line += `; jq -c '${q.jq}': ${jqSecs.toFixed(2)} s, ${ratio.toFixed(2)}× slower`;
    }
    eventsResults[q.name] = entry;
    process.stdout.write(line + '\n');
  }
  if (!haveJq) process.stdout.write('events: jq comparison skipped (no /usr/bin/jq)\n');
  latest['events'] = eventsResults;
  rmSync(file, { force: true });
}

// ---- 6. scope-filter on NDJSON: lines per second with 1 scope and with 64 ------------------------
/**
 * 64 scopes of four kinds, sixteen each: fs.open of nginx under one page prefix (a data filter),
 * http.resp for one target prefix (a data filter), net.* with peer ports above a bound (a range on
 * net.open), and the console events of pid 4300 (no event selector: every line must be looked at).
 */
function filter64(): string[] {
  const f: string[] = [];
  for (let i = 1; i <= 64; i++) {
    const add = (...xs: string[]) => xs.forEach((x) => f.push('-f', `${i}:${x}`));
    if (i % 4 === 0) add('comm=nginx', 'event=fs.open', `fs.open.data.file=/var/www/html/page${i}*`);
    else if (i % 4 === 1) add('event=http.resp', `http.resp.data.http_target=/api/items/${i}*`);
    else if (i % 4 === 2) add('event=net.*', `net.open.data.net_peer_port>${40000 + i * 100}`);
    else add('pid=4300', 'sourcetype=console');
  }
  return f;
}

if (doing('filter')) {
  const lines = arg('filter-lines', 2_000_000);
  const filterRuns = arg('filter-runs', 3);
  const { file, small } = writeEventsFile(lines);
  const filterBin = join(benchDir, '../tools/scope-filter/bin/scope-filter.js');
  const jq = '/usr/bin/jq';
  const haveJq = existsSync(jq);
  const out = join(work, 'filtered.ndjson');
  const cases = [
    {
      name: '1 scope (comm=nginx: every line kept, matchedScopes added)',
      key: 'scopes_1',
      args: ['-f', 'comm=nginx'],
      jq: 'if .type == "evt" then (if .body.proc == "nginx" then (.body.matchedScopes = "1" | .body.matchedPolicies = ["1"]) else empty end) else . end',
      budget: false,
    },
    { name: '64 scopes', key: 'scopes_64', args: filter64(), jq: undefined, budget: true },
  ];
  const filterResults: Record<string, unknown> = { lines, bytes: statSync(file).size };
  for (const c of cases) {
    timed(process.execPath, [filterBin, '--json', ...c.args], small, out);
    const kept = lineCount(out);
    const withScopes = readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('"matchedScopes":"')).length;
    if (kept === 0 || withScopes !== kept) throw new Error(`scope-filter ${c.name}: ${kept} lines kept, ${withScopes} with matchedScopes`);
    const secs = median(Array.from({ length: filterRuns }, () => timed(process.execPath, [filterBin, '--json', ...c.args], file, '/dev/null')));
    const rate = lines / secs;
    const entry: Record<string, unknown> = { seconds: Number(secs.toFixed(3)), lines_per_s: Math.round(rate), kept_of_100k: kept };
    let line = `scope-filter ${c.name}: ${secs.toFixed(2)} s for ${lines} lines, ${Math.round(rate)} lines/s, kept ${kept} of the first 100 000`;
    if (c.budget) budgets.push({ what: `scope-filter, ${c.name}, lines/s`, measured: `${Math.round(rate).toLocaleString('en')} lines/s`, budget: '≥ 500 000', within: rate >= 500_000, value: rate });
    else budgets.push({ what: `scope-filter, ${c.name.split(' (')[0]}, lines/s`, measured: `${Math.round(rate).toLocaleString('en')} lines/s`, budget: '≥ 500 000', within: rate >= 500_000, value: rate });
    if (haveJq && c.jq !== undefined) {
      const theirs = join(work, 'theirs.ndjson');
      timed(jq, ['-c', c.jq], small, theirs);
      if (lineCount(theirs) !== kept) throw new Error(`scope-filter ${c.name}: ${kept} lines, jq: ${lineCount(theirs)}`);
      const jqSecs = timed(jq, ['-c', c.jq], file, '/dev/null');
      const ratio = jqSecs / secs;
      entry['jq_s'] = Number(jqSecs.toFixed(3));
      entry['ratio_vs_jq'] = Number(ratio.toFixed(2));
      budgets.push({ what: 'scope-filter, 1 scope, speed ÷ jq', measured: `${ratio.toFixed(2)}× (jq ${Math.round(lines / jqSecs)} lines/s)`, budget: '≥ 3×', within: ratio >= 3, value: ratio });
      line += `; jq: ${jqSecs.toFixed(2)} s, ${ratio.toFixed(2)}× slower`;
    }
    filterResults[c.key] = entry;
    process.stdout.write(line + '\n');
  }
  if (!haveJq) process.stdout.write('filter: jq comparison skipped (no /usr/bin/jq)\n');
  latest['filter'] = filterResults;
  rmSync(file, { force: true });
}

// ---- 7. slowdest: dead and slow network destinations ÷ a file destination ---------------------
if (doing('slowdest')) {
  const r = await slowdest({ benchDir, buildDir, work, lib: libscopePath(), runs: arg('slowdest-runs', 7), plainEnv });
  latest['slowdest'] = r;
  const f = r.median_ms['file']!;
  process.stdout.write(`slowdest: 1 M one-byte writes, medians of ${r.runs} interleaved runs: plain ${r.median_ms['plain']} ms, file destinations ${f} ms\n`);
  for (const [name, ratio] of Object.entries(r.ratio_to_file)) {
    process.stdout.write(`  ${name.padEnd(20)} ${r.median_ms[name]} ms  ÷ file ${ratio.toFixed(3)}\n`);
    if (name === 'plain') continue;
    const base = name === 'tcp_name_never_resolves' ? r.median_ms['file_in_namespace']! : f;
    budgets.push({ what: `1 M writes, ${name.replace(/_/g, ' ').replace('tcp', 'tcp destination')} ÷ file destination`, measured: `${ratio.toFixed(3)} (${base.toFixed(0)} → ${r.median_ms[name]!.toFixed(0)} ms)`, budget: '≤ 1.10', within: ratio <= 1.1, value: ratio });
  }
}

latest['budgets'] = budgets.map(({ what, value, budget, within, invalid }) => ({
  what,
  measured: Number(value.toFixed(3)),
  budget,
  within: invalid === undefined && within,
  ...(invalid !== undefined ? { invalid } : {}),
}));
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'latest.json'), JSON.stringify(latest, null, 2) + '\n');
rmSync(work, { recursive: true, force: true });

const w = Math.max(...budgets.map((b) => b.what.length));
const mw = Math.max(...budgets.map((b) => b.measured.length), 'measured'.length);
process.stdout.write(
  `\n${'benchmark'.padEnd(w)}  ${'measured'.padEnd(mw)}  budget\n` +
    budgets.map((b) => `${b.what.padEnd(w)}  ${b.measured.padEnd(mw)}  ${b.budget.padEnd(9)} ${b.invalid !== undefined ? `NOT VALID: ${b.invalid}` : b.within ? 'within' : 'OVER'}`).join('\n') +
    `\n(bench/results/latest.json)\n`,
);
