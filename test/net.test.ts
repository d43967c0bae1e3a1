/**
 * The network side through the real tools: `scope run -p -- curl …` against a server started here
 * on a loopback port it picked. The session gets net and http events, and with -p/--payloads the
 * bytes of each direction in payloads/ under AppScope's names (<pid>_<peer>_<local>.in|.out);
 * without -p the directory stays empty.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { assertValidSession, envFor, events, newHome, readLast, runBin, scopeBin } from './lib/harness.js';

async function withServer<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const srv = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`you asked for ${req.url}\n`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    return await fn((srv.address() as AddressInfo).port);
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
}

for (const flag of ['-p', '--payloads']) {
  test(`scope run ${flag} -- curl: http events, and the payloads of both directions in the session`, async () => {
    await withServer(async (port) => {
      const home = newHome();
      const ran = await runBin(scopeBin, ['run', '--no-stream', flag, '--', 'curl', '-s', '--noproxy', '*', `http://127.0.0.1:${port}/e2e`], envFor(home));
      assert.is(ran.status, 0, ran.stderr);
      assert.is(ran.stdout, 'you asked for /e2e\n');
      const { session, events: ev } = await readLast(home);
      await assertValidSession(session);
      assert.equal(
        events(ev, 'http.req').map((e) => e.body.data.http_target),
        ['/e2e'],
      );
      assert.equal(
        events(ev, 'http.resp').map((e) => e.body.data.http_status_code),
        [200],
      );
      const local = events(ev, 'net.open')[0]?.body.data.net_host_port;
      const files = readdirSync(session.paths.payloads).sort();
      const pid = events(ev, 'net.open')[0]?.body.pid;
      assert.equal(files, [`${pid}_127.0.0.1:${port}_127.0.0.1:${local}.in`, `${pid}_127.0.0.1:${port}_127.0.0.1:${local}.out`]);
      const out = readFileSync(join(session.paths.payloads, files[1]!), 'latin1');
      assert.match(out, /^GET \/e2e HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
      const inp = readFileSync(join(session.paths.payloads, files[0]!), 'latin1');
      assert.match(inp, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nyou asked for \/e2e\n$/);
    });
  });
}

test('without -p no payload is written', async () => {
  await withServer(async (port) => {
    const home = newHome();
    const ran = await runBin(scopeBin, ['run', '--no-stream', '--', 'curl', '-s', '--noproxy', '*', `http://127.0.0.1:${port}/none`], envFor(home));
    assert.is(ran.status, 0, ran.stderr);
    const { session, events: ev } = await readLast(home);
    assert.is(events(ev, 'http.req').length, 1);
    assert.equal(readdirSync(session.paths.payloads), []);
  });
});

test.run();
