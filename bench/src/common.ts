/**
 * What every part of the bench shares: its arguments, its one temporary directory, the children it
 * started (each in a process group of its own, all of them killed and the directory removed when the
 * bench exits, however it exits), the scoped environments and the check that a scoped run recorded
 * what it should, and the budget table.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
export const strArg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
export const r1 = (x: number): number => Number(x.toFixed(1));
export const r3 = (x: number): number => Number(x.toFixed(3));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Budget {
  what: string;
  measured: string;
  budget: string;
  within: boolean;
  value: number;
  invalid?: string;
}

/** The bench's state, handed to each part. */
export interface Ctx {
  benchDir: string;
  buildDir: string;
  /** the one temporary directory (mkdtemp), removed at exit */
  work: string;
  lib: string;
  plainEnv: NodeJS.ProcessEnv;
  latest: Record<string, unknown>;
  budgets: Budget[];
}

export function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** null when every tool is there, else the line to print: "skipped (needs X: apt-get install Y)". */
export function needs(tools: [cmd: string, pkg: string][]): string | null {
  const missing = tools.filter(([cmd]) => !which(cmd));
  if (missing.length === 0) return null;
  return `skipped (needs ${missing.map(([c]) => c).join(' and ')}: apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')})`;
}

// ---- the bench's temporary directory and children: nothing outlives the bench -----------------
const children = new Set<ChildProcess>();
let workDir: string | undefined;

function cleanup(): void {
  for (const ch of children) {
    if (ch.exitCode === null && ch.signalCode === null && ch.pid !== undefined) {
      try {
        process.kill(-ch.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
}

export function makeWork(): string {
  workDir = mkdtempSync(join(tmpdir(), 'scope-bench-'));
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      process.stderr.write(`bench: ${sig}: stopping what it started\n`);
      cleanup();
      process.exit(130);
    });
  return workDir;
}

/** spawn in a process group of its own, killed with its group if the bench exits first. */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  const ch = spawn(cmd, args, { ...opts, detached: true });
  children.add(ch);
  ch.once('close', () => children.delete(ch));
  ch.once('error', () => children.delete(ch));
  return ch;
}

/** Kill a tracked child's whole process group (tracer, tracee and all) and wait for it. */
export async function killGroup(ch: ChildProcess): Promise<void> {
  if (ch.exitCode !== null || ch.signalCode !== null || ch.pid === undefined) return;
  const closed = new Promise((r) => ch.once('close', r));
  try {
    process.kill(-ch.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await closed;
}

export interface RunOut {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Run to completion without blocking the event loop; killed (group and all) after timeoutMs. */
export function runAsync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (ch: ChildProcess) => void } = {}): Promise<RunOut> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const ch = spawnTracked(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    ch.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    ch.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            void killGroup(ch);
          }, opts.timeoutMs);
    ch.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    ch.once('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, timedOut, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
    opts.onSpawn?.(ch);
  });
}

/** Wall ms of one run, stdio ignored; throws unless it exits 0. */
export function timeSync(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status} ${r.signal ?? ''}`);
  return ms;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** Whether something accepts on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// ---- CPUs: the workload on one, the load generator on the other --------------------------------
const haveTaskset = which('taskset') && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;

/** The CPU a single-CPU measurement pins to (the last one unless --cpu), or null without taskset. */
export function pinCpu(): string | null {
  const cpu = String(arg('cpu', availableParallelism() - 1));
  const probe = spawnSync('taskset', ['-c', cpu, 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? cpu : null;
}

/** cmd prefixed with `taskset -c cpu` when there are CPUs to spread over and taskset works. */
export function pinned(cpu: number, cmd: string[]): string[] {
  return availableParallelism() > 1 && haveTaskset ? ['taskset', '-c', String(cpu), ...cmd] : cmd;
}

// ---- scoped environments, and what a scoped run recorded ----------------------------------------
export type ScopeKind = 'metrics_only' | 'all_events';

export interface Scoped {
  kind: ScopeKind;
  env: NodeJS.ProcessEnv;
  events: string;
  metrics: string;
  log: string;
}

/**
 * LD_PRELOAD of libscope with its own event, metric and log files under the work directory.
 * metrics_only: SCOPE_EVENT_ENABLE=false. all_events: every event type on (http, net, fs, console;
 * the default rate limit unless `extra` says otherwise).
 */
export function scoped(c: Ctx, name: string, kind: ScopeKind, extra: NodeJS.ProcessEnv = {}): Scoped {
  const events = join(c.work, `${name}-events.json`);
  const metrics = join(c.work, `${name}-metrics.json`);
  const log = join(c.work, `${name}-libscope.log`);
  const kindEnv =
    kind === 'metrics_only' ? { SCOPE_EVENT_ENABLE: 'false' } : { SCOPE_EVENT_ENABLE: 'true', SCOPE_EVENT_HTTP: 'true', SCOPE_EVENT_NET: 'true', SCOPE_EVENT_FS: 'true', SCOPE_EVENT_CONSOLE: 'true' };
  return {
    kind,
    events,
    metrics,
    log,
    env: {
      ...c.plainEnv,
      LD_PRELOAD: c.lib,
      SCOPE_EVENT_DEST: `file://${events}`,
      SCOPE_METRIC_DEST: `file://${metrics}`,
      SCOPE_LOG_DEST: `file://${log}`,
      ...kindEnv,
      ...extra,
    },
  };
}

export function clearRecords(s: Scoped): void {
  for (const f of [s.events, s.metrics, s.log]) rmSync(f, { force: true });
}

export interface Recorded {
  /** event lines by body.sourcetype */
  events: Record<string, number>;
  /** event lines whose "source" is one of `sources` (and that hold `needle`), when asked */
  sources: number;
  metricLines: number;
  /** the sum of every "libscope dropped N records" in the log */
  drops: number;
  log: string;
}

/** What a scoped run left in its files (read line by line: the events file can be large). */
export async function recorded(s: Scoped, sources: string[] = [], needle?: string): Promise<Recorded> {
  const events: Record<string, number> = {};
  let nSources = 0;
  const srcKeys = sources.map((x) => `"source":"${x}"`);
  if (existsSync(s.events)) {
    for await (const line of createInterface({ input: createReadStream(s.events) })) {
      const m = /"sourcetype":"([a-z.]+)"/.exec(line);
      const st = m?.[1] ?? 'other';
      events[st] = (events[st] ?? 0) + 1;
      if (srcKeys.some((k) => line.includes(k)) && (needle === undefined || line.includes(needle))) nSources++;
    }
  }
  let metricLines = 0;
  if (existsSync(s.metrics))
    metricLines = readFileSync(s.metrics, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0).length;
  const log = existsSync(s.log) ? readFileSync(s.log, 'utf8') : '';
  let drops = 0;
  for (const m of log.matchAll(/libscope dropped (\d+) records/g)) drops += Number(m[1]);
  return { events, sources: nSources, metricLines, drops, log };
}

/**
 * Fail loudly when a scoped run recorded nothing of what it should: metrics only must leave metric
 * lines; all events must leave events of `sourcetype` (http for nginx, fs for the syscall loop;
 * null: a program, like `true`, that makes none).
 * A broken preload would otherwise look fast.
 */
export async function mustHaveRecorded(s: Scoped, what: string, sourcetype: string | null): Promise<Recorded> {
  const r = await recorded(s);
  if (r.metricLines === 0) throw new Error(`${what}: the scoped run (${s.kind}) wrote no metrics: is libscope loaded? log: ${r.log.slice(0, 400)}`);
  if (s.kind === 'all_events' && sourcetype !== null && (r.events[sourcetype] ?? 0) === 0)
    throw new Error(`${what}: the all-events run recorded no ${sourcetype} event (${JSON.stringify(r.events)}); log: ${r.log.slice(0, 400)}`);
  return r;
}

/** VmRSS and Pss (smaps_rollup, when readable) of a live process, in KiB. */
export function memoryOf(pid: number): { rss_kib: number; pss_kib: number | null } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!rss) throw new Error(`/proc/${pid}/status has no VmRSS`);
  let pss: number | null = null;
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (m) pss = Number(m[1]);
  } catch {
    /* no smaps_rollup here */
  }
  return { rss_kib: Number(rss[1]), pss_kib: pss };
}

/** Whether a live process has libscope mapped: `lib` (its path) when given, else any libscope*.so. */
export function hasLib(pid: number, lib?: string): boolean {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  return lib ? maps.includes(realpathSync(lib)) : /\/libscope[^/\n]*\.so/.test(maps);
}

/** Each thread of a live process: its comm and its CPU time so far (utime + stime, in clock ticks). */
export function threadTicks(pid: number): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      // fields after "(comm) ": state is field 3, utime 14, stime 15
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { comm, ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}

export const clockTicks = (): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) || 100 : 100;
};

/** Wall ms of one run of the rwloop program (ops reads + ops writes) under env; throws when it fails. */
export function timeRwloop(prog: string, ops: number, env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(prog, [String(ops)], { env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`rwloop exited ${r.status} ${r.signal ?? ''}`);
  return ms;
}
