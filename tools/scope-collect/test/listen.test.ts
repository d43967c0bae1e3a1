import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { client, eventLine, finish, sendDatagrams, startCollect, umbrella, waitFor, writeInPieces } from './helpers.js';
import { tempDir } from '@scope/core/testing';

test('tcp: 3 concurrent clients sending records in 7-byte pieces (split mid-line): each record arrives once, whole, byte for byte', async () => {
  const N = 200;
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--count', String(3 * N)]);
  assert.match(c.urls[0] ?? '', /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
  const sent: string[] = [];
  await Promise.all(
    [1, 2, 3].map(async (k) => {
      const lines = Array.from({ length: N }, (_, n) => eventLine(k, n));
      sent.push(...lines);
      const sock = await client(c.urls[0] as string);
      await writeInPieces(sock, Buffer.from(lines.join('\n') + '\n'), 7);
      await finish(sock);
    }),
  );
  const status = await c.done;
  assert.is(status, 0, c.err());
  const got = c.lines();
  assert.is(got.length, 3 * N);
  assert.equal([...got].sort(), [...sent].sort(), 'the same lines, each once, unchanged');
  // Within one connection the order is kept.
  for (const k of [1, 2, 3]) {
    const mine = got.filter((l) => l.includes(`"proc":"app${k}"`));
    assert.equal(
      mine,
      sent.filter((l) => l.includes(`"proc":"app${k}"`)),
    );
  }
  assert.match(c.err(), new RegExp(`^scope-collect: ${3 * N} records from 3 connections, 0 bad lines$`, 'm'));
});

test('tcp: a last line without its newline counts when the connection ends', async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--count', '2']);
  const sock = await client(c.urls[0] as string);
  sock.write('{"type":"evt","n":1}\n{"type":"evt","n":2}');
  await finish(sock);
  assert.is(await c.done, 0, c.err());
  assert.equal(c.lines(), ['{"type":"evt","n":1}', '{"type":"evt","n":2}']);
});

test('udp: datagrams of one or several lines; each line a record', async () => {
  const c = await startCollect(['--listen', 'udp://127.0.0.1:0', '--count', '5']);
  assert.match(c.urls[0] ?? '', /^udp:\/\/127\.0\.0\.1:[1-9]\d*$/);
  await sendDatagrams(c.urls[0] as string, [eventLine(1, 1), `${eventLine(1, 2)}\n${eventLine(1, 3)}\n`, `${eventLine(1, 4)}\n${eventLine(1, 5)}`]);
  assert.is(await c.done, 0, c.err());
  assert.equal(
    c.lines(),
    [1, 2, 3, 4, 5].map((n) => eventLine(1, n)),
  );
  assert.match(c.err(), /^scope-collect: 5 records from 1 connection, 0 bad lines$/m);
});

test('unix path: records arrive; a stale socket file is replaced; ours is removed at exit', async () => {
  const dir = tempDir('scope-collect-');
  const path = join(dir, 'collect.sock');
  // A stale socket file: a listener made it and was killed before it could remove it.
  const first = await startCollect(['--listen', `unix://${path}`]);
  first.child.kill('SIGKILL');
  await first.done;
  assert.ok(existsSync(path), 'the killed listener left its socket file');

  const c = await startCollect(['--listen', `unix://${path}`, '--count', '3']);
  assert.is(c.urls[0], `unix://${path}`);
  const sock = await client(`unix://${path}`);
  await writeInPieces(sock, Buffer.from([1, 2, 3].map((n) => eventLine(2, n)).join('\n') + '\n'), 5);
  await finish(sock);
  assert.is(await c.done, 0, c.err());
  assert.equal(
    c.lines(),
    [1, 2, 3].map((n) => eventLine(2, n)),
  );
  assert.not.ok(existsSync(path), 'its socket file is gone');
});

test('unix path that something listens on: address in use (status 1); the socket file is left alone', async () => {
  const dir = tempDir('scope-collect-');
  const path = join(dir, 'busy.sock');
  const a = await startCollect(['--listen', `unix://${path}`]);
  const b = await startCollect(['--listen', `unix://${path}`], { listening: 1 });
  assert.is(await b.done, 1);
  assert.match(b.err(), new RegExp(`^scope-collect: unix://${path}: address in use$`, 'm'));
  assert.ok(existsSync(path));
  assert.is(await a.stop(), 0);
  assert.not.ok(existsSync(path));
});

test('unix abstract (unix://@name): records arrive', async () => {
  const name = `scope-collect-test-${process.pid}`;
  const c = await startCollect(['--listen', `unix://@${name}`, '--count', '2']);
  assert.is(c.urls[0], `unix://@${name}`);
  const sock = await client(`unix://@${name}`);
  sock.write(`${eventLine(3, 1)}\n${eventLine(3, 2)}\n`);
  await finish(sock);
  assert.is(await c.done, 0, c.err());
  assert.equal(c.lines(), [eventLine(3, 1), eventLine(3, 2)]);
});

test('StatsD lines (libscope with SCOPE_METRIC_FORMAT=statsd) become metric records; NDJSON metrics pass unchanged', async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--listen', 'udp://127.0.0.1:0', '--count', '4']);
  const sock = await client(c.urls[0] as string);
  sock.write('proc.cpu:4339|c|#proc:sleep,pid:78871,host:h,unit:microsecond\n');
  sock.write('{"type":"metric","body":{"_metric":"fs.read","_metric_type":"counter","_value":13312,"pid":7,"_time":1700000000.25}}\n');
  await finish(sock);
  await waitFor(() => c.lines().length === 2, 'the tcp records');
  await sendDatagrams(c.urls[1] as string, ['proc.mem:2048|g|#proc:sleep,pid:78871,unit:kibibyte\nnet.duration:12.5|ms']);
  assert.is(await c.done, 0, c.err());
  const recs = c.lines().map((l) => JSON.parse(l));
  const byName = Object.fromEntries(recs.map((r) => [r.body._metric, r]));
  const cpu = byName['proc.cpu'];
  assert.equal(Object.keys(cpu.body), ['_metric', '_metric_type', '_value', 'proc', 'pid', 'host', 'unit', '_time']);
  assert.equal({ ...cpu.body, _time: 0 }, { _metric: 'proc.cpu', _metric_type: 'counter', _value: 4339, proc: 'sleep', pid: 78871, host: 'h', unit: 'microsecond', _time: 0 });
  assert.is(cpu.type, 'metric');
  assert.type(cpu.body._time, 'number');
  assert.is(c.lines()[1], '{"type":"metric","body":{"_metric":"fs.read","_metric_type":"counter","_value":13312,"pid":7,"_time":1700000000.25}}');
  assert.equal({ ...byName['proc.mem'].body, _time: 0 }, { _metric: 'proc.mem', _metric_type: 'gauge', _value: 2048, proc: 'sleep', pid: 78871, unit: 'kibibyte', _time: 0 });
  assert.equal([byName['net.duration'].body._metric_type, byName['net.duration'].body._value], ['timer', 12.5]);
});

test('--tag-peer: body.collector_peer names the sender; the rest of the record is unchanged; a process-start record is left as is', async () => {
  const start = '{"format":"ndjson","info":{"process":{"pid":5}}}';
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--tag-peer', '--count', '3']);
  const sock = await client(c.urls[0] as string);
  const local = `tcp://127.0.0.1:${sock.localPort}`;
  sock.write(`${start}\n${eventLine(1, 1)}\n{"type":"metric","body":{}}\n`);
  await finish(sock);
  assert.is(await c.done, 0, c.err());
  const peer = JSON.stringify(local);
  assert.equal(c.lines(), [start, eventLine(1, 1).replace('"body":{', `"body":{"collector_peer":${peer},`), `{"type":"metric","body":{"collector_peer":${peer}}}`]);
});

test('SIGTERM: stops listening, flushes, prints the summary, status 0', async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0']);
  const sock = await client(c.urls[0] as string);
  sock.write(`${eventLine(1, 1)}\n${eventLine(1, 2)}\n`);
  await waitFor(() => c.lines().length === 2, 'the two records');
  assert.is(await c.stop(), 0);
  sock.destroy();
  assert.match(c.err(), /^scope-collect: 2 records from 1 connection, 0 bad lines$/m);
});

test('--idle-exit: ends by itself when nothing arrives, with the summary and status 0', async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--idle-exit', '1']);
  assert.is(await c.done, 0, c.err());
  assert.match(c.err(), /^scope-collect: 0 records from 0 connections, 0 bad lines$/m);
});

test('the umbrella runs it: scope collect', async () => {
  const c = await startCollect(['collect', '--listen', 'tcp://127.0.0.1:0', '--count', '1'], { command: [umbrella], listening: 1 });
  const sock = await client(c.urls[0] as string);
  sock.write(`${eventLine(1, 1)}\n`);
  await finish(sock);
  assert.is(await c.done, 0, c.err());
  assert.equal(c.lines(), [eventLine(1, 1)]);
});

test.run();
