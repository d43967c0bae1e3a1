/**
 * bench: libscope's overhead against DESIGN's budgets ("Performance budgets"). Never part of
 * `npm test`. Each part runs alone with --only PART; without --only, all of them run (long: do not
 * run the full bench on a shared machine). Every measurement: medians of interleaved runs, scoped
 * runs checked to have recorded what they should (a broken preload must not look fast).
 *
 *  rwloop     scoped ÷ plain wall time of a whole process doing 1 M tiny reads + 1 M tiny writes
 *             (metrics only) (budget ≤ 1.05).
 *  percall    (bench/c/percall.c) ns per call timed inside the process, pinned to one CPU, from the
 *             app thread's CPU time: read + write with metrics only (budget ≤ 25 ns added per call);
 *             open + close with fs events on, batched so that every call's event reaches the file
 *             (budget ≤ 200 ns added per event-emitting call on the app's thread).
 *  startup    `scope run --no-stream -- true` wall (budget ≤ 80 ms), beside `node -e 0`, `scope
 *             --version`, `true` under LD_PRELOAD of libscope and plain `true` (src/startup.ts).
 *  nginx      nginx pinned to one CPU, the client on the other, keep-alive on loopback: HTTP/1.1
 *             under wrk, HTTP/1.1 over TLS under wrk, HTTP/2 over TLS under h2load; plain, metrics
 *             only, all events (budget ≥ 0.98 and ≥ 0.95 scoped ÷ plain) (src/nginx.ts).
 *  eventrate  events one process gets recorded with zero drops (SCOPE_EVENT_MAXEPS=0, file), rising
 *             targets until one drops (budget ≥ 300 000 / s) (src/eventrate.ts, bench/c/eventrate.c).
 *  memory     resident memory libscope adds: idle `sleep 2` (≤ 2 MiB), nginx under wrk with all
 *             events (≤ 8 MiB) (src/memory.ts).
 *  libfilter  SCOPE_FILTER of 64 scopes inside libscope: rwloop and nginx, with ÷ without (src/libfilter.ts).
 *  peers      rwloop, nginx and `true` under plain, scope, strace, strace --seccomp-bpf, ltrace and
 *             perf trace: one table of ratios to plain (src/peers.ts).
 *  events     scope-events on 2 M NDJSON events, lines/s and ÷ jq (budget ≥ 500 000, ≥ 3×) (src/ndjson.ts).
 *  filter     scope-filter on the same, 1 and 64 scopes (budget ≥ 500 000 lines/s) (src/ndjson.ts).
 *  slowdest   1 M one-byte writes with tcp:// destinations that refuse, never read, or never
 *             complete the connect, ÷ file destinations (budget ≤ 1.10) (src/slowdest.ts).
 *  supervise  a static program's watched and unwatched calls under seccomp user notification, under
 *             ptrace with a seccomp filter, and under strace --seccomp-bpf (no budget: the choice of
 *             mechanism for programs libscope cannot enter) (src/supervise.ts).
 *  gohttp     a static Go HTTP server under wrk, plain and followed from outside by scope-supervise
 *             with every event on, keep-alive, a connection per request and keep-alive over TLS
 *             (src/gohttp.ts).
 *  javatls    a JVM asking itself over TLS (HttpClient ↔ HttpsServer), plain and scoped with every
 *             event on: libscope as the JVM's agent (src/javatls.ts).
 *  report     scope report (--json, text, --html) and scope profile on 1 M generated events and
 *             100 000 metrics from stdin (budget ≤ 10 s each) (src/report.ts).
 *
 * Writes bench/results/latest.json (everything, a key per part, and the budget table) and
 * bench/results/rwloop.json (as before). Uses one mkdtemp directory, removed at exit, and stops
 * everything it started (each child in its own process group), however it exits.
 *
 *   npm run bench
 *   node bench/dist/src/run.js [--only PART] [--runs 11] [--ops 1000000] [--cpu N]
 *        [--percall-runs 9] [--percall-ops 2000000] [--event-ops 200000]
 *        [--nginx-runs 5] [--nginx-secs 5]
 *        [--eventrate-secs 10] [--eventrate-targets 50000,100000,200000,300000,400000,600000] [--eventrate-unpinned]
 *        [--memory-runs 5] [--memory-secs 5]
 *        [--peers-runs 3] [--peers-ops 1000000] [--peers-nginx-secs 3] [--peers-timeout 120]
 *        [--events-lines 2000000] [--events-runs 3] [--filter-lines 2000000] [--filter-runs 3]
 *        [--slowdest-runs 7] [--supervise-runs 5] [--supervise-ops 20000] [--supervise-unpinned]
 *        [--gohttp-runs 5] [--gohttp-secs 5] [--javatls-runs 5] [--javatls-secs 5]
 *        [--report-events 1000000] [--report-metrics 100000] [--report-runs 3]
 *
 * A part whose tools are missing prints "skipped (needs X: apt-get install Y)" and the rest goes on.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { libscopePath } from '@scope/libscope';
import type { Budget, Ctx } from './common.js';
import { arg, makeWork, median, pinCpu, r1, strArg, timeRwloop } from './common.js';
import { eventrate } from './eventrate.js';
import { libfilter } from './libfilter.js';
import { memory } from './memory.js';
import { nginxBench } from './nginx.js';
import { scopeEvents, scopeFilter } from './ndjson.js';
import { scopeReport } from './report.js';
import { peers } from './peers.js';
import { slowdest } from './slowdest.js';
import { startup } from './startup.js';
import { supervise } from './supervise.js';
import { goHttp } from './gohttp.js';
import { javaTls } from './javatls.js';

const parts = ['rwloop', 'percall', 'startup', 'nginx', 'eventrate', 'memory', 'libfilter', 'peers', 'events', 'filter', 'slowdest', 'supervise', 'gohttp', 'javatls', 'report'];
const only = strArg('only');
if (only !== undefined && !parts.includes(only)) {
  process.stderr.write(`bench: --only ${only}: not a part (${parts.join(', ')})\n`);
  process.exit(2);
}
const doing = (part: string) => only === undefined || only === part;

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const runs = arg('runs', 11);
const ops = arg('ops', 1_000_000);
const percallRuns = Math.max(7, arg('percall-runs', 9));
const percallOps = arg('percall-ops', 2_000_000);
const eventOps = arg('event-ops', 200_000);
const eventBatch = 1000; // 2000 events a batch: a quarter of the default queue (8192)
const eventPauseUs = 5000; // enough for the reporting thread to write 2000 events, on the same CPU

const buildDir = join(benchDir, 'build');
mkdirSync(buildDir, { recursive: true });
const prog = join(buildDir, 'rwloop');
execFileSync('cc', ['-O2', '-o', prog, join(benchDir, 'c/rwloop.c')]);
const percallProg = join(buildDir, 'percall');
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', percallProg, join(benchDir, 'c/percall.c')]);
const nullPreload = join(buildDir, 'nullpreload.so');
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-o', nullPreload, join(benchDir, 'c/nullpreload.c'), '-ldl']);
const noSyscall = join(buildDir, 'nosyscall.so');
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-o', noSyscall, join(benchDir, 'c/nosyscall.c'), '-ldl']);

const work = makeWork();
const plainEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const scopedEnv = {
  ...plainEnv,
  LD_PRELOAD: libscopePath(),
  SCOPE_EVENT_DEST: `file://${join(work, 'events.json')}`,
  SCOPE_METRIC_DEST: `file://${join(work, 'metrics.json')}`,
  SCOPE_LOG_DEST: `file://${join(work, 'libscope.log')}`,
};

const latest: Record<string, unknown> = {
  when: new Date().toISOString(),
  host: { cpus: availableParallelism(), kernel: release(), node: process.version },
  library: libscopePath(),
  ...(only !== undefined ? { only } : {}),
};
const budgets: Budget[] = [];
const ctx: Ctx = { benchDir, buildDir, work, lib: libscopePath(), plainEnv, latest, budgets };

// ---- rwloop: the whole process, scoped ÷ plain ---------------------------------------------
const timeRun = (env: NodeJS.ProcessEnv): number => timeRwloop(prog, ops, env);

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
    budget_ratio: 1.05,
    within_budget: ratio <= 1.05,
    when: new Date().toISOString(),
  };
  latest['rwloop'] = result;
  budgets.push({
    what: `${ops / 1e6} M tiny reads + ${ops / 1e6} M tiny writes, scoped ÷ plain (metrics only)`,
    measured: `${ratio.toFixed(3)} (${p.toFixed(0)} → ${s.toFixed(0)} ms)`,
    budget: '≤ 1.05',
    within: ratio <= 1.05,
    value: ratio,
  });
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'rwloop.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    `rwloop: ${ops} reads + ${ops} writes, median of ${runs}\n` +
      `  plain   ${p.toFixed(1)} ms\n  scoped  ${s.toFixed(1)} ms\n` +
      `  ratio   ${ratio.toFixed(3)}  (budget ≤ 1.05: ${ratio <= 1.05 ? 'within' : 'OVER'})\n` +
      `  added   ${perCallNs.toFixed(1)} ns per interposed call (metrics only, whole process)\n`,
  );
}

// ---- percall: ns per call inside the process, on one CPU ------------------------------------
interface PercallOut {
  wall_ns_per_call: number;
  cpu_ns_per_call: number;
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
  // the floor: a preload whose read, write, open and close only call libc's (c/nullpreload.c)
  const nullEnv = { ...plainEnv, LD_PRELOAD: nullPreload };
  // The same three with read and write answered by a stand-in that makes no system call
  // (c/nosyscall.c, preloaded last: the "real" read and write libscope's wrappers call): what a
  // wrapper adds, measured without a 1.2 µs system call's jitter beside it.
  const fakeIo = { NOSYSCALL_FDS: '500,501' };
  const fakePlainEnv = { ...plainEnv, ...fakeIo, LD_PRELOAD: noSyscall };
  const fakeNullEnv = { ...plainEnv, ...fakeIo, LD_PRELOAD: `${nullPreload}:${noSyscall}` };
  const fakeMetricsEnv = { ...metricsOnlyEnv, ...fakeIo, LD_PRELOAD: `${libscopePath()}:${noSyscall}`, SCOPE_METRIC_FORMAT: 'ndjson' };
  /** The fs.read count the run's metrics gave for read (a wrapper that stepped aside would count none). */
  const readCounted = (): number => {
    const text = existsSync(pcMetrics) ? readFileSync(pcMetrics, 'utf8') : '';
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.includes('"_metric":"fs.read"') || !line.includes('"op":"read"')) continue;
      total += Number((JSON.parse(line) as { body: { _value: number } }).body._value);
    }
    return total;
  };
  const fakeChecks: number[] = [];
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
  const fakeOpen = { NOSYSCALL_OPEN: '/dev/null,502' };
  const ocFakePlainEnv = { ...plainEnv, ...fakeOpen, LD_PRELOAD: noSyscall };
  const ocFakeNullEnv = { ...plainEnv, ...fakeOpen, LD_PRELOAD: `${nullPreload}:${noSyscall}` };
  const ocFakeEventsEnv = { ...eventsEnv, ...fakeOpen, LD_PRELOAD: `${libscopePath()}:${noSyscall}` };
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
  const series = {
    rwPlain: [] as PercallOut[],
    rwNull: [] as PercallOut[],
    rwMetrics: [] as PercallOut[],
    fakePlain: [] as PercallOut[],
    fakeNull: [] as PercallOut[],
    fakeMetrics: [] as PercallOut[],
    ocPlain: [] as PercallOut[],
    ocNull: [] as PercallOut[],
    ocMetrics: [] as PercallOut[],
    ocEvents: [] as PercallOut[],
    ocFakePlain: [] as PercallOut[],
    ocFakeNull: [] as PercallOut[],
    ocFakeEvents: [] as PercallOut[],
  };
  const eventChecks: { events: number; drops: number }[] = [];
  // One untimed round first (page cache, loader), then interleaved rounds.
  for (let i = -1; i < percallRuns; i++) {
    const fresh = () => {
      rmSync(pcEvents, { force: true });
      rmSync(pcLog, { force: true });
    };
    const rwPlain = percall(plainEnv, rwArgs);
    const rwNull = percall(nullEnv, rwArgs);
    const rwMetrics = percall(metricsOnlyEnv, rwArgs);
    const fakePlain = percall(fakePlainEnv, rwArgs);
    const fakeNull = percall(fakeNullEnv, rwArgs);
    rmSync(pcMetrics, { force: true });
    const fakeMetrics = percall(fakeMetricsEnv, rwArgs);
    fakeChecks.push(readCounted());
    const ocPlain = percall(plainEnv, ocArgs);
    const ocNull = percall(nullEnv, ocArgs);
    const ocMetrics = percall(metricsOnlyEnv, ocArgs);
    fresh();
    const ocEvents = percall(eventsEnv, ocArgs);
    eventChecks.push(await countEvents());
    const ocFakePlain = percall(ocFakePlainEnv, ocArgs);
    const ocFakeNull = percall(ocFakeNullEnv, ocArgs);
    fresh();
    const ocFakeEvents = percall(ocFakeEventsEnv, ocArgs);
    eventChecks.push(await countEvents());
    const round = { rwPlain, rwNull, rwMetrics, fakePlain, fakeNull, fakeMetrics, ocPlain, ocNull, ocMetrics, ocEvents, ocFakePlain, ocFakeNull, ocFakeEvents };
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
  // What a variant adds: the median of each round's difference to the plain run of the same round
  // (rounds interleave, so a host that slows for a while slows both sides of a difference).
  const added = (a: PercallOut[], b: PercallOut[]) => {
    const diff = (f: (x: PercallOut) => number) => Number(median(a.map((x, i) => f(x) - f(b[i] as PercallOut))).toFixed(1));
    return { wall: diff((x) => x.wall_ns_per_call), app_thread_cpu: diff((x) => x.cpu_ns_per_call) };
  };
  const addedMetrics = added(series.rwMetrics, series.rwPlain);
  const addedFake = added(series.fakeMetrics, series.fakePlain);
  const floorFake = added(series.fakeNull, series.fakePlain);
  const addedOcMetrics = added(series.ocMetrics, series.ocPlain);
  const addedEvents = added(series.ocEvents, series.ocPlain);
  const addedFakeEvents = added(series.ocFakeEvents, series.ocFakePlain);
  const floorFakeOc = added(series.ocFakeNull, series.ocFakePlain);
  const floorRw = added(series.rwNull, series.rwPlain);
  const floorOc = added(series.ocNull, series.ocPlain);
  const worstEvents = Math.min(...eventChecks.map((c) => c.events));
  const fakeExpected = percallOps + Math.max(1, Math.floor(percallOps / 10)); // warm-up included
  const worstFake = Math.min(...fakeChecks);
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
      null_preload: m.rwNull,
      added_ns_per_call_null_preload: floorRw,
    },
    read_write_no_syscall: {
      iterations: percallOps,
      calls: 2 * percallOps,
      plain: m.fakePlain,
      metrics_only: m.fakeMetrics,
      added_ns_per_call: addedFake,
      null_preload: m.fakeNull,
      added_ns_per_call_null_preload: floorFake,
      reads_expected_per_run: fakeExpected,
      reads_counted_min: worstFake,
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
      null_preload: m.ocNull,
      added_ns_per_call_null_preload: floorOc,
      no_syscall: {
        plain: m.ocFakePlain,
        null_preload: m.ocFakeNull,
        events_on: m.ocFakeEvents,
        added_ns_per_event_call: addedFakeEvents,
        added_ns_per_call_null_preload: floorFakeOc,
      },
      events_expected_per_run: expectedEvents,
      events_written_min: worstEvents,
      drops_total: totalDrops,
    },
  };
  budgets.push({
    what: 'added per interposed call, metrics only (read/write answered without a system call)',
    measured: `${addedFake.app_thread_cpu.toFixed(1)} ns (${m.fakePlain.cpu_ns_per_call.toFixed(1)} → ${m.fakeMetrics.cpu_ns_per_call.toFixed(1)}; a do-nothing preload ${floorFake.app_thread_cpu.toFixed(1)})`,
    budget: '≤ 25 ns',
    within: addedFake.app_thread_cpu <= 25,
    value: addedFake.app_thread_cpu,
    ...(worstFake < fakeExpected ? { invalid: `fs.read counted ${worstFake} of ${fakeExpected} reads` } : {}),
  });
  budgets.push({
    what: 'the same beside real 1-byte reads and writes of /dev/zero and /dev/null',
    measured: `${addedMetrics.app_thread_cpu.toFixed(1)} ns (${m.rwPlain.cpu_ns_per_call.toFixed(1)} → ${m.rwMetrics.cpu_ns_per_call.toFixed(1)}; wall ${addedMetrics.wall.toFixed(1)}; a do-nothing preload ${floorRw.app_thread_cpu.toFixed(1)})`,
    budget: '≤ 25 ns',
    within: addedMetrics.app_thread_cpu <= 25,
    value: addedMetrics.app_thread_cpu,
  });
  // both event rows are void when some event-emitting call did not reach the file
  const eventsInvalid = worstEvents < expectedEvents || totalDrops > 0 ? { invalid: `only ${worstEvents} of ${expectedEvents} events written, ${totalDrops} dropped` } : {};
  budgets.push({
    what: "added per event-emitting call (open/close answered without a system call), app's thread",
    measured: `${addedFakeEvents.app_thread_cpu.toFixed(1)} ns (${m.ocFakePlain.cpu_ns_per_call.toFixed(1)} → ${m.ocFakeEvents.cpu_ns_per_call.toFixed(1)}; a do-nothing preload ${floorFakeOc.app_thread_cpu.toFixed(1)})`,
    budget: '≤ 200 ns',
    within: addedFakeEvents.app_thread_cpu <= 200,
    value: addedFakeEvents.app_thread_cpu,
    ...eventsInvalid,
  });
  budgets.push({
    what: 'the same beside real opens and closes of /dev/null',
    measured: `${addedEvents.app_thread_cpu.toFixed(1)} ns (${m.ocPlain.cpu_ns_per_call.toFixed(0)} → ${m.ocEvents.cpu_ns_per_call.toFixed(0)}; a do-nothing preload ${floorOc.app_thread_cpu.toFixed(1)})`,
    budget: '≤ 200 ns',
    within: addedEvents.app_thread_cpu <= 200,
    value: addedEvents.app_thread_cpu,
    ...eventsInvalid,
  });
  const row = (name: string, x: PercallOut) => `  ${name.padEnd(34)} ${x.wall_ns_per_call.toFixed(1).padStart(9)} ${x.cpu_ns_per_call.toFixed(1).padStart(9)}\n`;
  process.stdout.write(
    `percall: median of ${percallRuns}, ${cpu === null ? 'not pinned (no taskset)' : `pinned to CPU ${cpu}`}; ns per call\n` +
      `  ${''.padEnd(34)} ${'wall'.padStart(9)} ${'app cpu'.padStart(9)}\n` +
      row(`read+write ×${percallOps / 1e6} M, plain`, m.rwPlain) +
      row(`read+write, do-nothing preload`, m.rwNull) +
      row(`read+write, metrics only`, m.rwMetrics) +
      row(`read+write, no system call, plain`, m.fakePlain) +
      row(`  do-nothing preload`, m.fakeNull) +
      row(`  metrics only`, m.fakeMetrics) +
      row(`open+close ×${eventOps / 1e3} k, plain`, m.ocPlain) +
      row(`open+close, do-nothing preload`, m.ocNull) +
      row(`open+close, metrics only`, m.ocMetrics) +
      row(`open+close, events on`, m.ocEvents) +
      row(`open+close, no system call, plain`, m.ocFakePlain) +
      row(`  do-nothing preload`, m.ocFakeNull) +
      row(`  events on`, m.ocFakeEvents) +
      `  added by a do-nothing preload (the floor): ${floorRw.app_thread_cpu.toFixed(1)} ns (read/write), ${floorOc.app_thread_cpu.toFixed(1)} ns (open/close) app cpu\n` +
      `  added, metrics only (read/write):   ${addedMetrics.app_thread_cpu.toFixed(1)} ns app cpu, ${addedMetrics.wall.toFixed(1)} ns wall\n` +
      `  added, metrics only (read/write without a system call): ${addedFake.app_thread_cpu.toFixed(1)} ns app cpu (a do-nothing preload ${floorFake.app_thread_cpu.toFixed(1)})\n` +
      `  added, metrics only (open/close):   ${addedOcMetrics.app_thread_cpu.toFixed(1)} ns app cpu, ${addedOcMetrics.wall.toFixed(1)} ns wall\n` +
      `  added, events on (open/close):      ${addedEvents.app_thread_cpu.toFixed(1)} ns on the app's thread; ` +
      `${addedEvents.wall.toFixed(1)} ns wall on one CPU (the reporting thread's formatting and writing included)\n` +
      `  added, events on (open/close without a system call): ${addedFakeEvents.app_thread_cpu.toFixed(1)} ns on the app's thread (a do-nothing preload ${floorFakeOc.app_thread_cpu.toFixed(1)})\n` +
      `  events written: ${worstEvents} of ${expectedEvents} per run at least; drops over all runs: ${totalDrops}\n`,
  );
  if (worstFake < fakeExpected) {
    process.stdout.write(`  WARNING: the run without system calls counted ${worstFake} of ${fakeExpected} reads; its figure is not libscope's\n`);
  }
  if (worstEvents < expectedEvents || totalDrops > 0) {
    process.stdout.write('  WARNING: some event-emitting calls did not reach the file; the events-on figure is too low\n');
  }
}

if (doing('startup')) await startup(ctx, runs, doing('rwloop'));
if (doing('nginx')) await nginxBench(ctx);
if (doing('eventrate')) await eventrate(ctx);
if (doing('memory')) await memory(ctx);
if (doing('libfilter')) await libfilter(ctx, prog, runs, ops);
if (doing('peers')) await peers(ctx, prog);
if (doing('events')) scopeEvents(ctx);
if (doing('filter')) scopeFilter(ctx);
if (doing('report')) scopeReport(ctx);

// ---- slowdest: dead and slow network destinations ÷ a file destination ---------------------
if (doing('slowdest')) {
  const r = await slowdest({ benchDir, buildDir, work, lib: libscopePath(), runs: arg('slowdest-runs', 7), plainEnv });
  latest['slowdest'] = r;
  const f = r.median_ms['file']!;
  process.stdout.write(`slowdest: 1 M one-byte writes, medians of ${r.runs} interleaved runs: plain ${r.median_ms['plain']} ms, file destinations ${f} ms\n`);
  for (const [name, ratio] of Object.entries(r.ratio_to_file)) {
    process.stdout.write(`  ${name.padEnd(20)} ${r.median_ms[name]} ms  ÷ file ${ratio.toFixed(3)}\n`);
    if (name === 'plain') continue;
    const base = name === 'tcp_name_never_resolves' ? r.median_ms['file_in_namespace']! : f;
    budgets.push({
      what: `1 M writes, ${name.replace(/_/g, ' ').replace('tcp', 'tcp destination')} ÷ file destination`,
      measured: `${ratio.toFixed(3)} (${base.toFixed(0)} → ${r.median_ms[name]!.toFixed(0)} ms)`,
      budget: '≤ 1.10',
      within: ratio <= 1.1,
      value: ratio,
    });
  }
}
if (doing('supervise')) await supervise(ctx);
if (doing('gohttp')) await goHttp(ctx);
if (doing('javatls')) await javaTls(ctx);
latest['budgets'] = budgets.map(({ what, value, budget, within, invalid }) => ({
  what,
  measured: Number(value.toFixed(3)),
  budget,
  ...(budget === '—' ? {} : { within: invalid === undefined && within }),
  ...(invalid !== undefined ? { invalid } : {}),
}));
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'latest.json'), JSON.stringify(latest, null, 2) + '\n');
rmSync(work, { recursive: true, force: true });

const verdict = (b: Budget) => (b.invalid !== undefined ? `NOT VALID: ${b.invalid}` : b.budget === '—' ? '(no budget)' : b.within ? 'within' : 'OVER');
const w = Math.max(...budgets.map((b) => b.what.length), 'benchmark'.length);
const mw = Math.max(...budgets.map((b) => b.measured.length), 'measured'.length);
if (budgets.length === 0) process.stdout.write('\n(no budget measured in this part; bench/results/latest.json)\n');
else
  process.stdout.write(
    `\n${'benchmark'.padEnd(w)}  ${'measured'.padEnd(mw)}  budget\n` +
      budgets.map((b) => `${b.what.padEnd(w)}  ${b.measured.padEnd(mw)}  ${b.budget.padEnd(9)} ${verdict(b)}`).join('\n') +
      `\n(bench/results/latest.json)\n`,
  );
