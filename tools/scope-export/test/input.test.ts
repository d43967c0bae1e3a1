/**
 * Input and arguments: bad lines are named stdin:N, counted, and make the status 1 (--strict stops
 * at the first); usage errors are status 2 with a message naming the flag and the value.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { runExporter, waitFor } from './helpers.js';

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

const usage: [string[], RegExp][] = [
  [[], /say where to export: --to URL/],
  [['--to', 'http://x:1'], /--to: "http:\/\/x:1" has scheme "http"; expected statsd:\/\/host:port/],
  [['--to', 'udp://x:1'], /--to: "udp:\/\/x:1" has scheme "udp"/],
  [['--to', 'tcp://x'], /--to: "tcp:\/\/x" needs a port/],
  [['--to', 'nats://x:4222/a b'], /has subject "a b"/],
  [['--prometheus', '9102'], /--prometheus: "9102" is not host:port/],
  [['--to', 'tcp://x:1', '--batch', '0'], /--batch: "0" is not a whole number from 1 up/],
  [['--to', 'tcp://x:1', '--queue', 'lots'], /--queue: "lots" is not a whole number/],
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
