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
  assert.is(recordKind(evt('net.open', 'net')), 'event');
  assert.is(recordKind(evt('fs.chmod', 'fs')), 'event');
  assert.is(recordKind(evt('fs.open', 'metric')), 'fs.open');
  assert.is(recordKind(evt('constructor', 'x')), 'event');
  assert.equal(validateRecord(evt('http.req', 'http')), { ok: true, kind: 'event' });
});

test('metrics dispatch on body._metric: proc.* and fs.* to their schemas, the rest generic', () => {
  const own = ['proc.start', 'proc.cpu', 'proc.cpu_perc', 'proc.mem', 'proc.thread', 'proc.fd', 'proc.child'];
  for (const name of [...own, 'fs.read', 'fs.write', 'fs.seek', 'fs.stat', 'fs.duration']) assert.is(recordKind(metric(name)), name);
  assert.is(recordKind(metric('fs.open')), 'fs.open-metric');
  assert.is(recordKind(metric('fs.close')), 'fs.close-metric');
  assert.is(recordKind(metric('fs.error')), 'fs.error-metric');
  assert.is(recordKind(metric('fs.open-metric')), 'metric');
  assert.is(recordKind(metric('fs.delete')), 'metric');
  assert.is(recordKind(metric('proc.cpu_percent')), 'metric');
  assert.is(recordKind(metric('toString')), 'metric');
  assert.equal(validateRecord(metric('net.tcp')), { ok: true, kind: 'metric' });
});

test('a record missing its type is still judged by its body, and fails for the missing type', () => {
  const { type: _t, ...noType } = evt('fs.open', 'fs');
  assert.is(recordKind(noType), 'fs.open');
  const result = validateRecord(noType);
  assert.is(result.ok, false);
  if (!result.ok) assert.ok(result.errors.some((e) => e.includes("'type'")), result.errors.join('; '));
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
  const long = { ...evt('net.open', 'net'), id: `h-python3-${cmd.slice(-32)}`, body: { ...body, proc: 'python3', cmd, source: 'net.open', sourcetype: 'net' } };
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
