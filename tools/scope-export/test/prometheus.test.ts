/**
 * --prometheus for real: GET /metrics while stdin is still open shows the metrics read so far, and
 * more input updates it; other paths are 404; after the input ends it keeps serving until SIGTERM,
 * or exits with --exit-on-eof. (promtool and a real Prometheus scrape: test/apps/export.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, exporter, runExporter, waitFor } from './helpers.js';

const metric = (name: string, type: string, value: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'metric', body: { _metric: name, _metric_type: type, _value: value, proc: 'p', pid: 7, host: 'h', ...extra, _time: 1700000000 } }) + '\n';

async function get(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

test('GET /metrics serves the metrics so far while stdin is open, updated by more input; 404 elsewhere; serves on after EOF until SIGTERM', async () => {
  const e = exporter(['--prometheus', '127.0.0.1:0']);
  await waitFor(() => /serving Prometheus metrics on (http:\S+)/.test(e.err()), 'the serving address');
  const url = /serving Prometheus metrics on (http:\S+)/.exec(e.err())![1]!;
  e.write(metric('fs.read', 'counter', 100, { unit: 'byte' }) + metric('proc.mem', 'gauge', 512) + 'proc.fd:3|g|#proc:p,pid:7,host:h\n');
  let text = '';
  await eventually(async () => {
    const r = await get(url);
    assert.is(r.status, 200);
    assert.is(r.type, 'text/plain; version=0.0.4; charset=utf-8');
    text = r.text;
    return text.includes('proc_fd');
  }, 'the first three metrics');
  // Prometheus's names: the unit a suffix (bytes), _total on counters, no pid label unless asked.
  assert.match(text, /^# TYPE fs_read_bytes_total counter$/m);
  assert.match(text, /^fs_read_bytes_total\{host="h",proc="p"\} 100$/m);
  assert.match(text, /^proc_mem\{host="h",proc="p"\} 512$/m);
  assert.match(text, /^proc_fd\{host="h",proc="p"\} 3$/m);

  e.write(metric('fs.read', 'counter', 20, { unit: 'byte' }) + metric('proc.mem', 'gauge', 640) + metric('net.duration', 'timer', 5));
  await eventually(async () => (text = (await get(url)).text).includes('net_duration'), 'the next three');
  assert.match(text, /^fs_read_bytes_total\{.*\} 120$/m, 'counters add up');
  assert.match(text, /^proc_mem\{.*\} 640$/m, 'a gauge is its last value');
  assert.match(text, /^net_duration_count\{.*\} 1$/m);

  const missing = await get(url.replace('/metrics', '/other'));
  assert.is(missing.status, 404);

  e.end();
  await waitFor(() => e.err().includes('input ended; still serving'), 'the still-serving notice');
  assert.match((await get(url)).text, /^fs_read_bytes_total\{.*\} 120$/m, 'still served after EOF');
  e.child.kill('SIGTERM');
  assert.is(await e.done, 0, e.err());
  assert.match(e.err(), /metrics: 6 metric records, \d+ scrapes/);
});

test('--exit-on-eof: the input ending ends the tool', async () => {
  const ran = await runExporter(['--prometheus', '127.0.0.1:0', '--exit-on-eof'], metric('fs.read', 'counter', 1));
  assert.is(ran.status, 0, ran.stderr);
  assert.match(ran.stderr, /1 metric records, 0 scrapes/);
});

test.run();
