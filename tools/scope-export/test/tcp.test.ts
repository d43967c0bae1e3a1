/**
 * TCP for real: a net server on 127.0.0.1 receives the lines unchanged; when it goes away mid-stream
 * and comes back on the same port, scope-export reconnects and every line still arrives once.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { exporter, fixtureLines, fixtureText, runExporter, waitFor } from './helpers.js';

async function tcpReceiver(port = 0) {
  let text = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('data', (d: Buffer) => (text += d.toString('utf8')));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    lines: () => text.split('\n').filter((l) => l !== ''),
    /** Stop listening and cut every connection. */
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

test('the NDJSON lines arrive unchanged (a StatsD input line as its metric record)', async () => {
  const r = await tcpReceiver();
  try {
    const ran = await runExporter(['--to', `tcp://127.0.0.1:${r.port}`], fixtureText);
    assert.is(ran.status, 0, ran.stderr);
    await waitFor(() => r.lines().length >= fixtureLines.length, 'the lines');
    assert.equal(r.lines().slice(0, -1), fixtureLines.slice(0, -1));
    assert.equal(JSON.parse(r.lines().at(-1)!), {
      type: 'metric',
      body: { _metric: 'proc.cpu', _metric_type: 'counter', _value: 4339, proc: 'sleep', pid: 78871, host: 'web-2', unit: 'microsecond' },
    });
    assert.match(ran.stderr, `tcp://127.0.0.1:${r.port}: 9 sent, 0 dropped, 0 failed batches`);
  } finally {
    await r.close();
  }
});

test('the receiver closed and reopened on the same port mid-stream: the sender reconnects, all lines arrive', async () => {
  const first = await tcpReceiver();
  const port = first.port;
  const url = `tcp://127.0.0.1:${port}`;
  const line = (i: number) =>
    JSON.stringify({ type: 'evt', id: 'x', _channel: String(i), body: { sourcetype: 'fs', _time: 1700000000 + i, source: 'fs.open', host: 'h', proc: 'p', cmd: 'p', pid: 1, data: { n: i } } });
  const e = exporter(['--to', url, '--flush-ms', '0']);
  for (let i = 0; i < 10; i++) e.write(line(i) + '\n');
  await waitFor(() => first.lines().length === 10, 'the first ten lines');
  await first.close();
  await waitFor(() => e.err().includes('reconnecting'), 'the exporter to notice the closed connection');
  for (let i = 10; i < 20; i++) e.write(line(i) + '\n');
  await waitFor(() => e.err().includes('ECONNREFUSED; retrying'), 'a refused reconnection');
  const second = await tcpReceiver(port);
  for (let i = 20; i < 30; i++) e.write(line(i) + '\n');
  e.end();
  const status = await e.done;
  await second.close();
  assert.is(status, 0, e.err());
  assert.equal(
    [...first.lines(), ...second.lines()],
    Array.from({ length: 30 }, (_, i) => line(i)),
  );
  assert.match(e.err(), `${url}: 30 sent, 0 dropped, 0 failed batches`);
});

test('SIGTERM while stdin is still open: what was read is delivered, the summary is written, exit 0', async () => {
  const r = await tcpReceiver();
  try {
    const url = `tcp://127.0.0.1:${r.port}`;
    const e = exporter(['--to', url, '--flush-ms', '0']);
    e.write(fixtureLines.slice(0, 3).join('\n') + '\n');
    await waitFor(() => r.lines().length === 3, 'three lines');
    e.child.kill('SIGTERM');
    assert.is(await e.done, 0, e.err());
    assert.match(e.err(), `${url}: 3 sent, 0 dropped, 0 failed batches`);
  } finally {
    await r.close();
  }
});

test.run();
