/** The pure parts: line parsing, name matching, aggregation, Prometheus naming and escaping, the chart. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Aggregator, aggregateRecord } from '../src/aggregate.js';
import { renderGraph, Series } from '../src/graph.js';
import { nameMatcher } from '../src/metrics.js';
import { escapeLabelValue, parseLine, promLabelName, promLabels, promMetricName, PrometheusWriter, statsdLine } from '@scope/core';
import type { Metric } from '@scope/core';

const metric = (line: string): Metric => {
  const p = parseLine(line);
  if (p.kind !== 'metric') throw new Error(`not a metric: ${line} (${p.kind === 'bad' ? p.why : 'skipped'})`);
  return p.metric;
};

test('a StatsD line is a metric: type letters, tags, numeric dims back to numbers, sample rate ignored', () => {
  const m = metric('net.duration:2.5|ms|@0.5|#proc:cat,pid:12037,port:443,file:/a:b,unit:millisecond');
  assert.equal([m.name, m.type, m.value, m.time], ['net.duration', 'timer', 2.5, null]);
  assert.equal(m.dims, { proc: 'cat', pid: 12037, port: 443, file: '/a:b', unit: 'millisecond' });
  assert.equal(JSON.parse(m.json), { type: 'metric', body: { _metric: 'net.duration', _metric_type: 'timer', _value: 2.5, proc: 'cat', pid: 12037, port: 443, file: '/a:b', unit: 'millisecond' } });
  for (const [letter, type] of [
    ['c', 'counter'],
    ['g', 'gauge'],
    ['ms', 'timer'],
    ['h', 'histogram'],
    ['s', 'set'],
  ]) {
    assert.is(metric(`x:1|${letter}`).type, type);
  }
  assert.equal(metric('app.up:1|g').dims, {});
});

test('what is not a metric: skipped records and bad lines with their reasons', () => {
  assert.is(parseLine('').kind, 'skip');
  assert.is(parseLine('{"type":"evt","body":{}}').kind, 'skip');
  assert.is(parseLine('{"format":"ndjson","info":{}}').kind, 'skip');
  const why = (l: string) => {
    const p = parseLine(l);
    return p.kind === 'bad' ? p.why : `not bad: ${p.kind}`;
  };
  assert.match(why('x:abc|c'), /StatsD value "abc" is not a number/);
  assert.match(why('x:1|q'), /not a JSON object or a StatsD line/);
  assert.match(why('[1,2]'), /not a JSON object/);
  assert.match(why('{"type":"metric"}'), /without a "body"/);
  assert.match(why('{"type":"metric","body":{"_metric":"a","_metric_type":"meter","_value":1}}'), /_metric_type/);
  assert.match(why('{"type":"metric","body":{"_metric":"a","_metric_type":"gauge","_value":1,"_time":"now"}}'), /_time/);
});

test('--metric names: exact, and prefixes with a trailing *', () => {
  const m = nameMatcher(['proc.cpu', 'net.*', 'fs*']);
  assert.ok(m('proc.cpu') && m('net.rx') && m('fs.open') && m('fsx'));
  assert.not.ok(m('proc.cpu_perc') || m('net') || m('proc.mem'));
  assert.ok(nameMatcher(undefined)('anything'));
});

test('aggregation: counters summed, gauges last, timers count/min/avg/max, sets distinct; tag sets apart', () => {
  const agg = new Aggregator();
  for (const l of ['c:1|c|#pid:1', 'c:2|c|#pid:1', 'c:5|c|#pid:2', 'g:10|g', 'g:4|g', 'g:7|g', 't:2|ms', 't:4|ms', 't:9|ms', 's:1|s', 's:2|s', 's:1|s']) agg.add(metric(l));
  const out = agg.all().map((a) => aggregateRecord(a)['body']);
  assert.equal(out, [
    { _metric: 'c', _metric_type: 'counter', _value: 3, pid: 1, _count: 2 },
    { _metric: 'c', _metric_type: 'counter', _value: 5, pid: 2, _count: 1 },
    { _metric: 'g', _metric_type: 'gauge', _value: 7, _count: 3, _min: 4, _avg: 7, _max: 10 },
    { _metric: 's', _metric_type: 'set', _value: 2, _count: 3 },
    { _metric: 't', _metric_type: 'timer', _value: 15, _count: 3, _min: 2, _avg: 5, _max: 9 },
  ]);
});

test('prometheus names and labels', () => {
  assert.is(promMetricName('http.duration.server'), 'http_duration_server');
  assert.is(promMetricName('9lives'), '_9lives');
  assert.is(promLabelName('serviceName'), 'service_name');
  assert.is(promLabelName('x-team'), 'x_team');
  assert.is(promLabelName('__secret'), '_secret');
  assert.is(promLabelName('1st'), '_1st');
  assert.is(promLabelName('quantile'), 'quantile_');
  assert.is(escapeLabelValue('a\\b "c"\nd'), 'a\\\\b \\"c\\"\\nd');
  assert.is(promLabels({ 'a.b': 1, a_b: 2 }), '{a_b="1",a_b_2="2"}');
  assert.is(promLabels({}), '');
});

test('prometheus: one sample per family and label set, a type clash left out with a warning', () => {
  const warnings: string[] = [];
  const w = new PrometheusWriter((m) => warnings.push(m));
  for (const l of ['x.y:1|c|#a:1', 'x.y:2|c|#a:1', 'x.y:3|g|#a:1', 'x.y:4|g|#a:1', 'x.y:5|ms|#a:1', 'x.y:7|s']) w.add(metric(l));
  assert.equal(w.lines(), ['# HELP x_y scope metric x.y (gauge)', '# TYPE x_y gauge', 'x_y{a="1"} 4', '# HELP x_y_total scope metric x.y (counter)', '# TYPE x_y_total counter', 'x_y_total{a="1"} 3']);
  assert.is(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0] as string, /x\.y is a timer here but x_y is already a gauge/);
});

test('prometheus: numops and max are not labels; a summary record of n calls weighs n (fs.duration summaries of two periods are one series)', () => {
  const w = new PrometheusWriter(() => {});
  w.add(metric('fs.duration:10|h|#op:read,numops:3,max:20'));
  w.add(metric('fs.duration:4|h|#op:read,numops:1,max:4'));
  w.add(metric('fs.read:100|c|#op:read,numops:3'));
  w.add(metric('fs.read:50|c|#op:read,numops:2'));
  assert.equal(
    w.lines().filter((l) => !l.startsWith('#')),
    ['fs_duration_sum{op="read"} 34', 'fs_duration_count{op="read"} 4', 'fs_read_total{op="read"} 150'],
  );
});

test('prometheus names: units as base-unit suffixes with the values converted, _total on counters, pid a label only when asked (gauges of several processes summed)', () => {
  const w = new PrometheusWriter(() => {});
  for (const l of [
    'proc.mem:2|g|#proc:a,pid:1,unit:kibibyte',
    'proc.mem:3|g|#proc:a,pid:2,unit:kibibyte',
    'proc.mem:4|g|#proc:a,pid:1,unit:kibibyte',
    'proc.cpu:1500|c|#proc:a,pid:1,unit:microsecond',
    'proc.cpu_perc:50|g|#proc:a,pid:1,unit:percent',
    'net.duration:20|ms|#unit:millisecond',
    'fs.open:3|c|#unit:operation',
  ])
    w.add(metric(l));
  assert.equal(
    w.lines().filter((l) => !l.startsWith('#')),
    ['fs_open_total 3', 'net_duration_seconds_sum 0.02', 'net_duration_seconds_count 1', 'proc_cpu_ratio{proc="a"} 0.5', 'proc_cpu_seconds_total{proc="a"} 0.0015', 'proc_mem_bytes{proc="a"} 7168'],
  );
  const p = new PrometheusWriter(() => {}, { pidLabel: true });
  for (const l of ['proc.mem:2|g|#proc:a,pid:1,unit:kibibyte', 'proc.mem:3|g|#proc:a,pid:2,unit:kibibyte']) p.add(metric(l));
  assert.equal(
    p.lines().filter((l) => !l.startsWith('#')),
    ['proc_mem_bytes{pid="1",proc="a"} 2048', 'proc_mem_bytes{pid="2",proc="a"} 3072'],
  );
});

test('statsd out: characters that would break the line replaced', () => {
  assert.is(statsdLine('a|b', 'counter', 3, { 'k:x': 'v,w', n: 2 }), 'a_b:3|c|#k_x:v_w,n:2');
  assert.is(statsdLine('g', 'histogram', 1.5, {}), 'g:1.5|h');
});

test('graph: one sample is one point at the left; a flat series sits on the bottom row', () => {
  const s = new Series();
  s.add(metric('{"type":"metric","body":{"_metric":"m","_metric_type":"gauge","_value":5,"_time":1700000000}}'), 'k');
  const out = renderGraph('m', s, 30);
  assert.is(out.length, 13);
  assert.is(out[0], 'm (gauge): 1 sample, sum of 1 series');
  assert.is(out[10], '5 |*');
  assert.is(out[11], `  +${'-'.repeat(27)}`);
});

test.run();
