/**
 * Golden tests: every view and format on fixed fixtures, the tool run as a real process with stdin a
 * file and stdout a pipe, output compared byte for byte with test/golden/ (UPDATE_GOLDEN=1 rewrites).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, fixtures, lines, matchGolden, run, toolEnv } from './helpers.js';
import { tempDir } from '@scope/core/testing';

const METRICS = `${fixtures}metrics.ndjson`;
const STATSD = `${fixtures}statsd.metrics`;
const BAD = `${fixtures}bad.ndjson`;

interface Case {
  golden: string;
  args: string[];
  stdin: string;
  env?: Record<string, string>;
}

const cases: Case[] = [
  { golden: 'table.txt', args: ['--pretty'], stdin: METRICS },
  { golden: 'table-format.txt', args: ['--format', 'table'], stdin: METRICS },
  { golden: 'raw.ndjson', args: [], stdin: METRICS },
  { golden: 'filter.txt', args: ['--pretty', '-m', 'proc.cpu,net.*'], stdin: METRICS },
  { golden: 'filter.ndjson', args: ['--json', '--metric', 'fs.*'], stdin: METRICS },
  { golden: 'uniq.txt', args: ['--pretty', '-u'], stdin: METRICS },
  { golden: 'uniq.ndjson', args: ['--uniq', '--json'], stdin: METRICS },
  { golden: 'uniq.statsd', args: ['-u', '--format', 'statsd', '-m', 'proc.*'], stdin: METRICS },
  { golden: 'aggregate.txt', args: ['--pretty', '-A'], stdin: METRICS },
  { golden: 'aggregate.ndjson', args: ['--aggregate'], stdin: METRICS },
  { golden: 'aggregate.statsd', args: ['-A', '--format', 'statsd'], stdin: METRICS },
  { golden: 'cols.txt', args: ['--pretty', '-c'], stdin: METRICS },
  { golden: 'cols-filter.txt', args: ['--pretty', '--cols', '-m', 'proc.*'], stdin: METRICS },
  { golden: 'cols.ndjson', args: ['--cols', '--json'], stdin: METRICS },
  { golden: 'graph.txt', args: ['-g', '-m', 'proc.cpu'], stdin: METRICS },
  { golden: 'graph-60.txt', args: ['--graph', '--metric', 'proc.mem'], stdin: METRICS, env: { COLUMNS: '60' } },
  { golden: 'graph-timer.txt', args: ['-g', '-m', 'net.duration', '--pretty'], stdin: METRICS },
  { golden: 'graph-one.txt', args: ['-g', '-m', 'proc.cpu_perc'], stdin: METRICS },
  { golden: 'graph.ndjson', args: ['-g', '-m', 'proc.cpu', '--json'], stdin: METRICS },
  { golden: 'raw.statsd', args: ['--format', 'statsd'], stdin: METRICS },
  { golden: 'prometheus.prom', args: ['--format', 'prometheus'], stdin: METRICS },
  { golden: 'prometheus-filter.prom', args: ['-A', '--format', 'prometheus', '-m', 'proc.*'], stdin: METRICS },
  { golden: 'statsd-in.txt', args: ['--pretty'], stdin: STATSD },
  { golden: 'statsd-in.ndjson', args: [], stdin: STATSD },
  { golden: 'statsd-in-aggregate.txt', args: ['--pretty', '-A'], stdin: STATSD },
  { golden: 'statsd-in-cols.txt', args: ['--pretty', '-c'], stdin: STATSD },
  { golden: 'statsd-in-graph.txt', args: ['-g', '-m', 'proc.cpu'], stdin: STATSD },
  { golden: 'statsd-in.statsd', args: ['--format', 'statsd'], stdin: STATSD },
  { golden: 'statsd-in.prom', args: ['--format', 'prometheus'], stdin: STATSD },
];

for (const c of cases) {
  test(`golden ${c.golden}: scope-metrics ${c.args.join(' ')}`, () => {
    const r = run(c.args, { stdin: c.stdin, ...(c.env ? { env: c.env } : {}) });
    assert.is(r.stderr, '', 'nothing on stderr');
    assert.is(r.status, 0);
    matchGolden(c.golden, r.stdout);
  });
}

test('json out of NDJSON in: every metric record unchanged, in order; events and process-start records skipped', () => {
  const r = run([], { stdin: METRICS });
  const expected = lines(readFileSync(METRICS, 'utf8')).filter((l) => l.startsWith('{"type":"metric"'));
  assert.equal(lines(r.stdout), expected);
});

test('--json and --format json are the same; --pretty and --format table are the same', () => {
  assert.is(run(['--json', '-A'], { stdin: METRICS }).stdout, run(['--format', 'json', '-A'], { stdin: METRICS }).stdout);
  assert.is(run(['--pretty', '-u'], { stdin: METRICS }).stdout, run(['--format', 'table', '-u'], { stdin: METRICS }).stdout);
});

test('graph width follows COLUMNS: every line fits, the axis fills it', () => {
  for (const cols of ['40', '80', '132']) {
    const out = lines(run(['-g', '-m', 'proc.cpu'], { stdin: METRICS, env: { COLUMNS: cols } }).stdout);
    assert.is(out.length, 1 + 10 + 2, 'title, 10 rows, axis, labels');
    assert.ok(
      out.slice(1).every((l) => l.length <= Number(cols)),
      `the chart fits in ${cols}`,
    );
    assert.is((out[11] as string).length, Number(cols), 'x axis as wide as the chart');
  }
});

test('bad input: each bad line named with its line number, every good record still printed, status 1', () => {
  const r = run(['--json'], { stdin: BAD });
  assert.is(r.status, 1);
  matchGolden('bad.ndjson', r.stdout);
  matchGolden('bad.stderr', r.stderr);
  assert.match(r.stderr, /^scope-metrics: stdin:2: not a JSON object or a StatsD line/m);
  assert.match(r.stderr, /^scope-metrics: stdin:3: metric record: "_value" is not a number/m);
  assert.match(r.stderr, /^scope-metrics: stdin:5: not a scope record/m);
  assert.match(r.stderr, /^scope-metrics: stdin:7: /m, 'the truncated last line');
  assert.is(lines(r.stdout).length, 3, 'proc.cpu, proc.mem and the StatsD proc.fd');
});

test('bad input with -A and prometheus: still aggregated, still status 1', () => {
  const a = run(['-A', '--pretty'], { stdin: BAD });
  assert.is(a.status, 1);
  assert.match(a.stdout, /^proc\.cpu +100 /m);
  const p = run(['--format', 'prometheus'], { stdin: BAD });
  assert.is(p.status, 1);
  assert.match(p.stdout, /^proc_mem_bytes\{host="h",proc="a"\} 2048000$/m);
  const withPid = run(['--format', 'prometheus', '--pid-label'], { stdin: BAD });
  assert.match(withPid.stdout, /^proc_mem_bytes\{host="h",pid="7",proc="a"\} 2048000$/m);
  const misuse = run(['--pid-label'], { stdin: BAD });
  assert.is(misuse.status, 2);
  assert.match(misuse.stderr, /--pid-label goes with --format prometheus/);
});

test('--strict stops at the first bad line', () => {
  const r = run(['--json', '--strict'], { stdin: BAD });
  assert.is(r.status, 1);
  assert.is(lines(r.stdout).length, 1);
  assert.is(lines(r.stderr).filter((l) => l.startsWith('scope-metrics:')).length, 1);
});

test('usage errors: status 2, the problem named', () => {
  const expect = (args: string[], re: RegExp) => {
    const r = run(args, { stdin: METRICS });
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.is(r.stdout, '');
  };
  expect(['--bogus'], /unknown option "--bogus"/);
  expect(['-g'], /--graph charts exactly one metric/);
  expect(['-g', '-m', 'proc.cpu,proc.mem'], /--graph charts exactly one metric/);
  expect(['-g', '-m', 'proc.*'], /--graph charts exactly one metric/);
  expect(['-u', '-A'], /--uniq and --aggregate cannot be used together/);
  expect(['-c', '-g', '-m', 'x'], /--cols and --graph cannot be used together/);
  expect(['--format', 'xml'], /--format: "xml" is not one of table, json, statsd, prometheus/);
  expect(['--cols', '--format', 'prometheus'], /--cols cannot be written as prometheus/);
  expect(['-g', '-m', 'proc.cpu', '--format', 'statsd'], /--graph cannot be written as statsd/);
  expect(['-u', '--format', 'prometheus'], /--uniq cannot be used with --format prometheus/);
  expect(['--json', '--pretty'], /--json and --pretty cannot be used together/);
  expect(['--json', '--format', 'statsd'], /--json and --format statsd/);
  expect(['-m', ','], /--metric: give at least one metric name/);
  expect(['a.json', 'b.json'], /one input at most \(a file, a session directory or -\), not "b\.json" too/);
  expect(['--id', 'x'], /--id: "x" is not a session id/);
});

test('--graph of a metric that is not there: a message and status 1', () => {
  const r = run(['-g', '-m', 'no.such'], { stdin: METRICS });
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /scope-metrics: no samples of no\.such/);
});

test('colour only on a terminal: a pipe with --pretty gets none', () => {
  const r = run(['--pretty', '-A'], { stdin: METRICS });
  assert.not.match(r.stdout, /\u001b\[/);
});

/** Run scope-metrics with stdout a terminal (util-linux `script` gives it a pty). */
function onTerminal(args: string, env: Record<string, string> = {}): string {
  const r = spawnSync('script', ['-qec', `stty cols 200; ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} ${args} < ${JSON.stringify(METRICS)}`, '/dev/null'], {
    encoding: 'utf8',
    env: toolEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return r.stdout.replace(/\r\n/g, '\n');
}

test('on a terminal: a table by default, bold header and faint tags; NO_COLOR turns colour off', () => {
  const tty = onTerminal('-A -m proc.cpu');
  assert.ok(tty.startsWith('\u001b[1mNAME      VALUE  TYPE'), JSON.stringify(tty.slice(0, 40)));
  assert.match(tty, /\u001b\[2mhost:h1,proc:app\u001b\[0m/);
  const plain = onTerminal('-A -m proc.cpu', { NO_COLOR: '1' });
  assert.not.match(plain, /\u001b\[/);
  assert.is(plain, run(['-A', '-m', 'proc.cpu', '--pretty'], { stdin: METRICS }).stdout);
});

test('a reader that goes away (| head -1): status 0, nothing on stderr', () => {
  const big = join(tempDir('scope-metrics-big-'), 'big.ndjson');
  writeFileSync(big, readFileSync(METRICS, 'utf8').repeat(3000));
  for (const args of ['', '--format statsd', '--pretty']) {
    const r = spawnSync('bash', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} ${args} < ${big} 2>${big}.err | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"; cat ${big}.err`], {
      encoding: 'utf8',
      env: toolEnv(),
    });
    assert.is(r.stdout, '0\n', args);
  }
});

test.run();
