import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dispatch, usage } from '../src/command.js';
import { VERBS } from '../src/verbs.js';

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
  // Every verb of the design is built now: none says it is planned.
  assert.not.match(text, /\(not built yet\)/);
  assert.match(text, /^\s+events\s+read, filter and follow events$/m);
});

test('each built verb loads a tool named scope-<verb>', async () => {
  for (const v of VERBS.filter((x) => x.load)) {
    const tool = await v.load!();
    assert.is(tool.name, `scope-${v.name}`);
  }
});

test.run();
