import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { bin, client, eventLine, finish, sendDatagrams, startCollect, waitFor } from './helpers.js';

function runNow(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bad lines: reported with the sender and its line number, counted, the rest goes on; status 1 at the end', async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--listen', 'udp://127.0.0.1:0', '--count', '3']);
  const sock = await client(c.urls[0] as string);
  const peer = `tcp://127.0.0.1:${sock.localPort}`;
  sock.write(`${eventLine(1, 1)}\nhello world\n{"type":"evt",\n[1,2]\n\n${eventLine(1, 2)}\nproc.cpu:abc|c\n`);
  await finish(sock);
  await waitFor(() => c.lines().length === 2, 'the good tcp records');
  await sendDatagrams(c.urls[1] as string, [Buffer.concat([Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(eventLine(2, 1))])]);
  assert.is(await c.done, 1);
  assert.equal(c.lines(), [eventLine(1, 1), eventLine(1, 2), eventLine(2, 1)]);
  const err = c.err();
  assert.match(err, `scope-collect: ${peer}:2: not a JSON object or a StatsD line`);
  assert.match(err, `\n  hello world\n`);
  assert.match(err, `scope-collect: ${peer}:3: `);
  assert.match(err, `scope-collect: ${peer}:4: not a JSON object`);
  assert.match(err, `scope-collect: ${peer}:7: StatsD value "abc" is not a number`);
  assert.match(err, /scope-collect: udp:\/\/127\.0\.0\.1:\d+:1: not valid UTF-8\n/);
  assert.match(err, /^scope-collect: 3 records from 2 connections, 5 bad lines$/m);
});

test('--strict: ends at the first bad line with status 1', async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--strict']);
  const sock = await client(c.urls[0] as string);
  sock.on('error', () => {});
  sock.write(`${eventLine(1, 1)}\nnot a record\n${eventLine(1, 2)}\n`);
  assert.is(await c.done, 1);
  sock.destroy();
  assert.equal(c.lines(), [eventLine(1, 1)]);
  assert.match(c.err(), /:2: not a JSON object or a StatsD line/);
  assert.match(c.err(), /^scope-collect: 1 record from 1 connection, 1 bad line$/m);
});

test('--max-line: a longer line is reported and dropped; the connection goes on', async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--max-line', '1000', '--count', '2']);
  const sock = await client(c.urls[0] as string);
  const big = `{"type":"evt","pad":"${'x'.repeat(5000)}"}`;
  sock.write(`${eventLine(1, 1)}\n`);
  sock.write(big.slice(0, 800));
  sock.write(big.slice(800) + '\n');
  sock.write(`${eventLine(1, 2)}\n`);
  await finish(sock);
  assert.is(await c.done, 1);
  assert.equal(c.lines(), [eventLine(1, 1), eventLine(1, 2)]);
  assert.match(c.err(), /^scope-collect: tcp:\/\/127\.0\.0\.1:\d+:2: line longer than 1000 bytes \(dropped\)$/m);
  assert.match(c.err(), /^scope-collect: 2 records from 1 connection, 1 bad line$/m);
});

test('address in use: status 1 and the URL with the reason', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  try {
    const r = runNow(['--listen', `tcp://127.0.0.1:${port}`]);
    assert.is(r.status, 1);
    assert.is(r.stderr, `scope-collect: tcp://127.0.0.1:${port}: address in use\n`);
  } finally {
    server.close();
  }
});

const usage: [string, string[], RegExp][] = [
  ['neither --listen nor --from', [], /say where records come from: --listen/],
  ['a bad URL', ['--listen', 'localhost:9109'], /--listen: "localhost:9109" is not a URL/],
  ['a scheme it cannot listen on', ['--listen', 'statsd://127.0.0.1:8125'], /--listen: "statsd:\/\/127\.0\.0\.1:8125" has scheme "statsd"/],
  ['a tcp URL without a port', ['--listen', 'tcp://127.0.0.1'], /--listen: "tcp:\/\/127\.0\.0\.1" needs a port/],
  ['--from that is not NATS', ['--from', 'tcp://127.0.0.1:4222/x'], /--from: "tcp:\/\/127\.0\.0\.1:4222\/x" has scheme "tcp"/],
  ['--from without a subject', ['--from', 'nats://127.0.0.1:4222'], /--from: "nats:\/\/127\.0\.0\.1:4222" needs a subject/],
  ['--queue-group without --from', ['--listen', 'tcp://127.0.0.1:0', '--queue-group', 'g'], /--queue-group is for --from/],
  ['--count not a number', ['--listen', 'tcp://127.0.0.1:0', '--count', 'ten'], /--count: "ten" is not a whole number/],
  ['--max-line 0', ['--listen', 'tcp://127.0.0.1:0', '--max-line', '0'], /--max-line: "0" is not a whole number of at least 1/],
  ['an unknown option', ['--listen', 'tcp://127.0.0.1:0', '--bogus'], /unknown option "--bogus"/],
];
for (const [what, args, message] of usage) {
  test(`usage error (status 2): ${what}`, () => {
    const r = runNow(args);
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr.split('\n')[0] ?? '', message);
    assert.match(r.stderr, /USAGE/);
    assert.is(r.stdout, '');
  });
}

test('EPIPE: the reader of stdout goes away (| head -n 1): ends quietly with status 0', async () => {
  // A real shell pipe, so scope-collect writes into the pipe head reads (and closes).
  const sh = spawn('bash', ['-c', `"${process.execPath}" "${bin}" --listen tcp://127.0.0.1:0 | head -n 1; echo "collect status \${PIPESTATUS[0]}" >&2`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  sh.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  sh.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let ended = false;
  const done = new Promise<void>((resolve) =>
    sh.on('close', () => {
      ended = true;
      resolve();
    }),
  );
  await waitFor(() => /listening on/.test(stderr), 'listening');
  const url = /listening on (\S+)/.exec(stderr)?.[1] as string;
  const sock = await client(url);
  sock.on('error', () => {});
  // Keep sending until scope-collect is gone: head has taken its line and left.
  for (let n = 0; !ended && n < 1_000_000; n++) {
    await new Promise<void>((resolve) => sock.write(`${eventLine(1, n)}\n`, () => resolve()));
  }
  await done;
  sock.destroy();
  assert.is(stdout, `${eventLine(1, 0)}\n`);
  assert.match(stderr, /^collect status 0$/m);
  assert.not.match(stderr, /EPIPE|Error/);
});

test.run();
