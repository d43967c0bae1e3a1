import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bins, buildHome, golden, normalize, run } from './helpers.js';

const left = (home: string) =>
  readdirSync(join(home, 'history'))
    .map((n) => Number(n.split('_')[1]))
    .sort((a, b) => a - b);

test('--keep N --force: the newest N stay; NDJSON "pruned" records into a pipe; the count file stays', () => {
  const home = buildHome();
  const r = run(bins.prune, ['--keep', '2', '--force'], { SCOPE_HOME: home });
  assert.is(r.status, 0, r.stderr);
  golden('prune-keep2.ndjson', normalize(r.stdout, home));
  assert.is(r.stderr, 'scope-prune: deleted 3 sessions, 2 left\n');
  assert.equal(left(home), [4, 5]);
  assert.is(readFileSync(join(home, 'count'), 'utf8'), '5\n');
});

test('--delete N / -d N -f: the oldest N go', () => {
  const home = buildHome();
  const r = run(bins.prune, ['-d', '2', '-f'], { SCOPE_HOME: home });
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((x) => [x.type, x.id]),
    [
      ['pruned', 1],
      ['pruned', 2],
    ],
  );
  assert.equal(left(home), [3, 4, 5]);
});

test('--all never deletes a running session (a notice says so); an abnormally ended one goes', () => {
  const home = buildHome();
  const r = run(bins.prune, ['--all', '--force', '--pretty'], { SCOPE_HOME: home });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '');
  golden('prune-all-pretty.txt', normalize(r.stderr, home));
  assert.equal(left(home), [5]);
  const again = run(bins.prune, ['-a', '-f'], { SCOPE_HOME: home });
  assert.is(again.status, 0);
  assert.is(again.stderr, 'scope-prune: session 5 (sleep) is running: not deleted\nscope-prune: nothing to delete\n');
  assert.equal(left(home), [5]);
});

test('--keep 0 is --all; --keep more than there are, or --delete 0: nothing to delete', () => {
  const home = buildHome();
  assert.is(run(bins.prune, ['-k', '10', '-f'], { SCOPE_HOME: home }).stderr, 'scope-prune: nothing to delete\n');
  assert.is(run(bins.prune, ['-d', '0', '-f'], { SCOPE_HOME: home }).stderr, 'scope-prune: nothing to delete\n');
  assert.equal(left(home), [1, 2, 3, 4, 5]);
  assert.is(run(bins.prune, ['-k', '0', '-f'], { SCOPE_HOME: home }).status, 0);
  assert.equal(left(home), [5]);
});

test('exactly one of --keep, --delete, --all, else usage error 2; bad numbers are usage errors', () => {
  const home = buildHome();
  for (const args of [[], ['-f'], ['-k', '1', '-a', '-f'], ['-k', '1', '-d', '1', '-f'], ['-k', 'many', '-f'], ['-d', '-1', '-f'], ['--keepall', '-f']]) {
    const r = run(bins.prune, args, { SCOPE_HOME: home });
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^scope-prune: /);
  }
  assert.equal(left(home), [1, 2, 3, 4, 5]);
});

test('without --force and without a terminal on stdin: refused, status 2, nothing deleted', () => {
  const home = buildHome();
  for (const input of [undefined, 'y\n']) {
    const r = run(bins.prune, ['--all'], { SCOPE_HOME: home }, input);
    assert.is(r.status, 2);
    assert.is(r.stdout, '');
    assert.is(r.stderr, 'scope-prune: not a terminal: add --force to delete without asking\n');
  }
  assert.equal(left(home), [1, 2, 3, 4, 5]);
});

/** Run scope-prune with a pty on stdin (util-linux script), typing `answer`. */
function onTerminal(args: string[], home: string, answer: string) {
  const cmd = [process.execPath, bins.prune, ...args].map((w) => `'${w}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: answer, encoding: 'utf8', env: { PATH: process.env['PATH'], SCOPE_HOME: home, NO_COLOR: '1' }, timeout: 20_000 });
  return { status: r.status, out: String(r.stdout).replace(/\r\n/g, '\n') };
}

test('on a terminal it asks "Delete N sessions? [y/N]" and deletes only on yes', () => {
  const home = buildHome();
  const no = onTerminal(['--delete', '2'], home, 'n\n');
  assert.is(no.status, 0);
  assert.match(no.out, 'Delete 2 sessions? [y/N] ');
  assert.match(no.out, 'scope-prune: nothing deleted');
  assert.equal(left(home), [1, 2, 3, 4, 5]);
  const empty = onTerminal(['--delete', '2'], home, '\n');
  assert.match(empty.out, 'nothing deleted', 'the default is no');
  assert.equal(left(home), [1, 2, 3, 4, 5]);
  const yes = onTerminal(['--delete', '2'], home, 'y\n');
  assert.is(yes.status, 0, yes.out);
  assert.match(yes.out, / {2}1 {2}ls -l \/tmp {2}2023-11-14T22:13:20.000Z\n/);
  assert.match(yes.out, 'Delete 2 sessions? [y/N] ');
  assert.match(yes.out, 'scope-prune: deleted session 1 (ls)');
  assert.match(yes.out, 'scope-prune: deleted 2 sessions, 3 left');
  assert.equal(left(home), [3, 4, 5]);
  const one = onTerminal(['-k', '1'], home, 'YES\n');
  assert.match(one.out, 'Delete 2 sessions? [y/N] ');
  assert.match(one.out, 'scope-prune: deleted 2 sessions, 1 left');
  assert.equal(left(home), [5]);
});

test.run();
