/**
 * StatsD for real: a dgram socket on 127.0.0.1 port 0 receives what scope-export sends; every line
 * is core's statsdLine of an input metric (with the prefix), datagrams stay within --statsd-max, and
 * events are skipped and counted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { parseLine, statsdLine } from '@scope/core';
import { fixtureLines, fixtureText, runExporter, waitFor } from './helpers.js';

async function udpReceiver() {
  const sock = createSocket('udp4');
  const datagrams: string[] = [];
  sock.on('message', (m) => datagrams.push(m.toString('utf8')));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  return { datagrams, url: `statsd://127.0.0.1:${sock.address().port}`, close: () => new Promise<void>((resolve) => sock.close(() => resolve())) };
}

const expected = (prefix: string) =>
  fixtureLines.flatMap((l) => {
    const p = parseLine(l);
    return p.kind === 'metric' ? [statsdLine(prefix + p.metric.name, p.metric.type, p.metric.value, p.metric.dims)] : [];
  });

test('metrics arrive as StatsD lines equal to statsdLine of the input, with the prefix; events are skipped and counted', async () => {
  const r = await udpReceiver();
  try {
    const ran = await runExporter(['--to', r.url, '--statsd-prefix', 'app.'], fixtureText);
    assert.is(ran.status, 0, ran.stderr);
    const want = expected('app.');
    assert.is(want.length, 5);
    await waitFor(() => r.datagrams.flatMap((d) => d.split('\n')).length >= want.length, 'the datagrams');
    assert.equal(
      r.datagrams.flatMap((d) => d.split('\n')),
      want,
    );
    assert.ok(want[0]!.startsWith('app.fs.read:13312|c|#'), want[0]);
    assert.match(ran.stderr, `${r.url}: 5 sent, 0 dropped, 0 failed batches, 4 skipped (not exported to statsd)`);
  } finally {
    await r.close();
  }
});

test('--statsd-max: several lines per datagram, none longer than the maximum; a line that cannot fit is dropped', async () => {
  const r = await udpReceiver();
  try {
    const metrics = Array.from({ length: 40 }, (_, i) => JSON.stringify({ type: 'metric', body: { _metric: `m.${i}`, _metric_type: 'gauge', _value: i, host: 'h' } }));
    const long = JSON.stringify({ type: 'metric', body: { _metric: 'long', _metric_type: 'gauge', _value: 1, note: 'x'.repeat(200) } });
    const ran = await runExporter(['--to', r.url, '--statsd-max', '100'], [...metrics, long].join('\n') + '\n');
    assert.is(ran.status, 1, 'a dropped line is a failure');
    await waitFor(() => r.datagrams.flatMap((d) => d.split('\n')).length >= 40, 'the datagrams');
    for (const d of r.datagrams) assert.ok(Buffer.byteLength(d) <= 100, `datagram of ${Buffer.byteLength(d)} bytes`);
    assert.ok(r.datagrams.length < 40, 'lines share datagrams');
    assert.equal(
      r.datagrams.flatMap((d) => d.split('\n')),
      metrics.map((_, i) => `m.${i}:${i}|g|#host:h`),
    );
    assert.match(ran.stderr, /longer than 100 bytes \(--statsd-max\)/);
    assert.match(ran.stderr, `${r.url}: 40 sent, 1 dropped`);
  } finally {
    await r.close();
  }
});

test.run();
