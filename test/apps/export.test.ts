/**
 * scope-export against real systems from Debian's packages (test/apps/install.sh): its Prometheus
 * /metrics text passes `promtool check metrics` and is scraped by a real `prometheus`, whose query API
 * then gives our values; NATS through a real `nats-server` (core publish, and JetStream when a stream
 * covers the subjects); and the acceptance pipeline: two `scope run`s publish through
 * `scope-export --to nats://…`, and `scope-collect --from nats://…` receives every record of both.
 * Every server is started on a loopback port this test picked, and stopped by it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { envFor, freePort, newHome, repoRoot, scopeBin } from '../lib/harness.js';
import { natsServer, start, stop, waitFor } from '../lib/procs.js';
import type { Proc } from '../lib/procs.js';
import { tempDir } from '@scope/core/testing';

const exportBin = join(repoRoot, 'tools/scope-export/bin/scope-export.js');
const collectBin = join(repoRoot, 'tools/scope-collect/bin/scope-collect.js');
const fixture = readFileSync(join(repoRoot, 'tools/scope-export/test/fixtures/records.ndjson'), 'utf8');
const richMetrics = readFileSync(join(repoRoot, 'tools/scope-metrics/test/fixtures/metrics.ndjson'), 'utf8');

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/** scope-export with --prometheus 127.0.0.1:0 and stdin open; resolves with the URL it serves. */
async function promExporter(): Promise<{ p: Proc; url: string }> {
  const p = start(process.execPath, [exportBin, '--prometheus', '127.0.0.1:0'], { stdin: 'pipe' });
  const served = /serving Prometheus metrics on (http:\S+)/;
  await waitFor(
    () => served.test(p.err()),
    () => `the exporter to listen: ${p.err()}`,
  );
  return { p, url: served.exec(p.err())![1]! };
}

test('the /metrics scope-export serves while stdin is open passes promtool check metrics', async () => {
  const { p, url } = await promExporter();
  try {
    p.child.stdin!.write(richMetrics + fixture);
    let text = '';
    await waitFor(
      async () => (text = await (await fetch(url)).text()).includes('proc_cpu_seconds_total'),
      () => `the metrics: ${text}`,
    );
    assert.match(text, /^# TYPE net_duration_seconds summary$/m);
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.is(checked.stdout + checked.stderr, '', 'promtool found no problem');
    assert.is(checked.status, 0);
  } finally {
    p.child.stdin!.end();
    await stop(p);
  }
});

test('a real Prometheus scrapes scope-export: its query API gives the value of our counter, then the updated one', async () => {
  const { p, url } = await promExporter();
  const dir = tempDir('scope-export-prom-');
  const webPort = await freePort('tcp');
  const target = new URL(url).host;
  writeFileSync(join(dir, 'prometheus.yml'), ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: scope', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'));
  const prom = start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`]);
  const query = async (q: string): Promise<string | null> => {
    try {
      const res = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
      return body.data?.result?.[0]?.value[1] ?? null;
    } catch {
      return null;
    }
  };
  try {
    p.child.stdin!.write(fixture);
    let got: string | null = null;
    await waitFor(
      async () => (got = await query('fs_read_bytes_total{job="scope",host="web-1"}')) === '13412',
      () => `Prometheus to have fs_read_bytes_total 13412 (has ${got}): ${prom.err().slice(-2000)}`,
    );
    assert.is(await query('proc_mem_bytes{job="scope"}'), String(2048.5 * 1024), 'kibibytes served as bytes');
    p.child.stdin!.write(
      JSON.stringify({
        type: 'metric',
        body: { _metric: 'fs.read', _metric_type: 'counter', _value: 8, proc: 'curl', pid: 4242, host: 'web-1', unit: 'byte', summary: 'true', _time: 1700000021.25 },
      }) + '\n',
    );
    await waitFor(
      async () => (got = await query('fs_read_bytes_total{job="scope",host="web-1"}')) === '13420',
      () => `the next scrape to have 13420 (has ${got})`,
    );
  } finally {
    await stop(prom);
    p.child.stdin!.end();
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});

const client = (port: number): Promise<NatsConnection> => connect({ servers: `127.0.0.1:${port}` });

function runExport(args: string[], input: string): Promise<{ status: number | null; stderr: string }> {
  const p = start(process.execPath, [exportBin, ...args], { stdin: 'pipe' });
  p.child.stdin!.end(input);
  return p.done.then((status) => ({ status, stderr: p.err() }));
}

/** The subject scope-export publishes each fixture line on. */
const fixtureSubjects = (base: string) =>
  lines(fixture).map((l) => {
    if (!l.startsWith('{')) return `${base}.web-2.metric`;
    const r = JSON.parse(l);
    if (r.format === 'ndjson') return `${base}.web-1.start`;
    return r.type === 'evt' ? `${base}.${r.body.host}.${r.body.sourcetype}` : `${base}.${r.body.host}.metric`;
  });

test('NATS core: each record on <subject>.<host>.<sourcetype|metric|start>, its NDJSON line as the payload', async () => {
  const port = await freePort('tcp');
  const server = await natsServer(port);
  const nc = await client(port);
  try {
    const got: [string, string][] = [];
    const sub = nc.subscribe('app.>');
    void (async () => {
      for await (const m of sub) got.push([m.subject, new TextDecoder().decode(m.data)]);
    })();
    await nc.flush();
    const ran = await runExport(['--to', `nats://127.0.0.1:${port}/app`], fixture);
    assert.is(ran.status, 0, ran.stderr);
    assert.match(ran.stderr, `nats://127.0.0.1:${port}/app: 9 sent, 0 dropped, 0 failed batches`);
    await waitFor(
      () => got.length >= 9,
      () => `9 messages (got ${got.length})`,
    );
    assert.equal(
      got.map(([s]) => s),
      fixtureSubjects('app'),
    );
    const statsdRecord = JSON.stringify({ type: 'metric', body: { _metric: 'proc.cpu', _metric_type: 'counter', _value: 4339, proc: 'sleep', pid: 78871, host: 'web-2', unit: 'microsecond' } });
    assert.equal(
      got.map(([, d]) => d),
      [...lines(fixture).slice(0, -1), statsdRecord],
      'NDJSON lines unchanged; a StatsD line as its record',
    );
  } finally {
    await nc.close();
    await stop(server);
  }
});

test('NATS JetStream: with a stream over <subject>.>, records are published with acks and stored in it', async () => {
  const port = await freePort('tcp');
  const dir = tempDir('scope-export-js-');
  const server = await natsServer(port, dir);
  const nc = await client(port);
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'SCOPE', subjects: ['js.>'] });
    const ran = await runExport(['--to', `nats://127.0.0.1:${port}/js`], fixture);
    assert.is(ran.status, 0, ran.stderr);
    assert.match(ran.stderr, /is in a JetStream stream: publishing with acks/);
    assert.match(ran.stderr, `nats://127.0.0.1:${port}/js: 9 sent, 0 dropped, 0 failed batches`);
    const info = await jsm.streams.info('SCOPE');
    assert.is(info.state.messages, 9);
    const stored: [string, string][] = [];
    for (let seq = 1; seq <= 9; seq++) {
      const m = await jsm.streams.getMessage('SCOPE', { seq });
      stored.push([m.subject, new TextDecoder().decode(m.data)]);
    }
    assert.equal(
      stored.map(([s]) => s),
      fixtureSubjects('js'),
    );
    assert.equal(
      stored.slice(0, 8).map(([, d]) => d),
      lines(fixture).slice(0, 8),
    );
  } finally {
    await nc.close();
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a NATS server that never comes up: the records are dropped at the drain timeout, "never reached", exit 1', async () => {
  const port = await freePort('tcp');
  const ran = await runExport(['--to', `nats://127.0.0.1:${port}/x`, '--drain-timeout', '1'], fixture);
  assert.is(ran.status, 1);
  assert.match(ran.stderr, /0 sent, 9 dropped, 1 failed batch.*never reached/);
});

test('acceptance: two scoped runs publish through scope export --to nats://…; scope collect --from nats://… receives every record of both', async () => {
  const port = await freePort('tcp');
  const server = await natsServer(port);
  const home = newHome();
  const collector = start(process.execPath, [collectBin, '--from', `nats://127.0.0.1:${port}/scope`]);
  try {
    await waitFor(
      () => /receiving scope\.> from/.test(collector.err()),
      () => `scope-collect to subscribe: ${collector.err()}`,
    );
    const sentFiles: string[] = [];
    for (const [i, cmd] of [
      ['cat', '/etc/hostname'],
      ['ls', '/'],
    ].entries()) {
      const sent = join(home, `sent-${i}.ndjson`);
      sentFiles.push(sent);
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const pipeline = `${q(process.execPath)} ${q(scopeBin)} run -- ${cmd.map(q).join(' ')} | tee ${q(sent)} | ` + `${q(process.execPath)} ${q(scopeBin)} export --to nats://127.0.0.1:${port}/scope`;
      const ran = start('sh', ['-c', pipeline], { env: envFor(home) });
      assert.is(await ran.done, 0, ran.err());
      assert.match(ran.err(), new RegExp(`nats://127\\.0\\.0\\.1:${port}/scope: \\d+ sent, 0 dropped, 0 failed batches`));
    }
    const sent = sentFiles.flatMap((f) => lines(readFileSync(f, 'utf8')));
    const procs = new Set(
      sent
        .map((l) => JSON.parse(l))
        .filter((r) => r.type === 'evt' || r.type === 'metric')
        .map((r) => r.body.proc),
    );
    assert.ok(procs.has('cat') && procs.has('ls'), `records of both runs: ${[...procs].join(' ')}`);
    await waitFor(
      () => lines(collector.out()).length >= sent.length,
      () => `${sent.length} records at the collector (has ${lines(collector.out()).length})`,
    );
    await stop(collector);
    assert.equal(lines(collector.out()).sort(), [...sent].sort(), 'every record of both runs, once, unchanged');
  } finally {
    collector.child.kill('SIGKILL');
    await stop(server);
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
