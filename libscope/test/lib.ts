import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateRecord } from '@scope/schemas';
import { tempDir } from '@scope/core/testing';
import { libscopePath } from '../addon/index.js';

/** The library under test: build/Release/libscope.so, or the one SCOPE_LIB_PATH names (as for the
 * tools; test/sanitize.sh points it at the ASan+UBSan build in build/sanitize). The C test programs
 * stay the normal build's. */
export const LIB = libscopePath();
export const prog = (name: string): string => fileURLToPath(new URL(`../../build/Release/test/${name}`, import.meta.url));

/** Whether LIB is a sanitized build (it needs the ASan runtime, found in its dynamic section). */
export const SANITIZED = readFileSync(LIB).includes('libasan.so');
/** The ASan runtime, which a sanitized LIB needs preloaded (also when a program dlopens it: the
 * runtime refuses to start late); '' otherwise. */
export const ASAN_RUNTIME = SANITIZED ? asanRuntime() : '';
/** LD_PRELOAD naming LIB, followed by the ASan runtime when LIB is sanitized. */
export const PRELOAD = preloadList(LIB);
/**
 * `libs` followed by the ASan runtime when LIB is sanitized, space-separated. After, not before:
 * the runtime takes the printf and scanf families itself and calls the v* function (fprintf
 * would reach libscope as vfprintf); behind libscope it sees the calls libscope passes on, as
 * libc would. test/sanitize.sh allows that order (verify_asan_link_order=0).
 */
export function preloadList(...libs: string[]): string {
  return [...libs, ASAN_RUNTIME].filter(Boolean).join(' ');
}

function asanRuntime(): string {
  const r = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  const path = r.stdout?.trim() ?? '';
  if (r.status !== 0 || !path.startsWith('/') || !existsSync(path)) throw new Error(`${LIB} is sanitized but gcc -print-file-name=libasan.so gives no runtime (${r.stderr ?? r.error})`);
  return path;
}

export type Json = Record<string, unknown>;
export interface Body {
  source: string;
  sourcetype: string;
  pid: number;
  proc: string;
  cmd: string;
  host: string;
  _time: number;
  data: Json;
  [key: string]: unknown;
}
export interface Evt {
  type: 'evt';
  id: string;
  _channel: string;
  body: Body;
}
export interface Start {
  format: 'ndjson';
  info: { process: Json & { pid: number; procname: string }; configuration: { current: Json } };
}
export interface Metric {
  type: 'metric';
  body: Json & { _metric: string; _metric_type: string; _value: number; pid: number; unit: string };
}

export interface Session {
  dir: string;
  env: NodeJS.ProcessEnv;
  events: () => unknown[];
  metrics: () => unknown[];
  log: () => string;
}

/** A session directory and the environment that points libscope at it. */
export function session(extra: Record<string, string> = {}): Session {
  const dir = tempDir('libscope-test-');
  const env = stripScope();
  Object.assign(env, {
    LD_PRELOAD: PRELOAD,
    SCOPE_EVENT_DEST: `file://${dir}/events.json`,
    SCOPE_METRIC_DEST: `file://${dir}/metrics.json`,
    SCOPE_LOG_DEST: `file://${dir}/libscope.log`,
    ...extra,
  });
  return {
    dir,
    env,
    events: () => readNdjson(join(dir, 'events.json')),
    metrics: () => readNdjson(join(dir, 'metrics.json')),
    log: () => (existsSync(join(dir, 'libscope.log')) ? readFileSync(join(dir, 'libscope.log'), 'utf8') : ''),
  };
}

export interface NdjsonRead {
  records: unknown[];
  /** `path:line: kind: errors: text` for each line that is not a valid record */
  failures: string[];
}

/** Every line parsed and checked against schemas/; the bad ones are listed, not thrown. */
export function readNdjsonAll(path: string): NdjsonRead {
  if (!existsSync(path)) return { records: [], failures: [] };
  const raw = readFileSync(path);
  const failures: string[] = [];
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (e) {
    failures.push(`${path}: not valid UTF-8 (${String(e)})`);
    text = raw.toString('utf8');
  }
  if (text !== '' && !text.endsWith('\n')) failures.push(`${path}: last line is not complete`);
  const records: unknown[] = [];
  text.split('\n').forEach((l, i) => {
    if (l === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(l) as unknown;
    } catch (e) {
      failures.push(`${path}:${i + 1}: not JSON (${String(e)}): ${l.slice(0, 200)}`);
      return;
    }
    const v = validateRecord(rec);
    if (!v.ok) failures.push(`${path}:${i + 1}: ${v.kind ?? 'unknown kind'}: ${v.errors.join('; ')}: ${l.slice(0, 200)}`);
    records.push(rec);
  });
  return { records, failures };
}

/** Every line must be valid UTF-8, valid JSON and valid against schemas/; a bad one fails the test. */
export function readNdjson(path: string): unknown[] {
  const { records, failures } = readNdjsonAll(path);
  assert.ok(!failures.some((f) => f.endsWith('last line is not complete')), `${path}: last line is not complete`);
  if (failures.length > 0) throw new Error(failures[0]);
  return records;
}

export const isEvt = (r: unknown): r is Evt => (r as Json).type === 'evt';
export const isStart = (r: unknown): r is Start => (r as Json).format === 'ndjson';
export const isMetric = (r: unknown): r is Metric => (r as Json).type === 'metric';
export const evts = (rs: unknown[], source?: string): Evt[] => rs.filter(isEvt).filter((e) => source === undefined || e.body.source === source);

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv | undefined, timeout = 60_000): SpawnSyncReturns<Buffer> {
  const r = spawnSync(cmd, args, { env: env ?? stripScope(), timeout, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

/** A test that SIGKILLs scoped processes leaves their control socket files in /tmp/scope-<uid>/
 * (a killed process cannot remove its own); the next scoped process removes those of dead
 * processes when it binds its own. This runs one that waits for its file to appear (at most 3 s),
 * then exits, taking its own file with it. */
export function sweepControlFiles(): void {
  const uid = process.getuid?.() ?? 0;
  const wait = `i=0; while [ ! -S /tmp/scope-${uid}/ctl.$$ ] && [ ! -S /tmp/ctl.$$ ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i+1)); done`;
  run('sh', ['-c', wait], { ...stripScope(), LD_PRELOAD: PRELOAD, SCOPE_EVENT_DEST: 'file:///dev/null', SCOPE_METRIC_DEST: 'file:///dev/null', SCOPE_LOG_DEST: 'file:///dev/null' }, 10_000);
}

/** env for a tree scope-supervise follows: in the sanitized run, LeakSanitizer's exit-time check
 * cannot work in a traced process (it ptraces the process's own threads), so it is off there. */
export function traced(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!SANITIZED) return env;
  return { ...env, ASAN_OPTIONS: `${env['ASAN_OPTIONS'] ?? ''}:detect_leaks=0` };
}

/** This process's environment without LD_PRELOAD and SCOPE_*: an unscoped run. */
export function stripScope(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SCOPE_') && k !== 'LD_PRELOAD') env[k] = v;
  return env;
}

/** An unscoped environment for a program that will load LIB later (dlopen, an attach): with a
 * sanitized LIB the ASan runtime is preloaded, since it cannot come in after the program started. */
export function loadable(env: NodeJS.ProcessEnv = stripScope()): NodeJS.ProcessEnv {
  return ASAN_RUNTIME ? { ...env, LD_PRELOAD: ASAN_RUNTIME } : env;
}
