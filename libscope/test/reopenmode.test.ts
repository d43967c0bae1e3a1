// fs.open's file_perms when the descriptor is already closed by the time the reporting thread gets
// to the record: the name is looked up, and a lookup serves later records of the same name only
// when it was made after their opens. One name is opened in rounds, its mode changed before each:
// no event may show the mode of an earlier round than its own (a lookup reused from before the
// open), and the lookups are shared within a round (the events agree with the mode set for it, or
// a later one when the reporting thread was late).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evts, prog, run, session } from './lib.js';

const s = session({ SCOPE_EVENT_MAXEPS: '0' });
const file = join(realpathSync(s.dir), 'reopened');
writeFileSync(file, 'x\n');
const ROUNDS = 12;
const BURST = 20;
const r = run(prog('reopenmode'), [file, String(ROUNDS), String(BURST)], s.env, 60_000);
const events = s.events();
test.after(() => rmSync(s.dir, { recursive: true, force: true }));

test('reopenmode runs to its end', () => {
  assert.is(r.status, 0, r.stderr.toString());
});

test("every fs.open shows its round's mode or a later round's, never an earlier one", () => {
  const opens = evts(events, 'fs.open').filter((e) => e.body.data.file === file);
  assert.is(opens.length, ROUNDS * BURST, 'an fs.open for each open');
  let own = 0;
  opens.forEach((e, k) => {
    const round = Math.floor(k / BURST);
    const perms = Number(e.body.data.file_perms);
    const shown = (perms & 0o77) - 1; // the round whose chmod set it
    assert.ok((perms & 0o7700) === 0o600 && shown >= 0 && shown < ROUNDS, `open ${k}: perms ${perms.toString(8)}`);
    assert.ok(shown >= round, `open ${k} (round ${round}) shows round ${shown}'s mode ${perms.toString(8)}`);
    if (shown === round) own++;
  });
  // the reporting thread naps at most 100 ms and each round waits 150 ms: nearly every event is
  // reported in its own round (a loaded machine may be late for a few)
  assert.ok(own >= opens.length / 2, `${own} of ${opens.length} events show their own round's mode`);
});

test.run();
