/**
 * StatsD acceptance: what a real StatsD server (the `statsd` npm daemon) aggregates from libscope's
 * StatsD lines equals what those lines say.
 *
 * libscope writes `name:value|type|#tag:value,…` (DogStatsD tags). statsd 0.9 understands that
 * suffix: it keys the metric `name;tag=value;…` (first `:` of each tag becomes `=`, then its key
 * sanitizer drops characters outside [A-Za-z0-9_.;=-], turns spaces into `_` and `/` into `-`), so
 * the same name under two tag sets (two processes: another pid) stays two series. Nothing is
 * stripped in the relay. The test does not re-implement the sanitizer: it compares
 *   - per metric name, summed over every tag set (what the name means across processes), and
 *   - per (name, pid): the key's first `;` segment is the name and its `pid=` segment the pid.
 * Counters (and `h`, which statsd counts as a counter) must be the sums of our values (÷ sample
 * rate), gauges our last value, timers our values, for every name in our output, whatever names
 * the library emits today (proc.*) or later (fs.*, net.*, …).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, newHome, readLast, runBin, scopeBin, startStatsd, statsdInternalKey } from './lib/harness.js';
import type { StatsdFlush, StatsdServer } from './lib/harness.js';

interface Line {
  raw: string;
  name: string;
  value: string;
  type: string;
  rate: number;
  tags: Map<string, string>;
}

/** One StatsD line as libscope writes it; a line we cannot read fails the test (it is our output). */
function parseStatsdLine(raw: string): Line {
  const m = /^([^:|#]+):([^|]+)\|([a-z]+)(?:\|@([0-9.]+))?(?:\|#(.*))?$/.exec(raw);
  if (!m) throw new Error(`not a StatsD line: ${JSON.stringify(raw)}`);
  const tags = new Map<string, string>();
  for (const t of (m[5] ?? '').split(',').filter((x) => x !== '')) {
    const i = t.indexOf(':');
    tags.set(i < 0 ? t : t.slice(0, i), i < 0 ? '' : t.slice(i + 1));
  }
  return { raw, name: m[1] as string, value: m[2] as string, type: m[3] as string, rate: m[4] ? Number(m[4]) : 1, tags };
}

type Agg = { counters: Record<string, number>; gauges: Record<string, number>; timers: Record<string, number[]> };
const emptyAgg = (): Agg => ({ counters: {}, gauges: {}, timers: {} });
const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Our side, aggregated the way statsd aggregates: by `group(line)`. */
function aggregateOurs(lines: Line[], group: (l: Line) => string): Agg {
  const agg = emptyAgg();
  for (const l of lines) {
    const k = group(l);
    const v = Number(l.value);
    if (l.type === 'g') {
      // statsd: a signed gauge value is a change to the last one
      agg.gauges[k] = /^[-+]/.test(l.value) && k in agg.gauges ? (agg.gauges[k] as number) + v : v;
    } else if (l.type === 'ms') {
      (agg.timers[k] ??= []).push(v);
    } else if (l.type !== 's') {
      agg.counters[k] = round((agg.counters[k] ?? 0) + v / l.rate);
    }
  }
  return agg;
}

/** statsd's side, over every flush: counters summed, gauges the last value, timers concatenated. */
function aggregateStatsd(flushes: StatsdFlush[], group: (key: string) => string): Agg {
  const agg = emptyAgg();
  for (const f of flushes) {
    for (const [key, v] of Object.entries(f.counters)) {
      if (statsdInternalKey(key)) continue;
      const k = group(key);
      agg.counters[k] = round((agg.counters[k] ?? 0) + v);
    }
    // A gauge is flushed again while its TTL lasts, with the same value: the last flush wins.
    const lastInFlush: Record<string, number> = {};
    for (const [key, v] of Object.entries(f.gauges)) if (!statsdInternalKey(key)) lastInFlush[group(key)] = v;
    Object.assign(agg.gauges, lastInFlush);
    for (const [key, vs] of Object.entries(f.timers)) if (!statsdInternalKey(key)) (agg.timers[group(key)] ??= []).push(...vs);
  }
  return agg;
}

/** {series key "name\0pid\0tags": last value} → {"name pid=…": sorted last values}. */
function gaugesPerPid(last: Record<string, number>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(last)) {
    const [name, pid] = k.split('\u0000');
    (out[`${name} pid=${pid}`] ??= []).push(v);
  }
  for (const vs of Object.values(out)) vs.sort((a, b) => a - b);
  return out;
}

const statsdName = (key: string) => key.split(';')[0] as string;
const statsdPid = (key: string) =>
  key
    .split(';')
    .find((s) => s.startsWith('pid='))
    ?.slice(4) ?? '?';
const sortTimers = (a: Agg) => {
  for (const k of Object.keys(a.timers)) a.timers[k]?.sort((x, y) => x - y);
  return a;
};

/** statsd's own counters over the flushes after `from`: datagram lines it took in and refused. */
function statsdIntake(flushes: StatsdFlush[], from: number) {
  let received = 0;
  let bad = 0;
  for (const f of flushes.slice(from)) {
    received += f.counters['statsd.metrics_received'] ?? 0;
    bad += f.counters['statsd.bad_lines_seen'] ?? 0;
  }
  return { received, bad };
}

/** The scoped workload: three processes (sh, cat, dd), and long enough for periodic reports. */
async function runScoped(home: string, metricDest: string) {
  const known = join(home, 'known.txt');
  writeFileSync(known, 'a file cat reads\n'.repeat(100));
  const script = `cat ${known} >/dev/null; dd if=/dev/zero of=${join(home, 'x')} bs=4096 count=10 2>/dev/null; sleep 1.2`;
  const ran = await runBin(
    scopeBin,
    ['run', '--no-stream', '--', 'sh', '-c', script],
    envFor(home, {
      SCOPE_METRIC_FORMAT: 'statsd',
      SCOPE_METRIC_DEST: metricDest,
      SCOPE_METRIC_VERBOSITY: '4',
      SCOPE_SUMMARY_PERIOD: '1',
    }),
  );
  assert.is(ran.status, 0, ran.stderr);
  return readLast(home);
}

test('statsd aggregates our StatsD lines (file destination, relayed one line per datagram) to their sums', async () => {
  const home = newHome();
  const file = join(home, 'metrics.statsd');
  let server: StatsdServer | undefined;
  try {
    server = await startStatsd({ flushIntervalMs: 500, dir: join(home) });
    const { session } = await runScoped(home, `file://${file}`);
    assert.ok(existsSync(file), `libscope wrote no ${file}`);
    const raw = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const lines = raw.map(parseStatsdLine);
    const counterLines = lines.filter((l) => l.type === 'c');
    assert.ok(counterLines.length > 0, `no counter line in ${file}:\n${raw.join('\n')}`);

    // The relay: each line of the file is one datagram, as a udp:// destination would send it.
    const before = server.flushes().length;
    await server.relay(raw);
    const flushes = server.flushes();
    const intake = statsdIntake(flushes, before);
    assert.is(intake.bad, 0, `statsd refused lines:\n${server.output()}`);
    assert.is(intake.received, raw.length + 1, 'statsd took in every line we sent, once (and the sentinel)');

    // Per name, over every tag set: every name in our output, and no name statsd made up.
    const oursByName = sortTimers(aggregateOurs(lines, (l) => l.name));
    const theirsByName = sortTimers(aggregateStatsd(flushes, statsdName));
    assert.equal(theirsByName.counters, oursByName.counters, 'counter sums per name');
    assert.equal(theirsByName.timers, oursByName.timers, 'timer values per name');

    // Per (name, pid): a tag set per process, kept apart by statsd.
    const byPid = (name: string, pid: string) => `${name} pid=${pid}`;
    const oursByPid = sortTimers(aggregateOurs(lines, (l) => byPid(l.name, l.tags.get('pid') ?? '?')));
    const theirsByPid = sortTimers(aggregateStatsd(flushes, (k) => byPid(statsdName(k), statsdPid(k))));
    assert.equal(theirsByPid.counters, oursByPid.counters, 'counter sums per name and pid');
    assert.equal(theirsByPid.timers, oursByPid.timers, 'timer values per name and pid');
    // Gauges: the last value of each series (tag set), gathered per (name, pid) as a sorted list,
    // since one process may report a gauge under several tag sets (one per file, say).
    const oursGauges = gaugesPerPid(aggregateOurs(lines, (l) => `${l.name}\u0000${l.tags.get('pid') ?? '?'}\u0000${[...l.tags].join(',')}`).gauges);
    const theirsGauges = gaugesPerPid(aggregateStatsd(flushes, (k) => `${statsdName(k)}\u0000${statsdPid(k)}\u0000${k}`).gauges);
    assert.equal(theirsGauges, oursGauges, 'last gauge values per name and pid');

    // The tags went through as tags: each process's proc.start is one series carrying its proc name.
    const starts = Object.keys(flushes.reduce((all, f) => Object.assign(all, f.counters), {} as Record<string, number>)).filter((k) => statsdName(k) === 'proc.start');
    const procs = starts.map((k) => k.split(';').find((s) => s.startsWith('proc='))).sort();
    assert.equal(procs, ['proc=cat', 'proc=dd', 'proc=sh', 'proc=sleep'], starts.join('\n'));
    assert.is(oursByName.counters['proc.start'], 4, 'one proc.start per process');
    assert.ok(
      starts.some((k) => k.includes(`;pid=${session.manifest.pid};`)),
      'the shell is keyed by its pid',
    );
  } finally {
    await server?.stop();
  }
});

test.run();
