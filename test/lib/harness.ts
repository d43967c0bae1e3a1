/**
 * What the end-to-end tests share: run the real `scope` bin in a fresh SCOPE_HOME, read the session
 * it made, and check every record against schemas/.
 */
import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastSession } from '@scope/core';
import type { Session } from '@scope/core';
import { formatFailures, validateNdjsonFile } from '@scope/schemas';
import { tempDir } from '@scope/core/testing';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const scopeBin = join(repoRoot, 'tools/scope/bin/scope.js');
export const scopeRunBin = join(repoRoot, 'tools/scope-run/bin/scope-run.js');

export function newHome(): string {
  return tempDir('scope-e2e-');
}

export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a node bin with args; stdout and stderr are pipes unless `stdio` says otherwise. */
export function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv, options: SpawnOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/** The environment for a run: ours, minus anything SCOPE_* that could leak in, plus a fresh home. */
export function envFor(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // FORCE_COLOR: uvu sets it in its own process; the tools honour it (@scope/core terminal.ts)
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SCOPE_') && k !== 'LD_PRELOAD' && k !== 'FORCE_COLOR') env[k] = v;
  return { ...env, SCOPE_HOME: home, ...extra };
}

export type Rec = Record<string, any>;

export function parseLines(text: string): Rec[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Rec);
}

export interface SessionRecords {
  session: Session;
  events: Rec[];
  metrics: Rec[];
}

export async function readLast(home: string): Promise<SessionRecords> {
  const session = await lastSession(home);
  if (!session) throw new Error(`no session in ${home}`);
  return {
    session,
    events: parseLines(readFileSync(session.paths.events, 'utf8')),
    metrics: parseLines(readFileSync(session.paths.metrics, 'utf8')),
  };
}

/** Throws with every failing line when a session's files hold a record schemas/ rejects. */
export async function assertValidSession(session: Session): Promise<void> {
  for (const file of [session.paths.events, session.paths.metrics]) {
    const report = await validateNdjsonFile(file);
    if (report.failures.length > 0) throw new Error(formatFailures(report, file));
  }
}

export const events = (recs: Rec[], source: string) => recs.filter((r) => r['type'] === 'evt' && r['body']?.source === source);
export const metrics = (recs: Rec[], name: string) => recs.filter((r) => r['type'] === 'metric' && r['body']?._metric === name);
export const startRecords = (recs: Rec[]) => recs.filter((r) => r['format'] === 'ndjson' && r['info']?.process);

// ---------------------------------------------------------------------------------------------------
// A real StatsD server (the `statsd` npm daemon, Etsy's), started by a test on loopback ports it
// picked, and stopped by it.
//
// How we read what it aggregated: statsd loads backends with `require(name)`, so the test writes a
// ten-line backend of its own into the server's temporary directory that appends each flush —
// exactly the `metrics` object statsd hands its graphite and console backends — as one JSON line
// to a file. Why not the alternatives:
//  - `./backends/console` prints `util.inspect` output (a JS literal, not JSON; quoting changes
//    with the key) and only the metrics of that one flush;
//  - the management port's `counters` / `gauges` also answer with `util.inspect`, and only what
//    came in since the last flush, which races the short flush interval we want.
// Summing the JSON flushes gives every counter's total whatever flush a datagram fell into. With
// deleteIdleStats a counter leaves statsd after the flush that reported it, so no flush repeats one.
// ---------------------------------------------------------------------------------------------------

/** One statsd flush as its backends see it. */
export interface StatsdFlush {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  timers: Record<string, number[]>;
  sets: Record<string, string[]>;
}

export interface StatsdServer {
  /** UDP port statsd listens on, on 127.0.0.1. */
  port: number;
  /** Its management TCP port, on 127.0.0.1. */
  mgmtPort: number;
  /** Flushes read so far (in order). */
  flushes(): StatsdFlush[];
  /** Send each line as one datagram, in order, then wait until statsd flushed all of them. */
  relay(lines: string[]): Promise<void>;
  /** Wait until statsd flushed everything that arrived before now (a sentinel datagram's round trip). */
  sync(): Promise<void>;
  /** What the daemon printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Stop the daemon (SIGTERM, then SIGKILL) and wait for it to be gone. */
  stop(): Promise<void>;
}

/** Keys the harness itself sends (probes, sentinels) and statsd's own counters: never the app's. */
export const statsdInternalKey = (key: string) => key.startsWith('scope_e2e.') || key.startsWith('statsd.');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port free on 127.0.0.1 right now (bind to 0, read it, let go). */
export async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => resolve());
    });
    const { port } = sock.address();
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const statsdBackendSource = `// written by test/lib/harness.ts: each statsd flush as one JSON line
const fs = require('fs');
exports.init = function (startupTime, config, events) {
  events.on('flush', function (ts, m) {
    const sets = {};
    for (const k in m.sets) sets[k] = m.sets[k].values();
    fs.appendFileSync(config.scopeE2eFlushFile,
      JSON.stringify({ ts: ts, counters: m.counters, gauges: m.gauges, timers: m.timers, sets: sets }) + '\\n');
  });
  return true;
};
`;
// statsd 0.9.0 logs with util.log, which Node 23 removed: give it one back when it is missing.
const statsdShimSource = `const util = require('util');
if (typeof util.log !== 'function') util.log = (m) => console.log(new Date().toString() + ' - ' + m);
`;

let statsdSeq = 0;

/**
 * Start `statsd` (node_modules/statsd/stats.js, run by this node) with a config file written here:
 * UDP on 127.0.0.1:<free port>, management on 127.0.0.1:<free port>, the given flush interval,
 * deleteIdleStats, and the JSON-lines backend above. Resolves once a probe datagram has come back in
 * a flush, so the UDP socket is known to be bound. Retries with other ports if one was taken meanwhile.
 */
export async function startStatsd(options: { flushIntervalMs?: number; dir?: string } = {}): Promise<StatsdServer> {
  const flushIntervalMs = options.flushIntervalMs ?? 500;
  const dir = options.dir ?? tempDir('scope-statsd-');
  const statsdMain = createRequire(import.meta.url).resolve('statsd/stats.js');
  const backend = join(dir, 'json-flush-backend.cjs');
  const shim = join(dir, 'util-log-shim.cjs');
  writeFileSync(backend, statsdBackendSource);
  writeFileSync(shim, statsdShimSource);
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort('udp');
    const mgmtPort = await freePort('tcp');
    const flushFile = join(dir, `flushes-${attempt}.ndjson`);
    const configFile = join(dir, `statsd-config-${attempt}.js`);
    writeFileSync(flushFile, '');
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          address: '127.0.0.1',
          port,
          mgmt_address: '127.0.0.1',
          mgmt_port: mgmtPort,
          flushInterval: flushIntervalMs,
          deleteIdleStats: true,
          backends: [backend],
          scopeE2eFlushFile: flushFile,
          automaticConfigReload: false,
        },
        null,
        2,
      ) + '\n',
    );
    const child = spawn(process.execPath, ['-r', shim, statsdMain, configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    let exited = false;
    const gone = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
      child.once('error', () => {
        exited = true;
        resolve();
      });
    });
    // Should the test runner die first, statsd must not outlive it.
    const reap = () => {
      if (!exited) child.kill('SIGKILL');
    };
    process.once('exit', reap);
    const sock = createSocket('udp4');
    sock.unref();
    const send = (line: string) => new Promise<void>((resolve, reject) => sock.send(Buffer.from(line), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

    const flushes = (): StatsdFlush[] =>
      readFileSync(flushFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as StatsdFlush);
    const seen = (key: string) => flushes().some((f) => key in f.counters);
    const stop = async () => {
      sock.close();
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(timer);
      }
      process.removeListener('exit', reap);
    };
    const sync = async () => {
      const sentinel = `scope_e2e.sync_${process.pid}_${++statsdSeq}`;
      await send(`${sentinel}:1|c`);
      const deadline = Date.now() + 10 * flushIntervalMs + 5000;
      while (!seen(sentinel)) {
        if (exited) throw new Error(`statsd exited while the test waited for a flush:\n${out}`);
        if (Date.now() > deadline) throw new Error(`statsd did not flush ${sentinel} in time:\n${out}`);
        await sleep(50);
      }
    };

    // Ready when a probe datagram has come back in a flush: the UDP socket is bound and flushes work.
    const probe = `scope_e2e.probe_${process.pid}_${++statsdSeq}`;
    const deadline = Date.now() + 10 * flushIntervalMs + 10000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      await send(`${probe}:1|c`).catch(() => undefined);
      await sleep(100);
      if (seen(probe)) {
        ready = true;
        break;
      }
    }
    if (ready) {
      return {
        port,
        mgmtPort,
        flushes,
        output: () => out,
        stop,
        sync,
        relay: async (lines: string[]) => {
          for (const line of lines) await send(line);
          await sync();
        },
      };
    }
    await stop();
    lastError = out;
    if (!/EADDRINUSE/.test(out)) break;
  }
  throw new Error(`statsd did not start:\n${lastError}`);
}
