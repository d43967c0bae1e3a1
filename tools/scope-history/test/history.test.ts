import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bins, buildHome, golden, normalize, NOW, run } from './helpers.js';
import { tempDir } from '@scope/core/testing';

const home = buildHome();
const env = { SCOPE_HOME: home, SCOPE_NOW: NOW };

test('history --pretty: the table, newest last, running and abnormal sessions marked', () => {
  const r = run(bins.history, ['--pretty'], env);
  assert.is(r.stderr, '');
  assert.is(r.status, 0);
  golden('history.txt', normalize(r.stdout, home));
});

test('history into a pipe: NDJSON, one record per session, with dir, state, running and totalEvents', () => {
  const r = run(bins.history, [], env);
  assert.is(r.status, 0);
  assert.is(r.stderr, '');
  golden('history.ndjson', normalize(r.stdout, home));
  const records = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(
    records.map((x) => x.id),
    [1, 2, 3, 4, 5],
  );
  assert.equal(
    records.map((x) => x.state),
    ['ended', 'ended', 'abnormal', 'ended', 'running'],
  );
  assert.equal(
    records.map((x) => x.totalEvents),
    [3, 12, 2, 0, 1],
  );
  assert.is(records[4].pid, process.pid);
});

test('--json forces NDJSON; --json with --pretty is a usage error', () => {
  const a = run(bins.history, ['--json'], env);
  assert.is(a.stdout, run(bins.history, [], env).stdout);
  const b = run(bins.history, ['--json', '--pretty'], env);
  assert.is(b.status, 2);
  assert.match(b.stderr, /^scope-history: --json and --pretty cannot be used together/);
});

test('--last N / -n N shows the newest N; --all everything; --running only running ones', () => {
  golden('history-last2.txt', normalize(run(bins.history, ['--pretty', '-n', '2'], env).stdout, home));
  const last = run(bins.history, ['--last', '2'], env)
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l).id);
  assert.equal(last, [4, 5]);
  const all = run(bins.history, ['-a', '--pretty'], env);
  assert.is(all.stdout, run(bins.history, ['--pretty'], env).stdout);
  const running = run(bins.history, ['-r'], env)
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(
    running.map((x) => [x.id, x.running]),
    [[5, true]],
  );
  // (not a golden file: the PID column is as wide as this test's pid)
  const table = run(bins.history, ['--running', '--pretty'], env).stdout.split('\n');
  assert.is(table.length, 3);
  assert.match(table[0]!, /^ID {2}COMMAND {2}CMDLINE {5}PID +AGE {2}DURATION {2}TOTAL-EVENTS$/);
  assert.match(table[1]!, new RegExp(`^5   sleep    sleep 1000  ${process.pid} +45s  running   1$`));
  const both = run(bins.history, ['--all', '--last', '3'], env);
  assert.is(both.status, 2);
  const bad = run(bins.history, ['--last', 'x'], env);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--last: "x" is not a whole number/);
});

test('by default on a terminal only the last 20 are shown (here: --pretty), with a notice', () => {
  const many = tempDir('scope-history-many-');
  for (let id = 1; id <= 23; id++) {
    const dir = join(many, 'history', `true_${id}_100_${1700000000000000000n + BigInt(id)}`);
    mkdirSync(dir, { recursive: true });
    const start = new Date(1700000000000 + id * 1000).toISOString();
    const end = new Date(1700000000000 + id * 1000 + 5).toISOString();
    writeFileSync(join(dir, 'session.json'), JSON.stringify({ id, cmd: 'true', args: ['true'], pid: 100 + id, start, end, exitStatus: 0 }));
  }
  const r = run(bins.history, ['--pretty'], { SCOPE_HOME: many, SCOPE_NOW: NOW });
  const ids = r.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(/\s+/)[0]));
  assert.equal(
    ids,
    Array.from({ length: 20 }, (_, i) => i + 4),
  );
  assert.match(r.stderr, /3 older sessions not shown \(--all shows them\)/);
  assert.is(run(bins.history, ['--pretty', '--all'], { SCOPE_HOME: many, SCOPE_NOW: NOW }).stdout.trim().split('\n').length, 24);
  assert.is(run(bins.history, [], { SCOPE_HOME: many }).stdout.trim().split('\n').length, 23, 'into a pipe: all');
});

test('--id N shows one session; --dir prints its directory; --dir alone the last one', () => {
  const one = run(bins.history, ['-i', '2'], env);
  assert.equal(JSON.parse(one.stdout).cmd, 'curl');
  assert.is(run(bins.history, ['--id', '3', '--dir'], env).stdout, join(home, 'history', 'sleep_3_1000020_1700421200000000000') + '\n');
  assert.is(run(bins.history, ['-d'], env).stdout, join(home, 'history', 'sleep_5_1000040_1700431955000000000') + '\n');
});

test('--last with no number is the newest session: --last --dir and -n -d print its directory, --last alone lists it', () => {
  const last = join(home, 'history', 'sleep_5_1000040_1700431955000000000') + '\n';
  assert.is(run(bins.history, ['--last', '--dir'], env).stdout, last);
  assert.is(run(bins.history, ['-n', '-d'], env).stdout, last);
  const lines = run(bins.history, ['--last'], env).stdout.trim().split('\n');
  assert.is(lines.length, 1);
  assert.is(JSON.parse(lines[0]!).id, 5);
  assert.is(run(bins.history, ['--last', 'x'], env).status, 2);
});

test('unknown --id: status 1 naming it; a bad id or an unknown option: status 2; no session at all: --dir fails', () => {
  const r = run(bins.history, ['--id', '42'], env);
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, `scope-history: no session with id 42 in ${join(home, 'history')}`);
  const notNum = run(bins.history, ['--id', 'abc'], env);
  assert.is(notNum.status, 2);
  assert.match(notNum.stderr, /--id: "abc" is not a session id/);
  const unknown = run(bins.history, ['--colour'], env);
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option "--colour"/);
  const extra = run(bins.history, ['stray'], env);
  assert.is(extra.status, 2);
  const empty = tempDir('scope-history-empty-');
  assert.equal(run(bins.history, [], { SCOPE_HOME: empty }), { status: 0, stdout: '', stderr: '' });
  const dir = run(bins.history, ['--dir'], { SCOPE_HOME: empty });
  assert.is(dir.status, 1);
  assert.match(dir.stderr, /scope-history: no session in .*: run a command with "scope run" first/);
});

test('a corrupt session.json is skipped with a warning naming the file; the others are listed; status 1', () => {
  const broken = buildHome((id) => id <= 2);
  const bad = join(broken, 'history', 'cat_3_1000050_1700431000000000000');
  mkdirSync(bad);
  writeFileSync(join(bad, 'session.json'), '{"id": 3, "cmd": "cat", "sta');
  const shape = join(broken, 'history', 'cat_4_1000060_1700431100000000000');
  mkdirSync(shape);
  writeFileSync(join(shape, 'session.json'), '{"id": "four", "start": "2023-11-19T22:00:00Z"}\n');
  const young = join(broken, 'history', 'cat_6_1000070_1700431200000000000');
  mkdirSync(young); // no session.json yet, just made: a session starting now, passed over silently
  const old = join(broken, 'history', 'cat_7_1000080_1700431300000000000');
  mkdirSync(old);
  utimesSync(old, new Date(1700000000000), new Date(1700000000000));
  const r = run(bins.history, ['--pretty'], { SCOPE_HOME: broken, SCOPE_NOW: NOW });
  assert.is(r.status, 1);
  const warnings = r.stderr.trim().split('\n');
  assert.is(warnings.length, 3, r.stderr);
  assert.match(warnings[0]!, `scope-history: ${join(bad, 'session.json')}: `);
  assert.match(warnings[0]!, /; skipped$/);
  assert.match(warnings[1]!, `scope-history: ${old}: not a scope session (no readable session.json); skipped`);
  assert.is(warnings[2], `scope-history: ${join(shape, 'session.json')}: not a session manifest ("id" is not an integer); skipped`);
  assert.equal(
    r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]),
    ['1', '2'],
  );
  assert.ok(existsSync(young));
});

test('a real `scope run --no-stream -- true` session is listed with its id, and --dir prints its path', () => {
  const real = tempDir('scope-history-real-');
  const ran = run(bins.scope, ['run', '--no-stream', '--', 'true'], { SCOPE_HOME: real });
  assert.is(ran.status, 0, ran.stderr);
  const h = run(bins.history, [], { SCOPE_HOME: real });
  assert.is(h.status, 0, h.stderr);
  const records = h.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.is(records.length, 1);
  const rec = records[0];
  assert.is(rec.type, 'session');
  assert.is(rec.id, 1);
  assert.is(rec.cmd, 'true');
  assert.equal(rec.args, ['true']);
  assert.is(rec.state, 'ended');
  assert.is(rec.running, false);
  assert.is(rec.exitStatus, 0);
  assert.is(typeof rec.totalEvents, 'number');
  const dir = run(bins.history, ['--dir'], { SCOPE_HOME: real }).stdout;
  assert.is(dir, rec.dir + '\n');
  assert.ok(existsSync(join(rec.dir, 'session.json')));
  assert.ok(rec.dir.startsWith(join(real, 'history', 'true_1_')));
  assert.is(run(bins.history, ['-i', '1', '-d'], { SCOPE_HOME: real }).stdout, dir);
  const table = run(bins.history, ['--pretty'], { SCOPE_HOME: real }).stdout.split('\n');
  assert.match(table[1]!, /^1\s+true\s+true\s+\d+\s+\d+s\s+\d+(ms|\.\ds)\s+\d+$/);
  // the umbrella runs the same tool in-process
  const viaScope = run(bins.scope, ['history', '--json'], { SCOPE_HOME: real });
  assert.is(viaScope.status, 0, viaScope.stderr);
  assert.is(viaScope.stdout, h.stdout);
});

test('on a terminal: the table, in colour unless NO_COLOR is set', () => {
  const onTerminal = (extra: NodeJS.ProcessEnv) => {
    const r = spawnSync('script', ['-qec', `stty cols 200; '${process.execPath}' '${bins.history}'`, '/dev/null'], {
      input: '',
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], ...env, ...extra },
      timeout: 20_000,
    });
    return String(r.stdout).replace(/\r\n/g, '\n');
  };
  const coloured = onTerminal({});
  assert.match(coloured, '\u001b[1mID');
  assert.match(coloured, '\u001b[32mrunning\u001b[0m');
  assert.match(coloured, '\u001b[31mabnormal\u001b[0m');
  const plain = onTerminal({ NO_COLOR: '1' });
  assert.not.match(plain, '\u001b[');
  assert.is(plain, run(bins.history, ['--pretty'], env).stdout);
});

test.run();
