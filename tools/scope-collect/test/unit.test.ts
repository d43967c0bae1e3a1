import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { metricRecord, parseStatsd } from '@scope/core';
import type { Metric } from '@scope/core';
import { LineSplitter } from '../src/lines.js';
import type { LineItem } from '../src/lines.js';
import { tagPeer } from '../src/tag.js';

const text = (items: LineItem[]) => items.map((i) => (i.kind === 'line' ? `${i.line}:${i.bytes.toString()}` : `${i.line}:OVERFLOW`));

test('LineSplitter joins a line split across chunks and numbers lines', () => {
  const s = new LineSplitter(100);
  assert.equal(text(s.push(Buffer.from('ab'))), []);
  assert.equal(text(s.push(Buffer.from('c\nde'))), ['1:abc']);
  assert.equal(text(s.push(Buffer.from('\n\nf'))), ['2:de', '3:']);
  assert.equal(text(s.end()), ['4:f']);
  assert.equal(text(s.end()), []);
});

test('LineSplitter reports an over-long line once, as soon as it is too long, and goes on after its newline', () => {
  const s = new LineSplitter(4);
  assert.equal(text(s.push(Buffer.from('ok\n123'))), ['1:ok']);
  assert.equal(text(s.push(Buffer.from('45'))), ['2:OVERFLOW']);
  assert.equal(text(s.push(Buffer.from('6789'))), []);
  assert.equal(text(s.push(Buffer.from('0\nabcd\n'))), ['3:abcd']);
});

test('tagPeer puts collector_peer first in the top-level body, every other byte kept', () => {
  assert.is(tagPeer('{"type":"evt","body":{"a":1.50}}', 'tcp://h:1'), '{"type":"evt","body":{"collector_peer":"tcp://h:1","a":1.50}}');
  assert.is(tagPeer('{"type":"metric","body":{ }}', 'p'), '{"type":"metric","body":{"collector_peer":"p" }}');
  // A "body" key inside data or inside a string is not the record's body.
  assert.is(tagPeer('{"data":{"body":{"x":1}},"s":"\\"body\\":{","body":{"y":2}}', 'p'), '{"data":{"body":{"x":1}},"s":"\\"body\\":{","body":{"collector_peer":"p","y":2}}');
  assert.is(tagPeer('{"format":"ndjson","info":{"process":{}}}', 'p'), null);
  assert.is(tagPeer('{"body":"text"}', 'p'), null);
});

test('metricRecord: the record libscope writes for a metric, _time last when given', () => {
  const m = parseStatsd('proc.cpu:4339|c|#proc:sleep,pid:78871') as Metric;
  assert.is(metricRecord(m), '{"type":"metric","body":{"_metric":"proc.cpu","_metric_type":"counter","_value":4339,"proc":"sleep","pid":78871}}');
  assert.is(metricRecord(m, 1700000000.5), '{"type":"metric","body":{"_metric":"proc.cpu","_metric_type":"counter","_value":4339,"proc":"sleep","pid":78871,"_time":1700000000.5}}');
});

test.run();
