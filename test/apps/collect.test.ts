/**
 * scope-collect --from nats://…: a real nats-server (Debian's `nats-server`, test/apps/install.sh) on a
 * loopback port this test picked, records published with the `nats` client to the subjects
 * scope-export uses (<subject>.<host>.<sourcetype>, <subject>.<host>.metric). Each arrives once and
 * unchanged; two collectors in one queue group share them; when the server is killed and started again
 * on the same port, the collector reconnects by itself and receives what is published afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { freePort, repoRoot } from '../lib/harness.js';
import { natsServer, start, stop, waitFor } from '../lib/procs.js';
import type { Proc } from '../lib/procs.js';

const collectBin = join(repoRoot, 'tools/scope-collect/bin/scope-collect.js');

function collect(args: string[]): Proc {
  return start(process.execPath, [collectBin, ...args]);
}

const lines = (p: Proc) =>
  p
    .out()
    .split('\n')
    .filter((l) => l !== '');

/** An event record as libscope writes one (numbers and escapes that re-serialising would change). */
const event = (host: string, n: number) =>
  `{"type":"evt","id":"${host}-app-app","_channel":"${n}","body":{"sourcetype":"fs","_time":1700000000.100000,"source":"fs.open",` +
  `"host":"${host}","proc":"app","cmd":"app","pid":42,"data":{"file":"/tmp/\\u00e9${n}","op":"open","v":2.50}}}`;
const metric = (host: string, n: number) => `{"type":"metric","body":{"_metric":"fs.read","_metric_type":"counter","_value":${n},"proc":"app","pid":42,"host":"${host}","_time":1700000000.0}}`;

async function publisher(port: number): Promise<NatsConnection> {
  return connect({ servers: `127.0.0.1:${port}`, maxReconnectAttempts: -1, reconnectTimeWait: 100, waitOnFirstConnect: true });
}

test('--from nats://…/scope: records published to scope.<host>.<sourcetype> arrive once each, unchanged; a bad one is reported with its subject', async () => {
  const port = await freePort('tcp');
  const server = await natsServer(port);
  const c = collect(['--from', `nats://127.0.0.1:${port}/scope`]);
  try {
    await waitFor(
      () => /receiving scope\.> from nats:\/\/127\.0\.0\.1:\d+/.test(c.err()),
      () => `scope-collect to subscribe: ${c.err()}`,
    );
    const nc = await publisher(port);
    const sent: string[] = [];
    for (let n = 0; n < 50; n++) {
      for (const [subject, rec] of [
        [`scope.h1.fs`, event('h1', n)],
        [`scope.h2.fs`, event('h2', n)],
        [`scope.h1.metric`, metric('h1', n)],
      ] as const) {
        nc.publish(subject, new TextEncoder().encode(rec));
        sent.push(rec);
      }
    }
    nc.publish('scope.h2.fs', new TextEncoder().encode('this is not a record'));
    nc.publish('other.h1.fs', new TextEncoder().encode(event('other', 1)));
    nc.publish('scopeX.h1.fs', new TextEncoder().encode(event('other', 2)));
    await nc.flush();
    await nc.close();
    await waitFor(
      () => lines(c).length >= sent.length && /not a JSON object or a StatsD line/.test(c.err()),
      () => `${sent.length} records (got ${lines(c).length}): ${c.err()}`,
    );
    await stop(c);
    assert.equal([...lines(c)].sort(), [...sent].sort(), 'each record once, byte for byte; nothing from other subjects');
    assert.match(c.err(), new RegExp(`^scope-collect: nats://127\\.0\\.0\\.1:${port}/scope\\.h2\\.fs:51: not a JSON object or a StatsD line`, 'm'));
    assert.match(c.err(), /^scope-collect: 150 records from 1 connection, 1 bad line$/m);
  } finally {
    c.child.kill('SIGKILL');
    await stop(server);
  }
});

test('--queue-group: two collectors in one group share the messages, each message to one of them', async () => {
  const port = await freePort('tcp');
  const server = await natsServer(port);
  const a = collect(['--from', `nats://127.0.0.1:${port}/scope`, '--queue-group', 'central']);
  const b = collect(['--from', `nats://127.0.0.1:${port}/scope`, '--queue-group', 'central']);
  try {
    for (const p of [a, b])
      await waitFor(
        () => /receiving scope\.> from .* in queue group central/.test(p.err()),
        () => p.err(),
      );
    const nc = await publisher(port);
    const sent = Array.from({ length: 200 }, (_, n) => event(`h${n % 4}`, n));
    for (const rec of sent) nc.publish(`scope.${JSON.parse(rec).body.host}.fs`, new TextEncoder().encode(rec));
    await nc.flush();
    await nc.close();
    await waitFor(
      () => lines(a).length + lines(b).length >= sent.length,
      () => `${sent.length} records in all`,
    );
    await Promise.all([stop(a), stop(b)]);
    assert.equal([...lines(a), ...lines(b)].sort(), [...sent].sort(), 'each record exactly once between the two');
  } finally {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await stop(server);
  }
});

test('the NATS server is killed and started again on the same port: scope-collect says so, reconnects and receives later records', async () => {
  const port = await freePort('tcp');
  let server = await natsServer(port);
  const c = collect(['--from', `nats://127.0.0.1:${port}/scope`]);
  try {
    await waitFor(
      () => /receiving scope\.>/.test(c.err()),
      () => c.err(),
    );
    const before = await publisher(port);
    before.publish('scope.h1.fs', new TextEncoder().encode(event('h1', 1)));
    await before.flush();
    await before.close();
    await waitFor(
      () => lines(c).length === 1,
      () => `the first record: ${c.err()}`,
    );

    server.child.kill('SIGKILL');
    await server.done;
    await waitFor(
      () => /server went away; reconnecting/.test(c.err()),
      () => `the disconnect message: ${c.err()}`,
    );
    server = await natsServer(port);
    await waitFor(
      () => /reconnected; receiving scope\.> again/.test(c.err()),
      () => `the reconnect message: ${c.err()}`,
    );

    const after = await publisher(port);
    for (let n = 2; n <= 11; n++) after.publish('scope.h1.fs', new TextEncoder().encode(event('h1', n)));
    await after.flush();
    await after.close();
    await waitFor(
      () => lines(c).length === 11,
      () => `11 records (got ${lines(c).length}): ${c.err()}`,
    );
    await stop(c);
    assert.equal(
      lines(c),
      Array.from({ length: 11 }, (_, i) => event('h1', i + 1)),
    );
    assert.match(c.err(), /^scope-collect: 11 records from 1 connection, 0 bad lines$/m);
  } finally {
    c.child.kill('SIGKILL');
    await stop(server);
  }
});

test.run();
