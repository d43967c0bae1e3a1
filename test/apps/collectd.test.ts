/**
 * libscope's StatsD, sent over its udp:// metric destination, read by collectd's statsd plugin
 * (Debian collectd-core, started here on a loopback port with the csv writer): the values collectd
 * reports equal what libscope sent.
 *
 * Between the two sits a small UDP relay of the test's own: it keeps every datagram libscope sent
 * (that is "ours") and forwards it unchanged to collectd. collectd's statsd parser takes
 * `name:value|type[|@rate]` only — a DogStatsD `|#tags` suffix makes it drop the line — so the run
 * uses verbosity 0, where libscope writes no dimensions at all; the prefix keeps this run's names
 * apart. What collectd keeps, per name (csv with StoreRates false):
 *   counter `c`  → derive-<name>: the running total, so its last row = the sum of our values;
 *   gauge `g`    → gauge-<name>: its last row = our last value;
 *   timer `ms`   → latency-<name>-sum and gauge-<name>-count per interval (nan when none): their
 *                  sums over the rows = the sum and the count of our values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, freePort, newHome, runBin, scopeBin } from '../lib/harness.js';
import { tempDir } from '@scope/core/testing';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Collectd {
  dir: string;
  port: number;
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

async function startCollectd(): Promise<Collectd> {
  const dir = tempDir('scope-collectd-');
  const port = await freePort('udp');
  const conf = join(dir, 'collectd.conf');
  writeFileSync(
    conf,
    [
      'Hostname "scopetest"',
      'FQDNLookup false',
      'Interval 1',
      `BaseDir "${dir}"`,
      `PIDFile "${dir}/collectd.pid"`,
      'TypesDB "/usr/share/collectd/types.db"',
      'LoadPlugin logfile',
      `<Plugin logfile>\n  LogLevel info\n  File "${dir}/log"\n</Plugin>`,
      'LoadPlugin statsd',
      'LoadPlugin csv',
      `<Plugin statsd>\n  Host "127.0.0.1"\n  Port "${port}"\n  TimerSum true\n  TimerCount true\n</Plugin>`,
      `<Plugin csv>\n  DataDir "${dir}/csv"\n  StoreRates false\n</Plugin>`,
      '',
    ].join('\n'),
  );
  const proc = spawn('collectd', ['-C', conf, '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (d) => (output += d));
  proc.stderr?.on('data', (d) => (output += d));
  const log = () => (existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '') + output;
  const deadline = Date.now() + 20_000;
  while (!/entering read-loop/.test(log())) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`collectd did not start:\n${log()}`);
    await sleep(100);
  }
  return {
    dir,
    port,
    proc,
    log,
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Rows `time,value` of the csv file collectd writes for `stem` (derive-NAME, gauge-NAME, …). */
function csvValues(dir: string, stem: string): number[] {
  const where = join(dir, 'csv', 'scopetest', 'statsd');
  if (!existsSync(where)) return [];
  const values: number[] = [];
  for (const f of readdirSync(where)
    .filter((f) => f.startsWith(`${stem}-`) && /^\d{4}-\d\d-\d\d$/.test(f.slice(stem.length + 1)))
    .sort()) {
    for (const line of readFileSync(join(where, f), 'utf8').split('\n')) {
      const m = /^[\d.]+,(.+)$/.exec(line);
      if (m) values.push(Number(m[1]));
    }
  }
  return values;
}

interface Ours {
  counters: Map<string, number>;
  gauges: Map<string, number>;
  timers: Map<string, number[]>;
  other: string[];
}

function parseOurs(lines: string[]): Ours {
  const ours: Ours = { counters: new Map(), gauges: new Map(), timers: new Map(), other: [] };
  for (const line of lines) {
    const m = /^([^:|]+):(-?[\d.]+)\|(c|g|ms)$/.exec(line);
    if (!m) {
      ours.other.push(line);
      continue;
    }
    const [, name = '', text = '', type] = m;
    const v = Number(text);
    if (type === 'c') ours.counters.set(name, (ours.counters.get(name) ?? 0) + v);
    else if (type === 'g') ours.gauges.set(name, v);
    else ours.timers.set(name, [...(ours.timers.get(name) ?? []), v]);
  }
  return ours;
}

/** Where collectd's view differs from ours ([] when equal). */
function differences(dir: string, ours: Ours): string[] {
  const diffs: string[] = [];
  const last = (xs: number[]) => xs[xs.length - 1];
  const sum = (xs: number[]) => xs.filter((x) => !Number.isNaN(x)).reduce((a, b) => a + b, 0);
  for (const [name, v] of ours.counters) {
    const got = last(csvValues(dir, `derive-${name}`));
    if (got !== v) diffs.push(`counter ${name}: ours ${v}, collectd ${got}`);
  }
  for (const [name, v] of ours.gauges) {
    const got = last(csvValues(dir, `gauge-${name}`));
    if (got !== v) diffs.push(`gauge ${name}: ours ${v}, collectd ${got}`);
  }
  for (const [name, vs] of ours.timers) {
    const gotSum = sum(csvValues(dir, `latency-${name}-sum`));
    const gotCount = sum(csvValues(dir, `gauge-${name}-count`));
    const ourSum = vs.reduce((a, b) => a + b, 0);
    if (Math.abs(gotSum - ourSum) > 1e-6 || gotCount !== vs.length) {
      diffs.push(`timer ${name}: ours sum ${ourSum} count ${vs.length}, collectd sum ${gotSum} count ${gotCount}`);
    }
  }
  return diffs;
}

test("libscope's StatsD over udp:// read by collectd's statsd plugin: collectd reports our values", async () => {
  const collectd = await startCollectd();
  const relay = createSocket('udp4');
  const sent: string[] = [];
  relay.on('message', (msg) => {
    sent.push(
      ...msg
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
    relay.send(msg, collectd.port, '127.0.0.1');
  });
  await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', () => resolve()));
  const relayPort = relay.address().port;
  const prefix = `scope${process.pid}.`;
  try {
    // One process (gauges are per process, and at verbosity 0 nothing tells two apart), ~2.5 s with
    // a 1 s summary period: several periods of proc.* and fs.* values.
    const program = "import time\nfor i in range(5):\n    [open('/etc/hostname').read() for _ in range(20)]\n    time.sleep(0.5)\n";
    const home = newHome();
    const ran = await runBin(
      scopeBin,
      ['run', '--no-stream', '-m', `udp://127.0.0.1:${relayPort}`, '--metricformat', 'statsd', '-v', '0', '--', 'python3', '-c', program],
      envFor(home, { SCOPE_SUMMARY_PERIOD: '1', SCOPE_STATSD_PREFIX: prefix }),
    );
    assert.is(ran.status, 0, ran.stderr);
    const ours = parseOurs(sent);
    assert.equal(ours.other, [], 'every line libscope sent is plain StatsD collectd takes');
    for (const name of ['proc.cpu', 'fs.open', 'fs.read']) assert.ok(ours.counters.has(prefix + name), `we sent ${prefix}${name}: ${sent.join(' ')}`);
    for (const name of ['proc.mem', 'proc.thread']) assert.ok(ours.gauges.has(prefix + name), `we sent ${prefix}${name}`);
    assert.ok(ours.counters.get(`${prefix}fs.open`)! >= 100, 'the 100 opens are counted');
    // collectd writes each interval (1 s); wait until what it wrote agrees, or show how it differs.
    let diffs = differences(collectd.dir, ours);
    const deadline = Date.now() + 20_000;
    while (diffs.length > 0 && Date.now() < deadline) {
      await sleep(250);
      diffs = differences(collectd.dir, ours);
    }
    assert.equal(diffs, [], `collectd's values equal ours\n${collectd.log()}`);
    assert.not.match(collectd.log(), /Unable to parse/, 'collectd parsed every line');
  } finally {
    relay.close();
    await collectd.stop();
  }
});

test('the comparison can fail: a value collectd never saw is reported as a difference', async () => {
  const collectd = await startCollectd();
  try {
    const diffs = differences(collectd.dir, parseOurs(['never.sent:3|c', 'never.gauge:1|g']));
    assert.equal(diffs.length, 2);
  } finally {
    await collectd.stop();
  }
});

test.run();
