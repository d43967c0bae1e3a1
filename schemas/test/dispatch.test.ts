import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordKind, validateRecord, expectedRecordId } from '../src/index.js';

const body = { _time: 1763890000.5, host: 'h', proc: 'p', cmd: 'p', pid: 1, data: {} };
const evt = (source: string, sourcetype: string) => ({ type: 'evt', id: 'h-p-p', _channel: '0', body: { ...body, source, sourcetype } });
const metric = (name: string) => ({ type: 'metric', body: { _metric: name, _metric_type: 'gauge', _value: 1, _time: 1763890000.5 } });

test('a record with format and info is a process-start record', () => {
  assert.is(recordKind({ format: 'ndjson', info: {} }), 'process-start');
  assert.is(recordKind({ format: 'other', info: null }), 'process-start');
});

test('events dispatch on body.source', () => {
  assert.is(recordKind(evt('fs.open', 'fs')), 'fs.open');
  assert.is(recordKind(evt('fs.close', 'fs')), 'fs.close');
  assert.is(recordKind(evt('stdout', 'console')), 'console');
  assert.is(recordKind(evt('stderr', 'console')), 'console');
  assert.is(recordKind(evt('notice', 'metric')), 'notice');
  for (const source of ['fs.delete', 'fs.rename', 'fs.mkdir', 'fs.error']) assert.is(recordKind(evt(source, 'fs')), source);
  for (const source of ['net.open', 'net.close', 'net.app', 'net.error']) assert.is(recordKind(evt(source, 'net')), source);
  for (const source of ['dns.req', 'dns.resp']) assert.is(recordKind(evt(source, 'dns')), source);
  for (const source of ['http.req', 'http.resp']) assert.is(recordKind(evt(source, 'http')), source);
});

test('file events dispatch on sourcetype file, whatever the path in source', () => {
  assert.is(recordKind(evt('/var/log/app.log', 'file')), 'file');
  assert.is(recordKind(evt('/tmp/fs.open', 'file')), 'file');
  assert.is(recordKind(evt('app.log', 'file')), 'file');
  const rec = evt('app.log', 'file');
  const relative = validateRecord({ ...rec, body: { ...rec.body, data: { message: 'x' } } });
  assert.is(relative.ok, false, 'a file event names its file by absolute path');
  assert.is(relative.kind, 'file');
  assert.equal(validateRecord({ ...rec, body: { ...rec.body, source: '/var/log/app.log', data: { message: 'x' } } }), { ok: true, kind: 'file' });
  // A known source keeps its schema.
  assert.is(recordKind(evt('fs.open', 'file')), 'fs.open');
});

test('a known source keeps its schema even when the sourcetype is wrong, so the error names it', () => {
  assert.is(recordKind(evt('stdout', 'fs')), 'console');
  const result = validateRecord(evt('fs.open', 'net'));
  assert.is(result.kind, 'fs.open');
  assert.is(result.ok, false);
});

test('any console sourcetype goes to the console schema, which only knows stdout and stderr', () => {
  assert.is(recordKind(evt('stdin', 'console')), 'console');
  assert.is(validateRecord({ ...evt('stdin', 'console'), body: { ...body, source: 'stdin', sourcetype: 'console', data: { message: 'x' } } }).ok, false);
});

test('unknown event sources get the generic envelope only', () => {
  assert.is(recordKind(evt('net.conn', 'net')), 'event');
  assert.is(recordKind(evt('fs.chmod', 'fs')), 'event');
  assert.is(recordKind(evt('fs.open', 'metric')), 'fs.open');
  assert.is(recordKind(evt('constructor', 'x')), 'event');
  // A metric name that is not an event source (an event-form metric) has no event schema.
  assert.equal(validateRecord(evt('net.rx', 'metric')), { ok: true, kind: 'event' });
  assert.equal(validateRecord(evt('http.duration.client', 'http')), { ok: true, kind: 'event' });
});

test('an event whose source has a schema is held to it: an empty data no longer passes', () => {
  for (const source of ['net.open', 'net.close', 'net.app', 'net.error', 'dns.req', 'dns.resp', 'http.req', 'http.resp']) {
    const result = validateRecord(evt(source, source.split('.')[0] ?? ''));
    assert.is(result.kind, source);
    assert.is(result.ok, false, source);
  }
});

test('metrics dispatch on body._metric: proc.*, fs.*, net.*, dns.* and http.* to their schemas, the rest generic', () => {
  const own = ['proc.start', 'proc.cpu', 'proc.cpu_perc', 'proc.mem', 'proc.thread', 'proc.fd', 'proc.child'];
  const fs = ['fs.read', 'fs.write', 'fs.seek', 'fs.stat', 'fs.duration'];
  const net = ['net.rx', 'net.tx', 'net.duration', 'net.tcp', 'net.udp', 'net.other', 'net.port'];
  const http = ['http.duration.client', 'http.duration.server', 'http.req.content_length', 'http.resp.content_length'];
  for (const name of [...own, ...fs, ...net, ...http]) assert.is(recordKind(metric(name)), name);
  // A metric named like an event source has its schema under the name with -metric appended.
  for (const name of ['fs.open', 'fs.close', 'fs.error', 'net.open', 'net.close', 'net.error', 'dns.req', 'http.req']) {
    assert.is(recordKind(metric(name)), `${name}-metric`);
  }
  assert.is(recordKind(metric('fs.open-metric')), 'metric');
  assert.is(recordKind(metric('net.open-metric')), 'metric');
  assert.is(recordKind(metric('fs.delete')), 'metric');
  assert.is(recordKind(metric('net.app')), 'metric');
  assert.is(recordKind(metric('http.resp')), 'metric');
  assert.is(recordKind(metric('proc.cpu_percent')), 'metric');
  assert.is(recordKind(metric('toString')), 'metric');
  assert.equal(validateRecord(metric('net.dns')), { ok: true, kind: 'metric' });
});

test('a relayed StatsD metric ("_source":"statsd") is judged by the statsd schema, whatever its name', () => {
  const relayed = (name: string) => ({ type: 'metric', body: { ...metric(name).body, _source: 'statsd' } });
  assert.is(recordKind(relayed('proc.cpu')), 'statsd');
  assert.equal(validateRecord(relayed('my-app.requests')), { ok: true, kind: 'statsd' });
  assert.is(validateRecord(metric('my-app.requests')).ok, false, 'our own metrics keep their name pattern');
});

test('a record missing its type is still judged by its body, and fails for the missing type', () => {
  const { type: _t, ...noType } = evt('fs.open', 'fs');
  assert.is(recordKind(noType), 'fs.open');
  const result = validateRecord(noType);
  assert.is(result.ok, false);
  if (!result.ok)
    assert.ok(
      result.errors.some((e) => e.includes("'type'")),
      result.errors.join('; '),
    );
  const { type: _m, ...noTypeMetric } = metric('proc.fd');
  assert.is(recordKind(noTypeMetric), 'proc.fd');
});

test('anything else is not a scope record', () => {
  for (const value of [null, 42, 'evt', [], {}, { type: 'status', ok: true }, { type: 'evt2', body: {} }]) {
    assert.is(recordKind(value), null, JSON.stringify(value));
    const result = validateRecord(value);
    assert.is(result.ok, false);
    assert.is(result.kind, null);
  }
});

test('ids are host-proc-last 32 characters of cmd', () => {
  assert.is(expectedRecordId('h', 'cat', 'cat /etc/hostname'), 'h-cat-cat /etc/hostname');
  const cmd = 'python3 -m http.server --bind 127.0.0.1 8080';
  assert.is(expectedRecordId('h', 'python3', cmd), `h-python3-${cmd.slice(-32)}`);
  const long = { ...evt('net.conn', 'net'), id: `h-python3-${cmd.slice(-32)}`, body: { ...body, proc: 'python3', cmd, source: 'net.conn', sourcetype: 'net' } };
  assert.equal(validateRecord(long), { ok: true, kind: 'event' });
  assert.is(validateRecord({ ...long, id: `h-python3-${cmd}` }).ok, false);
});

test('a non-ASCII command may be cut by bytes or by characters', () => {
  const cmd = 'echo ' + 'é'.repeat(40);
  const byChars = `h-echo-${'é'.repeat(32)}`;
  const byBytes = `h-echo-${'é'.repeat(16)}`;
  const rec = (id: string) => ({ ...evt('x', 'y'), id, body: { ...body, proc: 'echo', cmd, source: 'x', sourcetype: 'y' } });
  assert.is(validateRecord(rec(byChars)).ok, true);
  assert.is(validateRecord(rec(byBytes)).ok, true);
  assert.is(validateRecord(rec('h-echo-é')).ok, false);
});

test.run();
