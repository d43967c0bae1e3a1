/**
 * A real session: a node HTTP server on a loopback port, curl run under `scope run -p`, then
 * scope-flows on that session.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './helpers.js';
import { noForcedColour, tempDir } from '@scope/core/testing';

const scopeJs = fileURLToPath(new URL('../../../scope/bin/scope.js', import.meta.url));
const BODY = 'hello from the test server\n';

test('scope run -p curl: the flow, its byte counts and its payloads', async () => {
  const server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const home = tempDir('scope-flows-real-');
  try {
    // Asynchronous: the server answers from this same process.
    const child = spawn(process.execPath, [scopeJs, 'run', '--no-stream', '-p', '--', 'curl', '-s', `http://127.0.0.1:${port}/x`], {
      env: { ...noForcedColour(), SCOPE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.is(status, 0, err);
    assert.is(out, BODY, 'curl got the answer');
  } finally {
    server.close();
  }
  const dir = join(home, 'history', readdirSync(join(home, 'history'))[0]!);
  const closes = readFileSync(join(dir, 'events.json'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"net.close"'))
    .map((l) => JSON.parse(l) as { _channel: string; body: { pid: number; data: Record<string, unknown> } })
    .filter((e) => e.body.data['net_peer_port'] === port);
  assert.is(closes.length, 1, 'one net.close for the connection to the server');
  const close = closes[0]!;

  const r = run(['--json'], { env: { SCOPE_HOME: home } });
  assert.is(r.status, 0, r.stderr);
  const flows = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const flow = flows.find((f) => f['peer_port'] === port);
  assert.ok(flow, `a flow to port ${port} in ${r.stdout}`);
  assert.is(flow['peer'], `127.0.0.1:${port}`);
  assert.is(flow['pid'], close.body.pid);
  assert.is(flow['channel'], close._channel);
  assert.is(flow['bytes_in'], close.body.data['net_bytes_recv']);
  assert.is(flow['bytes_out'], close.body.data['net_bytes_sent']);
  assert.is(flow['close'], 'local');
  assert.match(String(flow['protocol']), /^IP\.TCP/);
  assert.ok(typeof flow['payload_in'] === 'string' && typeof flow['payload_out'] === 'string', 'payload paths');

  const table = run(['--pretty'], { env: { SCOPE_HOME: home } });
  assert.is(table.status, 0);
  assert.match(table.stdout, new RegExp(`127\\.0\\.0\\.1:${port}`));

  const id = String(flow['id']);
  const sent = run(['--out', id], { env: { SCOPE_HOME: home } });
  assert.is(sent.status, 0, sent.stderr);
  assert.ok(sent.stdout.startsWith('GET /x HTTP/1.1\r\n'), sent.stdout);
  assert.match(sent.stdout, `Host: 127.0.0.1:${port}\r\n`);
  assert.is(sent.raw.length, close.body.data['net_bytes_sent']);
  const received = run(['--in', id], { env: { SCOPE_HOME: home } });
  assert.is(received.status, 0, received.stderr);
  assert.ok(received.stdout.startsWith('HTTP/1.1 200 OK\r\n'), received.stdout);
  assert.ok(received.stdout.endsWith(`\r\n\r\n${BODY}`));
  assert.is(received.raw.length, close.body.data['net_bytes_recv']);
});

test.run();
