// proc.fd is the number of the app's descriptors. The reporting thread counts /proc/self/fd (the
// app's table) in a descriptor table of its own, so the directory it opens to count is not among
// them: counted as if it were, every figure was one short.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { isMetric, prog, run, session } from './lib.js';

const s = session({ SCOPE_SUMMARY_PERIOD: '1', SCOPE_METRIC_FORMAT: 'ndjson' });
const r = run(prog('fdcount'), [], s.env, 30_000);
const metrics = s.metrics().filter(isMetric);
test.after(() => rmSync(s.dir, { recursive: true, force: true }));

test('fdcount ran', () => {
  assert.is(r.status, 0, r.stderr.toString());
});

test("proc.fd is the app's own count, at each period and at the exit", () => {
  const own = Number(r.stdout.toString().trim());
  assert.ok(own >= 10, `the program counted ${own} descriptors (3 standard and 7 opened at least)`);
  const fds = metrics.filter((m) => m.body._metric === 'proc.fd');
  assert.ok(fds.length >= 2, `proc.fd reported during the run and at the exit (${fds.length} lines)`);
  for (const m of fds) assert.is(Number(m.body._value), own, JSON.stringify(m.body));
});

test.run();
