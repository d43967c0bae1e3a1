import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { distance, dispatch, meantVerb, usage } from '../src/command.js';
import { VERBS } from '../src/verbs.js';
import { noForcedColour } from '@scope/core/testing';

test('a known verb runs its tool; anything else is `scope run`', () => {
  assert.equal(dispatch(['run', '--', 'ls']), { verb: 'run', args: ['--', 'ls'] });
  assert.equal(dispatch(['events', '--last', '5']), { verb: 'events', args: ['--last', '5'] });
  assert.equal(dispatch(['cat', '/etc/hostname']), { verb: 'run', args: ['cat', '/etc/hostname'] });
  assert.equal(dispatch(['-v', '9', 'ls']), { verb: 'run', args: ['-v', '9', 'ls'] });
});

test('every verb of the design is listed, with its state', () => {
  const text = usage();
  for (const v of VERBS) assert.ok(text.includes(`  ${v.name}`), v.name);
  assert.match(text, /run\s+start a command with libscope/);
  assert.match(text, /^\s+report\s+what a run did/m);
  assert.match(text, /^\s+diff\s+what changed between two runs/m);
  // The design's verbs are built; AppScope's others are reserved, and say so.
  for (const v of VERBS) assert.is(new RegExp(`^  ${v.name} .*\\(not built yet\\)$`, 'm').test(text), v.load === undefined, v.name);
  assert.equal(
    VERBS.filter((v) => !v.load)
      .map((v) => v.name)
      .sort(),
    ['dash', 'extract', 'k8s', 'service', 'start', 'stop', 'watch'],
  );
  assert.match(text, /^\s+events\s+read, filter and follow events$/m);
});

test('each built verb loads a tool named scope-<verb>', async () => {
  for (const v of VERBS.filter((x) => x.load)) {
    const tool = await v.load!();
    assert.is(tool.name, `scope-${v.name}`);
  }
});

test('did you mean: a first word that is no verb and no program, close to a verb; a program of that name always wins', () => {
  assert.is(distance('evnets', 'events'), 1);
  assert.is(distance('metrcs', 'metrics'), 1);
  assert.is(distance('flwos', 'flows'), 1);
  const none = () => false;
  assert.is(meantVerb('evnets', '/usr/bin', none), 'events');
  assert.is(meantVerb('reprot', '/usr/bin', none), 'report');
  assert.is(meantVerb('atach', '/usr/bin', none), 'attach');
  assert.is(meantVerb('curl', '/usr/bin', none), null, 'far from every verb: a command to run');
  assert.is(
    meantVerb('evnets', '/opt/bin', (p) => p === '/opt/bin/evnets'),
    null,
    'a program of that name runs',
  );
  assert.is(meantVerb('./evnets', '', none), null, 'a path is a program');
  assert.is(meantVerb('-v', '', none), null);
});

test('the real bin: a reserved verb and a misspelt one are usage errors (status 2), and nothing runs: no session is made', () => {
  const home = mkdtempSync(join(tmpdir(), 'scope-dispatch-'));
  try {
    const bin = fileURLToPath(new URL('../../bin/scope.js', import.meta.url));
    const run = (args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...noForcedColour(), SCOPE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    const watch = run(['watch', 'ls']);
    assert.is(watch.status, 2);
    assert.match(watch.stderr, /^scope: "watch" is AppScope's verb, not built yet; use "scope run -- watch …"/);
    const typo = run(['evnets', '--last', '3']);
    assert.is(typo.status, 2);
    assert.match(typo.stderr, /^scope: "evnets" is neither a verb nor a program; did you mean "scope events"\?/);
    assert.not.ok(existsSync(join(home, 'history')), 'no session was made');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
