// The statsd metric watch (SCOPE_METRIC_STATSD): StatsD datagrams an app sends to 127.0.0.1:8125
// are relayed by libscope on its metric destination with our tags, while the datagrams still reach
// the collector. A real UDP listener is bound on 127.0.0.1:8125 for the whole file: the apps'
// datagrams must arrive there unchanged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMetric, prog, session } from './lib.js';
import type { Json, Metric } from './lib.js';
import { runAsync } from './servers.js';

const APP = prog('statsd_app');

// Every line of statsd_app's datagrams that is StatsD, as libscope should relay it.
const EXPECTED: [string, string, number][] = [
  ['app.sendto', 'counter', 1],
  ['app.multi.a', 'counter', 1],
  ['app.multi.b', 'histogram', 2.5],
  ['app.multi.c', 'histogram', 3],
  ['app.tagged', 'counter', 7],
  ['app.sampled', 'counter', 3],
  ['app.users', 'set', 1],
  ['app.level', 'gauge', -3],
  ['app.collide', 'counter', 1],
  ['app.afterbad', 'counter', 9],
  ...Array.from({ length: 60 }, (_, i): [string, string, number] => [`app.long.${String(i).padStart(2, '0')}`, 'counter', i]),
  ['app.sendmsg', 'timer', 12.5],
  ['app.mmsg.a', 'counter', 1],
  ['app.mmsg.b', 'counter', 2],
  ['app.send', 'gauge', 42],
  ['app.write', 'counter', 5],
];

// The collector the apps send to. Bound once; a machine where 8125 is taken fails here, loudly.
const received: string[] = [];
let collector: dgram.Socket | undefined;

test.before(async () => {
  const s = dgram.createSocket('udp4');
  s.on('message', (b) => received.push(b.toString()));
  await new Promise<void>((resolve, reject) => {
    s.once('error', (e) =>
      reject(new Error(`statsd.test: cannot bind the StatsD listener on 127.0.0.1:8125 (${String(e)}); ` + 'another process holds the port: stop it (ss -ulpn sport = :8125) and run the test again')),
    );
    s.bind(8125, '127.0.0.1', () => resolve());
  });
  collector = s;
});

test.after(() => {
  collector?.close();
});

/** Waits (bounded) until the listener has `n` datagrams more than `from`; returns them. */
async function arrivals(from: number, n: number): Promise<string[]> {
  for (let i = 0; i < 200 && received.length < from + n; i++) await new Promise((r) => setTimeout(r, 10));
  return received.slice(from);
}

async function scoped(cmd: string, args: string[], extra: Record<string, string>) {
  const s = session({ SCOPE_TAG_team: 'x', SCOPE_EVENT_ENABLE: 'false', ...extra });
  const r = await runAsync(cmd, args, s.env);
  assert.is(r.status, 0, `${cmd}: ${r.stderr}`);
  return s;
}

const relayed = (met: unknown[]): Metric[] => met.filter(isMetric).filter((m) => (m.body as Json)._source === 'statsd');

test('ndjson: each StatsD line the C app sends (sendto, send, write, sendmsg, sendmmsg) is relayed once, with its tags and ours', async () => {
  const before = received.length;
  const s = await scoped(APP, [], {});
  const met = s.metrics(); // every line is checked against schemas/ (kind statsd)
  const start = met.filter(isMetric).find((m) => m.body._metric === 'proc.start');
  assert.ok(start, 'proc.start');
  const ours = relayed(met);
  const got = ours.map((m) => [m.body._metric, m.body._metric_type, m.body._value]);
  assert.equal(
    [...got].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    [...EXPECTED].sort((a, b) => a[0].localeCompare(b[0])),
    'exactly the StatsD lines sent to 8125, once each',
  );
  for (const m of ours) {
    assert.is(m.body.proc, 'statsd_app');
    assert.is(m.body.pid, start!.body.pid);
    assert.is(m.body.host, start!.body.host);
    assert.is(m.body.team, 'x', 'the custom tag SCOPE_TAG_team');
    assert.not.ok('unit' in m.body, 'a relayed metric has no unit of ours');
  }
  const by = (n: string): Json => ours.find((m) => m.body._metric === n)!.body;
  assert.equal([by('app.tagged').env, by('app.tagged').region, by('app.tagged').bare], ['prod', 'eu', '']);
  assert.is(by('app.sampled')._sample_rate, 0.5);
  assert.not.ok('_sample_rate' in by('app.sendto'));
  assert.is(by('app.users')._set_member, 'alice');
  assert.is(by('app.level')._delta, 'true', 'a signed gauge is a change');
  assert.is(by('app.collide').host, start!.body.host, 'our host wins over the app tag host:fake');
  assert.is(by('app.collide').team, 'x', 'our custom tag wins over the app tag team:y');
  assert.is(by('app.collide').kept, '1');
  const order = Object.keys(by('app.tagged'));
  assert.equal(order.slice(0, 3), ['_metric', '_metric_type', '_value']);
  assert.is(order[order.length - 1], '_time');
  assert.ok(order.indexOf('env') < order.indexOf('proc') && order.indexOf('proc') < order.indexOf('team'), order.join(','));
  assert.not.ok(
    met.filter(isMetric).some((m) => String(m.body._metric).startsWith('app.other')),
    'nothing sent to 8126',
  );
  assert.not.ok(JSON.stringify(met).includes('not statsd'), 'the malformed line is not relayed');
  assert.match(s.log(), /statsd: skipped a malformed line the app sent .*this line is not statsd/);
  assert.match(s.log(), /statsd: 1 malformed lines from the app skipped in all/);
  // the collector got every datagram, unchanged (8126 has no listener: 14 datagrams to 8125)
  const seen = await arrivals(before, 14);
  assert.is(seen.length, 14, seen.join(' / '));
  assert.ok(seen.includes('app.tagged:7|c|#env:prod,region:eu,bare'));
  assert.ok(seen.includes('app.sendmsg:12.5|ms'));
  assert.ok(seen.includes('this line is not statsd\napp.afterbad:9|c'));
});

test('statsd format: the relayed lines carry SCOPE_STATSD_PREFIX, the sample rate, the app tags then ours, within SCOPE_STATSD_MAXLEN', async () => {
  const s = await scoped(APP, [], { SCOPE_METRIC_FORMAT: 'statsd', SCOPE_STATSD_PREFIX: 'pre.' });
  const lines = readFileSync(join(s.dir, 'metrics.json'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const app = lines.filter((l) => l.startsWith('pre.app.'));
  assert.is(app.length, EXPECTED.length, app.join('\n'));
  for (const l of lines) assert.ok(Buffer.byteLength(l) <= 512, `longer than 512: ${l}`);
  const pid = /\|#proc:statsd_app,pid:(\d+),host:([^,]+),/.exec(app.find((l) => l.startsWith('pre.app.sendto:'))!);
  assert.ok(pid, 'proc, pid and host tags');
  const ours = `proc:statsd_app,pid:${pid![1]},host:${pid![2]},team:x`;
  assert.ok(app.includes(`pre.app.sendto:1|c|#${ours}`), app.join('\n'));
  assert.ok(app.includes(`pre.app.tagged:7|c|#env:prod,region:eu,bare,${ours}`), app.join('\n'));
  assert.ok(app.includes(`pre.app.sampled:3|c|@0.5|#${ours}`));
  assert.ok(app.includes(`pre.app.level:-3|g|#${ours}`));
  assert.ok(app.includes(`pre.app.users:alice|s|#${ours}`));
  assert.ok(app.includes(`pre.app.multi.c:3|h|#${ours}`), 'a distribution is relayed as a histogram');
  assert.ok(app.includes(`pre.app.collide:1|c|#kept:1,${ours}`), 'our host and team win');
  assert.ok(app.includes(`pre.app.sendmsg:12.5|ms|#${ours}`));
  assert.not.ok(lines.some((l) => l.includes('app.other')));

  const short = await scoped(APP, [], { SCOPE_METRIC_FORMAT: 'statsd', SCOPE_STATSD_PREFIX: 'pre.', SCOPE_STATSD_MAXLEN: '40' });
  const cut = readFileSync(join(short.dir, 'metrics.json'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('pre.app.'));
  assert.is(cut.length, EXPECTED.length);
  for (const l of cut) assert.ok(Buffer.byteLength(l) <= 40, `longer than 40: ${l}`);
  assert.ok(cut.includes('pre.app.tagged:7|c|#env:prod,region:eu'), cut.join('\n'));
});

test('a python3 app (socket module): sendto 127.0.0.1 and localhost:8125 relayed, 8126 not', async () => {
  const before = received.length;
  const s = await scoped(
    'python3',
    [
      '-c',
      `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"py.count:3|c|#lang:python", ("127.0.0.1", 8125))
s.sendto(b"py.gauge:1.5|g", ("localhost", 8125))
s.sendto(b"py.other:1|c", ("127.0.0.1", 8126))
s.close()
`,
    ],
    {},
  );
  const ours = relayed(s.metrics());
  assert.equal(
    ours.map((m) => [m.body._metric, m.body._metric_type, m.body._value, m.body.lang, m.body.team]),
    [
      ['py.count', 'counter', 3, 'python', 'x'],
      ['py.gauge', 'gauge', 1.5, undefined, 'x'],
    ],
  );
  assert.ok(
    ours.every((m) => String(m.body.proc).startsWith('python')),
    'proc of the python app',
  );
  const seen = await arrivals(before, 2);
  assert.equal(seen, ['py.count:3|c|#lang:python', 'py.gauge:1.5|g']);
});

test('SCOPE_METRIC_STATSD=false: nothing is relayed, the datagrams still go out', async () => {
  const before = received.length;
  const s = await scoped(APP, [], { SCOPE_METRIC_STATSD: 'false' });
  const met = s.metrics();
  assert.ok(
    met.filter(isMetric).some((m) => m.body._metric === 'proc.start'),
    'metrics are on',
  );
  assert.is(relayed(met).length, 0);
  assert.not.ok(met.filter(isMetric).some((m) => String(m.body._metric).startsWith('app.')));
  assert.not.match(s.log(), /statsd:/);
  assert.is((await arrivals(before, 14)).length, 14);
});

test.run();
