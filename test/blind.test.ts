/**
 * Blind spots through `scope run`: what libscope cannot see is said once in session.json's notices
 * and on stderr, as well as in the session's records (a Go program; a static executable a scoped
 * shell execs). The real Go program is in apps/go.test.ts (npm run test:apps).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testProgramDir } from '@scope/libscope';
import { assertValidSession, envFor, events, newHome, readLast, runBin, scopeRunBin, startRecords } from './lib/harness.js';

const GO_SAYS = ' is a Go program: its file and network calls bypass libc and are not seen';
const STATIC_SAYS = ' is a static executable: libscope cannot be loaded into it, so it runs unscoped';

test('a program marked as Go (a C fixture with the .go.buildinfo section go build leaves): one notice in the start record, session.json and on stderr', async () => {
  const home = newHome();
  const exe = `${testProgramDir}gobuildinfo`;
  const r = await runBin(scopeRunBin, ['--no-stream', '--', exe], envFor(home));
  assert.is(r.status, 0, r.stderr);
  const says = exe + GO_SAYS;
  assert.is(r.stderr, `scope-run: notice: ${says}\n`);
  const { session, events: evs } = await readLast(home);
  assert.equal(session.manifest.notices, [says]);
  assert.equal(startRecords(evs).map((s) => s['info'].notices), [[says]]);
  assert.equal(events(evs, 'notice').map((e) => e['body'].data.message), [says]);
  await assertValidSession(session);
});

test('a static executable run by a scoped sh -c: its notice in session.json and on stderr, the run still ok', async () => {
  const home = newHome();
  const exe = `${testProgramDir}static_hello`;
  const r = await runBin(scopeRunBin, ['--no-stream', '--', '/bin/sh', '-c', `${exe} && cat /etc/hostname >/dev/null`], envFor(home));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'static hello\n');
  const says = exe + STATIC_SAYS;
  assert.is(r.stderr, `scope-run: notice: ${says}\n`);
  const { session, events: evs } = await readLast(home);
  assert.equal(session.manifest.notices, [says]);
  assert.ok(events(evs, 'fs.open').some((e) => e['body'].data.file === '/etc/hostname'), 'the shell itself is still recorded');
  await assertValidSession(session);
});

test('a run with nothing unseen has no notices', async () => {
  const home = newHome();
  const r = await runBin(scopeRunBin, ['--no-stream', '--', '/bin/sh', '-c', 'cat /etc/hostname >/dev/null'], envFor(home));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  const { session } = await readLast(home);
  assert.equal(session.manifest.notices, []);
});

test.run();
