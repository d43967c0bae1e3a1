/**
 * OTLP as users configure it, against a local TLS receiver (node https on 127.0.0.1, port 0, with a
 * certificate from test/fixtures/tls signed by a test CA made for this test): otlp+https with the CA
 * given (--ca, or OTEL_EXPORTER_OTLP_CERTIFICATE), refused without it; --header and
 * OTEL_EXPORTER_OTLP_HEADERS reaching the receiver, which checks the API key; gzip bodies; the
 * OTEL_EXPORTER_OTLP_* variables alone (endpoint, per-signal endpoint, protocol) naming the
 * destination. Every body is decoded with the official opentelemetry-proto definitions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { noForcedColour } from '@scope/core/testing';
import { bin, fixtureText, otlpRoot } from './helpers.js';
import { otlpConfig, parseEnvHeaders } from '../src/otlp-config.js';

const tls = (name: string) => fileURLToPath(new URL(`../../test/fixtures/tls/${name}`, import.meta.url));
const CA = tls('ca.pem');

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** An OTLP/HTTPS receiver that answers 401 unless the request carries x-api-key: secret. */
async function receiver() {
  const got: Received[] = [];
  const server: Server = createServer({ key: readFileSync(tls('server.key')), cert: readFileSync(tls('server.pem')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers['x-api-key'] !== 'secret') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"message":"bad key"}');
        return;
      }
      got.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { got, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** scope-export over the fixture, with these arguments and variables. */
function exportFixture(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const clean = noForcedColour();
    for (const k of Object.keys(clean)) if (k.startsWith('OTEL_')) delete clean[k];
    const child = spawn(process.execPath, [bin, '--drain-timeout', '3', '--flush-ms', '50', ...args], { env: { ...clean, ...env }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
    child.stdin.end(fixtureText);
  });
}

const toObject = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };
/** The records a request carried, decoded with the official definitions (gunzipped when it says so). */
function decode(r: Received): { logs: number; metrics: number } {
  const raw = r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body;
  if (r.path.endsWith('/v1/logs')) {
    const req = otlpRoot.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.toObject(otlpRoot.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.decode(raw), toObject);
    return { logs: req.resourceLogs.flatMap((x: any) => x.scopeLogs.flatMap((s: any) => s.logRecords)).length, metrics: 0 };
  }
  const req = otlpRoot.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.toObject(
    otlpRoot.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.decode(raw),
    toObject,
  );
  return { logs: 0, metrics: req.resourceMetrics.flatMap((x: any) => x.scopeMetrics.flatMap((s: any) => s.metrics)).length };
}
const totals = (got: Received[]) => got.map(decode).reduce((a, b) => ({ logs: a.logs + b.logs, metrics: a.metrics + b.metrics }), { logs: 0, metrics: 0 });

test('otlp+https with --ca and --header: delivered, the key checked, gzip when asked, bodies decode', async () => {
  const r = await receiver();
  try {
    const ran = await exportFixture(['--to', `otlp+https://127.0.0.1:${r.port}`, '--ca', CA, '--header', 'x-api-key=secret', '--otlp-compression', 'gzip']);
    assert.is(ran.status, 0, ran.stderr);
    assert.ok(r.got.length >= 2, `${r.got.length} requests`);
    for (const g of r.got) {
      assert.is(g.headers['content-encoding'], 'gzip');
      assert.is(g.headers['content-type'], 'application/x-protobuf');
    }
    const t = totals(r.got);
    assert.ok(t.logs > 0 && t.metrics > 0, JSON.stringify(t));
    assert.equal(new Set(r.got.map((g) => g.path)), new Set(['/v1/logs', '/v1/metrics']));
  } finally {
    await r.close();
  }
});

test('otlp+https without the CA: the certificate is refused, nothing delivered, status 1 naming why', async () => {
  const r = await receiver();
  try {
    const ran = await exportFixture(['--to', `otlp+https://127.0.0.1:${r.port}`, '--header', 'x-api-key=secret']);
    assert.is(ran.status, 1);
    assert.match(ran.stderr, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    assert.is(r.got.length, 0);
  } finally {
    await r.close();
  }
});

test("a wrong key: the receiver's 401 refuses the batch, status 1", async () => {
  const r = await receiver();
  try {
    const ran = await exportFixture(['--to', `otlp+https://localhost:${r.port}`, '--ca', CA, '--header', 'x-api-key=wrong']);
    assert.is(ran.status, 1);
    assert.match(ran.stderr, /HTTP 401 \(\{"message":"bad key"\}\)/);
  } finally {
    await r.close();
  }
});

test('OTEL_EXPORTER_OTLP_* alone: endpoint, headers, certificate, compression, protocol', async () => {
  const r = await receiver();
  try {
    const ran = await exportFixture([], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${r.port}/base`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret,x-team=ops%20team',
      OTEL_EXPORTER_OTLP_CERTIFICATE: CA,
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'checkout',
    });
    assert.is(ran.status, 0, ran.stderr);
    assert.match(ran.stderr, /exporting to OTLP as OTEL_EXPORTER_OTLP_\* say/);
    assert.equal(new Set(r.got.map((g) => g.path)), new Set(['/base/v1/logs', '/base/v1/metrics']));
    for (const g of r.got) assert.is(g.headers['x-team'], 'ops team');
    const logs = r.got.filter((g) => g.path.endsWith('/logs'));
    const metrics = r.got.filter((g) => g.path.endsWith('/metrics'));
    assert.ok(logs.every((g) => g.headers['content-type'] === 'application/x-protobuf'));
    assert.ok(metrics.every((g) => g.headers['content-type'] === 'application/json'));
    const decoded = otlpRoot.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.toObject(
      otlpRoot.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.decode(gunzipSync(logs[0]!.body)),
      toObject,
    );
    const service = decoded.resourceLogs[0].resource.attributes.find((a: any) => a.key === 'service.name');
    assert.is(service.value.stringValue, 'checkout');
    const json = JSON.parse(gunzipSync(metrics[0]!.body).toString('utf8'));
    assert.ok(Array.isArray(json.resourceMetrics) && json.resourceMetrics.length > 0);
  } finally {
    await r.close();
  }
});

test("per-signal endpoints are used as given; the signal's variables win over the general ones", () => {
  const c = otlpConfig(
    { headers: ['x-b=flag'] },
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example:443/custom/path',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1,x-b=2',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-a=3',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    },
  );
  assert.is(c.logs.url.href, 'https://logs.example/custom/path');
  assert.is(c.metrics.url.href, 'http://collector:4318/v1/metrics');
  assert.equal(c.logs.headers, { 'x-a': '1', 'x-b': 'flag' });
  assert.equal(c.metrics.headers, { 'x-a': '3', 'x-b': 'flag' });
  assert.equal([c.logs.compression, c.metrics.compression], ['none', 'gzip']);
  assert.is(c.metrics.timeoutMs, 2500);
  assert.is(otlpConfig({ to: 'otlp+http://h', headers: [] }, {}).logs.url.href, 'http://h:4318/v1/logs');
  assert.is(otlpConfig({ to: 'otlp+http://h:80/p/', headers: [] }, {}).metrics.url.href, 'http://h/p/v1/metrics');
  assert.is(otlpConfig({ to: 'otlp+https://h', headers: [] }, {}).logs.url.href, 'https://h:4318/v1/logs');
  assert.equal(parseEnvHeaders('X', ' a = b%2Cc , d=e '), { a: 'b,c', d: 'e' });
});

test('bad configuration: a usage error naming the flag or variable, before anything connects', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--to', 'otlp'], {}, /--to otlp: no endpoint: set OTEL_EXPORTER_OTLP_ENDPOINT/],
    [['--to', 'otlp+https://h', '--header', 'bad header=1'], {}, /--header: "bad header" is not a header name/],
    [['--to', 'otlp+https://h', '--header', 'novalue'], {}, /--header: "novalue" is not NAME=VALUE/],
    [['--to', 'otlp+https://h', '--header', 'content-length=1'], {}, /content-length is set by scope-export itself/],
    [['--to', 'otlp+https://h', '--ca', '/no/such.pem'], {}, /--ca: \/no\/such\.pem: no such file/],
    [['--to', 'otlp+https://h', '--ca', fileURLToPath(import.meta.url)], {}, /holds no PEM certificate/],
    [['--to', 'otlp+http://h', '--ca', CA], {}, /a CA certificate goes with an https endpoint/],
    [['--to', 'otlp+https://h', '--otlp-compression', 'br'], {}, /--otlp-compression|gzip/],
    [['--to', 'tcp://127.0.0.1:9', '--header', 'a=b'], {}, /--header goes with an OTLP destination/],
    [[], { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://h' }, /OTEL_EXPORTER_OTLP_ENDPOINT: "ftp:\/\/h" is not http:\/\/ or https:\/\//],
    [[], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/],
    [[], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h', OTEL_EXPORTER_OTLP_HEADERS: 'justakey' }, /OTEL_EXPORTER_OTLP_HEADERS: "justakey" is not key=value/],
    [[], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h', OTEL_EXPORTER_OTLP_TIMEOUT: 'soon' }, /OTEL_EXPORTER_OTLP_TIMEOUT: "soon" is not a number of milliseconds/],
  ];
  for (const [args, env, re] of cases) {
    const ran = await exportFixture(args, env);
    assert.is(ran.status, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${ran.stderr}`);
    assert.match(ran.stderr, re);
  }
});

test.run();
