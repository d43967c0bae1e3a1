/**
 * `scope metrics --format prometheus` checked by Prometheus's own linter: a real `scope run` of curl
 * fetching a page from a node http server this test starts (port 0, stopped at the end) gives fs.*,
 * net.* and proc.* metrics; their exposition text must pass `promtool check metrics` (stdin) with
 * status 0 and nothing printed. The same for scope-metrics' richest fixture (counters, gauges, timers,
 * histograms, a set, summary dims, two pids, awkward label names and values). promtool comes from
 * Debian's `prometheus` package (test/apps/install.sh).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { envFor, newHome, readLast, repoRoot, runBin, scopeBin } from '../lib/harness.js';

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: r.stdout + r.stderr };
}

/** Every sample line's name and labels: none may appear twice. */
function duplicates(text: string): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const key = line.slice(0, line.lastIndexOf(' '));
    if (seen.has(key)) dups.push(key);
    seen.add(key);
  }
  return dups;
}

test('scope run of curl against a local server: its metrics as Prometheus text pass promtool check metrics', async () => {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${req.url}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const home = newHome();
  try {
    const ran = await runBin(scopeBin, ['run', '--no-stream', '--', 'curl', '-s', '-o', '/dev/null', `http://127.0.0.1:${port}/x`], envFor(home));
    assert.is(ran.status, 0, ran.stderr);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const { metrics } = await readLast(home);
  const names = new Set(metrics.map((m) => m.body._metric));
  for (const n of ['proc.start', 'proc.cpu', 'fs.open']) assert.ok(names.has(n), `the session has ${n}: ${[...names].join(' ')}`);
  assert.ok(
    [...names].some((n) => n.startsWith('net.')),
    `the session has net.* metrics: ${[...names].join(' ')}`,
  );

  const out = await runBin(scopeBin, ['metrics', '--format', 'prometheus'], envFor(home));
  assert.is(out.status, 0, out.stderr);
  assert.is(out.stderr, '');
  assert.match(out.stdout, /^# TYPE proc_start_total counter$/m);
  assert.match(out.stdout, /^# TYPE fs_open_total counter$/m);
  assert.match(out.stdout, /^net_[a-z_]+\{/m);
  assert.match(out.stdout, /^proc_start_total\{.*proc="curl".*\} 1$/m);
  assert.not.match(out.stdout, /pid="/, 'no pid label unless asked');
  const withPid = await runBin(scopeBin, ['metrics', '--format', 'prometheus', '--pid-label'], envFor(home));
  assert.match(withPid.stdout, /^proc_start_total\{.*pid="\d+".*\} 1$/m);
  assert.is(promtool(withPid.stdout).output, '', 'promtool: no problem with pid labels either');
  assert.equal(duplicates(out.stdout), [], 'no duplicate samples');
  const checked = promtool(out.stdout);
  assert.is(checked.output, '', 'promtool found no problem');
  assert.is(checked.status, 0);
});

test('the richest scope-metrics fixture as Prometheus text passes promtool check metrics', async () => {
  const fixture = join(repoRoot, 'tools/scope-metrics/test/fixtures/metrics.ndjson');
  const out = spawnSync(process.execPath, [join(repoRoot, 'tools/scope-metrics/bin/scope-metrics.js'), '--format', 'prometheus'], {
    input: readFileSync(fixture),
    encoding: 'utf8',
    env: envFor(newHome()),
  });
  assert.is(out.status, 0, out.stderr);
  assert.match(out.stdout, /^# TYPE net_duration_seconds summary$/m);
  assert.match(out.stdout, /^# TYPE proc_cpu_seconds_total counter$/m);
  assert.match(out.stdout, /^# TYPE proc_mem_bytes gauge$/m);
  assert.not.match(out.stdout, /pid="/);
  assert.match(out.stdout, /note="two\\nlines"/);
  assert.equal(duplicates(out.stdout), []);
  const checked = promtool(out.stdout);
  assert.is(checked.output, '', 'promtool found no problem');
  assert.is(checked.status, 0);
});

test('promtool does catch a problem (the check can fail): a counter without _total, no HELP', () => {
  const checked = promtool('# TYPE foo counter\nfoo 1\n');
  assert.is.not(checked.status, 0);
  assert.match(checked.output, /_total/);
});

test.run();
