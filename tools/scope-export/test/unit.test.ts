/**
 * The pieces on their own: the protobuf writer against the official decoder, backoff bounds,
 * Retry-After, StatsD packing, NATS subjects and the OTLP unit and severity choices.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffMs, BACKOFF_CAP_MS } from '../src/destination.js';
import type { Item } from '../src/item.js';
import { readItem } from '../src/item.js';
import { subjectOf, subjectToken } from '../src/nats.js';
import { MetricMapper, nanos, unitOf } from '../src/otlp-map.js';
import { retryAfterMs } from '../src/otlp.js';
import { logsRequestPb } from '../src/otlp-model.js';
import { ProtoWriter } from '../src/protobuf.js';
import { packDatagrams } from '../src/statsd.js';
import { otlpRoot } from './helpers.js';

test('protobuf writer: varints (negative int64 too), fixed64, doubles, strings and nested messages decode with the official definitions', () => {
  const kv = (key: string, value: ProtoWriter) => new ProtoWriter().string(1, key).message(2, value);
  const res = new ProtoWriter()
    .message(1, kv('neg', new ProtoWriter().varint(3, -5n)))
    .message(1, kv('big', new ProtoWriter().varint(3, 9007199254740993n)))
    .message(1, kv('d', new ProtoWriter().double(4, -0.125)))
    .message(1, kv('s', new ProtoWriter().string(1, 'héllo')))
    .message(1, kv('b', new ProtoWriter().varint(2, true)));
  const Resource = otlpRoot.opentelemetry.proto.resource.v1.Resource;
  const obj = Resource.toObject(Resource.decode(res.finish()), { longs: String });
  assert.equal(
    obj.attributes.map((a: any) => [a.key, a.value]),
    [
      ['neg', { intValue: '-5' }],
      ['big', { intValue: '9007199254740993' }],
      ['d', { doubleValue: -0.125 }],
      ['s', { stringValue: 'héllo' }],
      ['b', { boolValue: true }],
    ],
  );
  const Logs = otlpRoot.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
  const buf = logsRequestPb([
    {
      resource: [],
      scope: { name: 's', version: '1' },
      logRecords: [{ timeUnixNano: 18446744073709551615n, observedTimeUnixNano: 1n, severityNumber: 9, severityText: 'INFO', body: { array: [{ int: 1n }, { kvlist: [] }] }, attributes: [] }],
    },
  ]);
  const rec = Logs.toObject(Logs.decode(buf), { longs: String }).resourceLogs[0].scopeLogs[0].logRecords[0];
  assert.is(rec.timeUnixNano, '18446744073709551615', 'fixed64 keeps all 64 bits');
  assert.equal(rec.body.arrayValue.values[0], { intValue: '1' });
});

test('nanoseconds from _time round at the microsecond', () => {
  assert.is(nanos(1700000000.123456), 1700000000123456000n);
  assert.is(nanos(0.1 + 0.2), 300000000n);
});

test('backoff: starts near 250 ms, doubles, never passes the cap', () => {
  assert.is(
    backoffMs(0, () => 0),
    125,
  );
  assert.is(
    backoffMs(0, () => 1),
    250,
  );
  assert.is(
    backoffMs(3, () => 1),
    2000,
  );
  assert.is(
    backoffMs(40, () => 1),
    BACKOFF_CAP_MS,
  );
});

test('Retry-After: seconds or an HTTP date', () => {
  assert.is(retryAfterMs('3'), 3000);
  assert.is(retryAfterMs(undefined), undefined);
  assert.is(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  assert.is(retryAfterMs('soon'), undefined);
});

test('StatsD datagrams are packed up to the maximum', () => {
  assert.equal(packDatagrams(['aaaa', 'bbbb', 'cccc'], 9), { datagrams: ['aaaa\nbbbb', 'cccc'], tooLong: 0 });
  assert.equal(packDatagrams(['a'.repeat(10), 'b'], 9), { datagrams: ['b'], tooLong: 1 });
});

test('NATS subjects: <subject>.<host>.<sourcetype|metric|start>, tokens made safe', () => {
  assert.is(subjectToken('web-1.example.com'), 'web-1_example_com');
  assert.is(subjectToken('a b*>'), 'a_b__');
  assert.is(subjectToken(''), 'unknown');
  const item = (line: string) => readItem(line) as Item;
  assert.is(subjectOf('scope', item('{"type":"evt","body":{"sourcetype":"net","host":"h.x"}}')), 'scope.h_x.net');
  assert.is(subjectOf('a.b', item('m:1|c|#host:h')), 'a.b.h.metric');
  assert.is(subjectOf('s', item('{"format":"ndjson","info":{"process":{"hostname":"box"}}}')), 's.box.start');
  assert.is(subjectOf('s', item('{"type":"metric","body":{"_metric":"m","_metric_type":"gauge","_value":1}}')), 's.unknown.metric');
});

test('delta start times: the previous point of the series; the same when a batch is mapped again for a retry', () => {
  const m = (value: number, time: number) =>
    (readItem(JSON.stringify({ type: 'metric', body: { _metric: 'c', _metric_type: 'counter', _value: value, host: 'h', _time: time } })) as Extract<Item, { kind: 'metric' }>).metric;
  const mapper = new MetricMapper(undefined);
  const batch = [m(1, 10), m(2, 20)];
  const starts = () => mapper.map(batch, 0n).flatMap((rm) => rm.metrics.flatMap((x) => ('sum' in x.data ? x.data.sum : []).map((p) => [p.startTimeUnixNano, p.timeUnixNano])));
  const first = starts();
  assert.equal(first, [
    [10_000_000_000n, 10_000_000_000n],
    [10_000_000_000n, 20_000_000_000n],
  ]);
  assert.equal(starts(), first, 'a retry sends the same points');
  const next = mapper.map([m(3, 30)], 0n)[0]!.metrics[0]!.data;
  assert.ok('sum' in next && next.sum[0]!.startTimeUnixNano === 20_000_000_000n);
});

test("a summary's numops and max: the histogram point counts numops observations (sum = mean × numops, max the longest); neither is an attribute", () => {
  const m = (body: Record<string, unknown>) =>
    (
      readItem(
        JSON.stringify({ type: 'metric', body: { _metric: 'fs.duration', _metric_type: 'histogram', host: 'h', _time: 1, unit: 'microsecond', op: 'read', summary: 'true', ...body } }),
      ) as Extract<Item, { kind: 'metric' }>
    ).metric;
  const points = new MetricMapper(undefined)
    .map([m({ _value: 10, numops: 4, max: 30 }), m({ _value: 7 })], 0n)
    .flatMap((rm) => rm.metrics.flatMap((x) => ('histogram' in x.data ? x.data.histogram : [])));
  assert.equal(
    points.map((p) => [p.count, p.sum, p.min, p.max]),
    [
      [4n, 40, undefined, 30],
      [1n, 7, 7, 7],
    ],
  );
  assert.equal(points[0]!.attributes.map((a) => a.key).sort(), ['op', 'summary']);
});

test('AppScope units in UCUM', () => {
  assert.is(unitOf('byte'), 'By');
  assert.is(unitOf('microsecond'), 'us');
  assert.is(unitOf('operation'), '{operation}');
  assert.is(unitOf(undefined), '');
});

test.run();
