/**
 * Sessions made by a real `scope run`, read back by id, as the last session, through the `scope`
 * umbrella, aggregated, as StatsD lines (SCOPE_METRIC_FORMAT=statsd), and followed; plus a missing
 * session and an unknown id.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, newHome, records, run, runNode, runPiped, scopeBin, scopeRun, start, waitFor } from './helpers.js';

const home = newHome();
scopeRun(home, ['sh', '-c', 'cat /etc/hostname; ls /']);
scopeRun(home, ['cat', '/etc/hostname'], ['--metricformat', 'statsd']);
const sessions = readdirSync(join(home, 'history')).sort((a, b) => Number(a.split('_')[1]) - Number(b.split('_')[1]));
const first = join(home, 'history', sessions[0] as string);
const second = join(home, 'history', sessions[1] as string);
const env = { SCOPE_HOME: home };

test('--id 1: every metric of metrics.json, unchanged, as NDJSON into a pipe', () => {
  const r = run(['--id', '1'], { env });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(lines(r.stdout), lines(readFileSync(join(first, 'metrics.json'), 'utf8')));
  const recs = records(r.stdout);
  const starts = recs.filter((m) => m.body['_metric'] === 'proc.start').map((m) => m.body['proc']);
  assert.ok(starts.includes('sh') && starts.includes('cat') && starts.includes('ls'), starts.join(' '));
  assert.ok(
    recs.some((m) => m.body['_metric'] === 'fs.open'),
    'fs.open',
  );
  assert.ok(
    recs.some((m) => m.body['_metric'] === 'fs.read' && m.body['proc'] === 'cat'),
    'fs.read of cat',
  );
});

test('-i 1 --pretty: the table has proc.start and fs.* rows with their pids', () => {
  const r = run(['-i', '1', '--pretty'], { env });
  assert.is(r.status, 0, r.stderr);
  const out = lines(r.stdout);
  assert.match(out[0] as string, /^NAME +VALUE +TYPE +UNIT +PID +TAGS$/);
  assert.match(r.stdout, /^proc\.start +1 +counter +process +\d+ +.*proc:cat/m);
  assert.match(r.stdout, /^fs\.open +\d+ +counter +operation +\d+ +.*summary:true/m);
  assert.match(r.stdout, /^fs\.duration +\d+ +histogram +microsecond /m);
});

test('-A --id 1: one row per name and tag set, proc.start 1 per process, fs.* aggregated', () => {
  const r = run(['-A', '--id', '1', '--json', '-m', 'proc.start,fs.*'], { env });
  assert.is(r.status, 0, r.stderr);
  const recs = records(r.stdout);
  const starts = recs.filter((m) => m.body['_metric'] === 'proc.start');
  assert.is(starts.length, 3);
  assert.ok(starts.every((m) => m.body['_value'] === 1 && m.body['_count'] === 1));
  assert.ok(recs.every((m) => m.body['_metric'] === 'proc.start' || m.body['_metric'].startsWith('fs.')));
  const durations = recs.filter((m) => m.body['_metric'] === 'fs.duration');
  assert.ok(durations.length > 0 && durations.every((m) => m.body['_min'] <= m.body['_avg'] && m.body['_avg'] <= m.body['_max']));
  const keys = recs.map((m) =>
    JSON.stringify(
      Object.entries(m.body)
        .filter(([k]) => !k.startsWith('_') || k === '_metric')
        .sort(),
    ),
  );
  assert.is(new Set(keys).size, keys.length, 'no two rows for one name and tag set');
  // the per-name sums agree with the raw records
  const raw = records(run(['--id', '1', '-m', 'fs.read'], { env }).stdout).reduce((s, m) => s + m.body['_value'], 0);
  const agg = recs.filter((m) => m.body['_metric'] === 'fs.read').reduce((s, m) => s + m.body['_value'], 0);
  assert.is(agg, raw);
});

test('default: the last session (here the StatsD one), read without a bad line', () => {
  const r = run(['--pretty'], { env });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /^proc\.start +1 +counter +process +\d+ +.*proc:cat/m);
  assert.match(readFileSync(join(second, 'metrics.json'), 'utf8'), /^proc\.start:1\|c\|#/m, 'the session holds StatsD lines');
  const json = records(run(['--session', second, '-m', 'fs.*'], { env }).stdout);
  assert.ok(json.length > 0 && json.every((m) => m.type === 'metric' && m.body['_metric'].startsWith('fs.') && typeof m.body['pid'] === 'number'));
});

test('scope metrics through the umbrella: the same output as scope-metrics', () => {
  const a = runNode(scopeBin, ['metrics', '--id', '1', '-A', '--pretty', '-m', 'fs.*'], { env });
  assert.is(a.status, 0, a.stderr);
  assert.is(a.stdout, run(['--id', '1', '-A', '--pretty', '-m', 'fs.*'], { env }).stdout);
  assert.match(a.stdout, /^fs\.open /m);
});

test('stdin wins over the last session when it is a pipe', () => {
  const r = runPiped(['--pretty'], 'only.this:1|c\n', env);
  assert.is(r.status, 0, r.stderr);
  assert.is(lines(r.stdout).length, 2);
  assert.match(r.stdout, /^only\.this +1 +counter/m);
});

test('a missing session and an unknown id: named, status 1', () => {
  const a = run(['--session', join(home, 'nope')], { env });
  assert.is(a.status, 1);
  assert.match(a.stderr, /^scope-metrics: .*nope: not a scope session/m);
  const b = run(['--id', '42'], { env });
  assert.is(b.status, 1);
  assert.match(b.stderr, /^scope-metrics: no session with id 42 in /m);
  const c = run([], { env: { SCOPE_HOME: newHome() } });
  assert.is(c.status, 1);
  assert.match(c.stderr, /^scope-metrics: no session in .*: run a command with "scope run" first/m);
});

test('--follow: rows appended later come out; SIGINT ends it with status 0', async () => {
  const t = start(['--follow', '--id', '1', '--json', '-m', 'follow.me'], env);
  await new Promise((r) => setTimeout(r, 300));
  appendFileSync(join(first, 'metrics.json'), 'follow.me:42|g|#pid:9\n');
  await waitFor('the appended record', () => t.out().includes('"_value":42'));
  t.child.kill('SIGINT');
  assert.is(await t.done, 0, t.err());
  assert.equal(
    records(t.out()).map((m) => m.body['_value']),
    [42],
  );
});

test('-f -A: aggregates until SIGINT, then writes the table and exits 0', async () => {
  const t = start(['-f', '--id', '1', '-A', '--pretty', '-m', 'follow.*'], env);
  await new Promise((r) => setTimeout(r, 300));
  appendFileSync(join(first, 'metrics.json'), 'follow.count:5|c|#pid:9\nfollow.count:6|c|#pid:9\n');
  await new Promise((r) => setTimeout(r, 500));
  assert.is(t.out(), '', 'nothing before the end');
  t.child.kill('SIGINT');
  assert.is(await t.done, 0, t.err());
  assert.match(t.out(), /^follow\.count +11 +counter +- +9 +2 /m);
});

test.run();
