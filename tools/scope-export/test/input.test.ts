/**
 * Input and arguments: bad lines are named stdin:N, counted, and make the status 1 (--strict stops
 * at the first); usage errors are status 2 with a message naming the flag and the value.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { exporter, runExporter, waitFor } from './helpers.js';

async function tcpReceiver() {
  let text = '';
  const server = createServer((s) => s.on('data', (d: Buffer) => (text += d.toString('utf8'))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, lines: () => text.split('\n').filter((l) => l !== ''), close: () => new Promise<void>((r) => server.close(() => r())) };
}

const good = (i: number) => JSON.stringify({ type: 'metric', body: { _metric: 'm', _metric_type: 'gauge', _value: i } });

test('bad lines: stdin:N and why on stderr, the good ones still exported, exit 1', async () => {
  const r = await tcpReceiver();
  try {
    const input = [good(1), '{"type": nope}', good(2), '[1,2]', '{"type":"metric","body":{"_metric":"x"}}', 'name:abc|c', '{"type":"evt","body":3}', '', good(3)].join('\n') + '\n';
    const ran = await runExporter(['--to', r.url], input);
    assert.is(ran.status, 1);
    assert.match(ran.stderr, /^scope-export: stdin:2: .*JSON/m);
    assert.match(ran.stderr, /^scope-export: stdin:4: not a JSON object$/m);
    assert.match(ran.stderr, /^scope-export: stdin:5: metric record: "_metric_type" is not one of/m);
    assert.match(ran.stderr, /^scope-export: stdin:6: StatsD value "abc" is not a number/m);
    assert.match(ran.stderr, /^scope-export: stdin:7: event record without a "body" object/m);
    await waitFor(() => r.lines().length === 3, 'the good lines');
    assert.equal(r.lines(), [good(1), good(2), good(3)]);
    assert.match(ran.stderr, `${r.url}: 3 sent, 0 dropped, 0 failed batches`);
  } finally {
    await r.close();
  }
});

test('--strict stops at the first bad line: what came before is delivered, exit 1', async () => {
  const r = await tcpReceiver();
  try {
    const ran = await runExporter(['--to', r.url, '--strict'], [good(1), 'junk', good(2)].join('\n') + '\n');
    assert.is(ran.status, 1);
    assert.match(ran.stderr, /stdin:2:/);
    assert.equal(r.lines(), [good(1)]);
  } finally {
    await r.close();
  }
});

test('--queue: a full queue drops its oldest records, counted, exit 1', async () => {
  // A destination that never comes up holds at most --queue records.
  const input = Array.from({ length: 10 }, (_, i) => good(i)).join('\n') + '\n';
  const ran = await runExporter(['--to', 'tcp://127.0.0.1:1', '--queue', '3', '--batch', '100', '--drain-timeout', '0.5'], input);
  assert.is(ran.status, 1);
  assert.match(ran.stderr, /queue full \(3 records\); dropping the oldest/);
  assert.match(ran.stderr, /tcp:\/\/127\.0\.0\.1:1: 0 sent, 10 dropped, 1 failed batch/);
});

/** The child's peak resident memory so far (VmHWM in /proc/<pid>/status), in bytes. */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

test('--queue-bytes: a dead destination fed 200 MB holds a bounded queue, frees what it drops, counts it', async () => {
  // 200 000 records of about 1 KB to a port nobody listens on; the record bound is out of the way,
  // so only the byte bound (4 MiB) keeps the queue small. Before, every dropped record stayed
  // referenced by the queue's array while the batch was retried: hundreds of MB here (550 MB), 1.6 GB for 4 M.
  const pad = 'x'.repeat(1000);
  const count = 200_000;
  const e = exporter(['--to', 'tcp://127.0.0.1:1', '--queue', '10000000', '--queue-bytes', '4M', '--drain-timeout', '0.2']);
  try {
    const write = (text: string) => new Promise<void>((resolve, reject) => e.child.stdin.write(text, (err) => (err ? reject(err) : resolve())));
    for (let i = 0; i < count; i += 1000) {
      const lines: string[] = [];
      for (let j = i; j < i + 1000; j++) lines.push(JSON.stringify({ type: 'metric', body: { _metric: 'm', _metric_type: 'gauge', _value: j, pad } }));
      await write(lines.join('\n') + '\n');
    }
    const peak = peakRss(e.child.pid as number);
    e.end();
    assert.is(await e.done, 1, e.err());
    assert.ok(peak < 256 * 1024 * 1024, `peak RSS ${(peak / 1048576).toFixed(0)} MB with a 4 MiB queue`);
    assert.match(e.err(), /queue full \(4194304 bytes\); dropping the oldest/);
    assert.match(e.err(), `tcp://127.0.0.1:1: 0 sent, ${count} dropped`);
  } finally {
    e.child.kill();
  }
});

test('--queue-bytes: a record larger than the whole queue is dropped and counted, the others kept', async () => {
  const r = await tcpReceiver();
  try {
    const big = JSON.stringify({ type: 'metric', body: { _metric: 'm', _metric_type: 'gauge', _value: 0, pad: 'y'.repeat(5000) } });
    const ran = await runExporter(['--to', r.url, '--queue-bytes', '4K'], [good(1), big, good(2)].join('\n') + '\n');
    assert.is(ran.status, 1);
    assert.match(ran.stderr, /a record of \d+ bytes is larger than the queue \(4096 bytes\); it is dropped/);
    await waitFor(() => r.lines().length === 2, 'the small records');
    assert.equal(r.lines(), [good(1), good(2)]);
    assert.match(ran.stderr, `${r.url}: 2 sent, 1 dropped`);
  } finally {
    await r.close();
  }
});

const usage: [string[], RegExp][] = [
  [[], /say where to export: --to URL/],
  [['--to', 'http://x:1'], /--to: "http:\/\/x:1" has scheme "http"; expected statsd:\/\/host:port/],
  [['--to', 'udp://x:1'], /--to: "udp:\/\/x:1" has scheme "udp"/],
  [['--to', 'tcp://x'], /--to: "tcp:\/\/x" needs a port/],
  [['--to', 'nats://x:4222/a b'], /has subject "a b"/],
  [['--prometheus', '9102'], /--prometheus: "9102" is not host:port/],
  [['--to', 'tcp://x:1', '--batch', '0'], /--batch: "0" is not a whole number from 1 up/],
  [['--to', 'tcp://x:1', '--queue', 'lots'], /--queue: "lots" is not a whole number/],
  [['--to', 'tcp://x:1', '--queue-bytes', '10Q'], /--queue-bytes: "10Q" is not a size of at least 1024 bytes/],
  [['--to', 'tcp://x:1', '--drain-timeout', '-1'], /--drain-timeout: "-1" is not a number of seconds/],
  [['--to', 'tcp://x:1', '--otlp-encoding', 'xml'], /otlp-encoding/],
  [['--to', 'tcp://x:1', '--exit-on-eof'], /--exit-on-eof goes with --prometheus/],
  [['--to', 'tcp://x:1', '--bogus'], /unknown option "--bogus"/],
];

for (const [args, message] of usage) {
  test(`usage error, status 2: scope-export ${args.join(' ')}`, async () => {
    const ran = await runExporter(args, '');
    assert.is(ran.status, 2, ran.stderr);
    assert.match(ran.stderr, message);
  });
}

test.run();
