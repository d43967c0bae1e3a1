// A name relative to a directory descriptor (openat and the other *at calls) is made absolute by the
// reporting thread, which gets to the record later. When it learnt nothing of that directory (the
// descriptor was made by a raw system call, or its open record was lost) it asks the kernel for the
// descriptor's present name; by then the app may have closed the number and opened another
// directory under it. The name then counts only if the descriptor still is the one the call used
// (its lifetime, carried in the record); else the name is given as the app gave it, never in the
// other directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { evts, prog, run, session } from './lib.js';

const s = session({ SCOPE_EVENT_MAXEPS: '0' });
const work = join(realpathSync(s.dir), 'work');
mkdirSync(work, { recursive: true });
const N = 40;
const r = run(prog('dirreuse'), [work, String(N)], s.env, 60_000);
const events = s.events();
test.after(() => rmSync(s.dir, { recursive: true, force: true }));

test('dirreuse runs to its end, every round reusing the number', () => {
  assert.is(r.status, 0, r.stderr.toString());
});

test('no file is named in the directory opened later under its directory descriptor', () => {
  const files = evts(events, 'fs.open')
    .filter((e) => e.body.proc === 'dirreuse' && /(^|\/)f\d+$/.test(String(e.body.data.file)))
    .map((e) => String(e.body.data.file));
  assert.is(files.length, N, `fs.open of each f<i> (seen: ${files.slice(0, 4).join(', ')})`);
  for (let i = 0; i < N; i++) {
    const named = files.find((f) => f === `f${i}` || f.endsWith(`/f${i}`));
    assert.ok(named !== undefined, `f${i} has an fs.open`);
    assert.ok(named === join(work, `a${i}`, `f${i}`) || named === `f${i}`, `f${i} named ${named}`);
  }
});

test.run();
