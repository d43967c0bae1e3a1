/**
 * OTLP/HTTP for real: the built scope-export sends the fixture to a node http server on 127.0.0.1
 * port 0, and the bodies are decoded with the official opentelemetry-proto definitions (the
 * protobufjs root generated in @opentelemetry/otlp-transformer). Protobuf and OTLP/JSON are checked
 * with the same assertions; retries (503 with Retry-After) and refusals (400) are counted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixtureText, otlpRoot, runExporter } from './helpers.js';

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}

/** An OTLP receiver; `reply` answers each request (default 200). */
async function receiver(reply: (n: number, path: string) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })) {
  const got: Received[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = reply(n++, req.url ?? '');
      if (r.status === 200) got.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(r.status === 200 ? '{}' : '{"message":"no"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { got, url: `otlp+http://127.0.0.1:${port}`, requests: () => n, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const toObjectOptions = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };
const logsType = () => otlpRoot.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
const metricsType = () => otlpRoot.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

/** A request as a plain object (camelCase, 64-bit integers as strings), from either encoding. */
function decode(r: Received, type: any): any {
  if (r.contentType === 'application/x-protobuf') return type.toObject(type.decode(r.body), toObjectOptions);
  assert.is(r.contentType, 'application/json');
  const json = JSON.parse(r.body.toString('utf8'));
  // fromObject reads the OTLP/JSON shape (camelCase, int64 strings); a key it does not know is
  // left out, so the assertions below fail for a misnamed field.
  return { json, ...type.toObject(type.fromObject(json), toObjectOptions) };
}

/** key → AnyValue of an attribute list. */
const attrs = (list: any[] | undefined): Record<string, any> => Object.fromEntries((list ?? []).map((kv: any) => [kv.key, kv.value]));

function checkLogs(req: any): void {
  assert.is(req.resourceLogs.length, 1, 'one process, one resource');
  const rl = req.resourceLogs[0];
  assert.equal(attrs(rl.resource.attributes), {
    'service.name': { stringValue: 'curl' },
    'host.name': { stringValue: 'web-1' },
    'process.pid': { intValue: '4242' },
    'process.executable.name': { stringValue: 'curl' },
    'process.command_line': { stringValue: 'curl -s http://example.test/x' },
  });
  assert.is(rl.scopeLogs[0].scope.name, 'scope');
  const [fs, console, http] = rl.scopeLogs[0].logRecords;
  assert.is(rl.scopeLogs[0].logRecords.length, 3, 'the three events; the process-start record is not a log');
  assert.is(fs.timeUnixNano, '1700000000123456000', '_time in nanoseconds');
  assert.ok(BigInt(fs.observedTimeUnixNano) > 1_700_000_000_000_000_000n);
  assert.is(fs.severityNumber, 9);
  assert.is(fs.severityText, 'INFO');
  assert.equal(attrs(fs.body.kvlistValue.values), { file: { stringValue: '/etc/hosts' }, op: { stringValue: 'open' }, proc_uid: { intValue: '1000' } });
  assert.equal(attrs(fs.attributes), {
    'scope.sourcetype': { stringValue: 'fs' },
    'scope.source': { stringValue: 'fs.open' },
    'scope.channel': { stringValue: '8123456789012345678' },
    'scope.id': { stringValue: 'web-1-curl-curl -s http://example.test/x' },
    'scope.file': { stringValue: '/etc/hosts' },
    'scope.op': { stringValue: 'open' },
    'scope.proc_uid': { intValue: '1000' },
  });
  assert.is(console.timeUnixNano, '1700000000500000000');
  assert.is(console.severityNumber, 13, 'stderr is WARN');
  assert.equal(console.body, { stringValue: 'curl: (7) refused' });
  assert.is(attrs(console.attributes)['scope.message'], undefined, 'the message is the body, not an attribute too');
  assert.is(http.severityNumber, 17, 'an HTTP 503 response is ERROR');
  assert.equal(attrs(http.attributes)['scope.http_client_duration'], { doubleValue: 12.5 });
}

function checkMetrics(req: any): void {
  const byHost = new Map<string, any>(req.resourceMetrics.map((rm: any) => [attrs(rm.resource.attributes)['host.name'].stringValue, rm]));
  assert.equal([...byHost.keys()].sort(), ['web-1', 'web-2']);
  const web1 = byHost.get('web-1');
  assert.equal(attrs(web1.resource.attributes)['process.pid'], { intValue: '4242' });
  const metrics = new Map<string, any>(web1.scopeMetrics[0].metrics.map((m: any) => [m.name, m]));
  const read = metrics.get('fs.read');
  assert.is(read.unit, 'By');
  assert.is(read.sum.aggregationTemporality, 1, 'delta');
  assert.is(read.sum.isMonotonic, true);
  const [p1, p2] = read.sum.dataPoints;
  assert.is(p1.asInt, '13312');
  assert.is(p1.timeUnixNano, '1700000001250000000');
  assert.is(p2.asInt, '100');
  assert.is(p2.timeUnixNano, '1700000011250000000');
  assert.is(p2.startTimeUnixNano, p1.timeUnixNano, 'a delta starts where the previous one ended');
  assert.equal(attrs(p1.attributes), { summary: { stringValue: 'true' } }, 'host, pid, proc and unit are not data point attributes');
  const mem = metrics.get('proc.mem');
  assert.is(mem.unit, 'KiBy');
  assert.is(mem.gauge.dataPoints[0].asDouble, 2048.5);
  assert.is(mem.gauge.dataPoints[0].timeUnixNano, '1700000001250000000');
  const dur = metrics.get('net.duration');
  assert.is(dur.unit, 'ms');
  assert.is(dur.histogram.aggregationTemporality, 1);
  const h = dur.histogram.dataPoints[0];
  assert.is(h.count, '1');
  assert.is(h.sum, 12);
  assert.is(h.min, 12);
  assert.is(h.max, 12);
  assert.equal(h.bucketCounts, ['1']);
  assert.equal(attrs(h.attributes), { domain: { stringValue: 'example.test' } });
  assert.is(h.timeUnixNano, '1700000001500000000');
  const web2 = byHost.get('web-2');
  assert.equal(attrs(web2.resource.attributes)['service.name'], { stringValue: 'sleep' });
  const cpu = web2.scopeMetrics[0].metrics[0];
  assert.is(cpu.name, 'proc.cpu');
  assert.is(cpu.unit, 'us');
  assert.is(cpu.sum.dataPoints[0].asInt, '4339');
  assert.ok(BigInt(cpu.sum.dataPoints[0].timeUnixNano) > 1_700_000_000_000_000_000n, 'a StatsD line is stamped when read');
}

for (const encoding of ['protobuf', 'json'] as const) {
  test(`OTLP/HTTP ${encoding}: events as log records, metrics as sums, gauges and histograms, decoded with the official definitions`, async () => {
    const r = await receiver();
    try {
      const ran = await runExporter(['--to', r.url, '--otlp-encoding', encoding], fixtureText);
      assert.is(ran.status, 0, ran.stderr);
      assert.match(ran.stderr, `scope-export: ${r.url}: 8 sent, 0 dropped, 0 failed batches, 1 skipped`);
      const logs = r.got.filter((g) => g.path === '/v1/logs');
      const metrics = r.got.filter((g) => g.path === '/v1/metrics');
      assert.is(logs.length, 1);
      assert.is(metrics.length, 1);
      assert.is(logs[0]!.contentType, encoding === 'json' ? 'application/json' : 'application/x-protobuf');
      const logsReq = decode(logs[0]!, logsType());
      checkLogs(logsReq);
      const metricsReq = decode(metrics[0]!, metricsType());
      checkMetrics(metricsReq);
      if (encoding === 'json') {
        const point = metricsReq.json.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0];
        assert.is(typeof point.timeUnixNano, 'string', 'int64 as a string in OTLP/JSON');
        assert.is(typeof point.asInt, 'string');
        assert.ok('resourceLogs' in logsReq.json && !('resource_logs' in logsReq.json), 'camelCase keys');
      }
    } finally {
      await r.close();
    }
  });
}

test('--service-name replaces the process name as service.name; a path in the URL prefixes /v1/…', async () => {
  const r = await receiver();
  try {
    const ran = await runExporter(['--to', `${r.url}/otlp/`, '--service-name', 'checkout'], fixtureText);
    assert.is(ran.status, 0, ran.stderr);
    assert.equal(r.got.map((g) => g.path).sort(), ['/otlp/v1/logs', '/otlp/v1/metrics']);
    const req = decode(r.got.find((g) => g.path === '/otlp/v1/logs')!, logsType());
    assert.equal(attrs(req.resourceLogs[0].resource.attributes)['service.name'], { stringValue: 'checkout' });
  } finally {
    await r.close();
  }
});

test('a 503 with Retry-After is retried after it: delivered once, the retry counted, exit 0', async () => {
  let refusedLogs = 0;
  const r = await receiver((_n, path) => {
    if (path === '/v1/logs' && refusedLogs === 0) {
      refusedLogs++;
      return { status: 503, headers: { 'retry-after': '1' } };
    }
    return { status: 200 };
  });
  try {
    const ran = await runExporter(['--to', r.url], fixtureText);
    assert.is(ran.status, 0, ran.stderr);
    assert.is(r.got.filter((g) => g.path === '/v1/logs').length, 1, 'the logs arrive once');
    assert.is(r.got.filter((g) => g.path === '/v1/metrics').length, 1, 'the metrics (delivered the first time) are not sent again');
    assert.match(ran.stderr, /POST http:\/\/127\.0\.0\.1:\d+\/v1\/logs: HTTP 503.*; retrying/);
    assert.match(ran.stderr, `${r.url}: 8 sent, 0 dropped, 0 failed batches, 1 retry`);
  } finally {
    await r.close();
  }
});

test('a 400 drops the batch: said once on stderr, counted in the summary, exit 1', async () => {
  const r = await receiver((_n, path) => ({ status: path === '/v1/metrics' ? 400 : 200 }));
  try {
    const ran = await runExporter(['--to', r.url], fixtureText);
    assert.is(ran.status, 1);
    assert.match(ran.stderr, /POST http:\/\/127\.0\.0\.1:\d+\/v1\/metrics: HTTP 400 \(\{"message":"no"\}\); the batch is dropped/);
    assert.match(ran.stderr, `${r.url}: 3 sent, 5 dropped, 1 failed batch`);
    assert.is(r.requests(), 2, 'a 4xx is not retried');
  } finally {
    await r.close();
  }
});

test('a collector that never answers: retried until the drain timeout, then dropped and "never reached", exit 1', async () => {
  const r = await receiver();
  await r.close();
  const ran = await runExporter(['--to', r.url, '--drain-timeout', '1'], fixtureText);
  assert.is(ran.status, 1);
  assert.match(ran.stderr, /ECONNREFUSED; retrying/);
  assert.match(ran.stderr, `${r.url}: 0 sent, 8 dropped, 1 failed batch`);
  assert.match(ran.stderr, /never reached/);
});

test.run();
