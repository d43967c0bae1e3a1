/**
 * Blind spots through `scope run`: a program libscope cannot see into (a Go program; a static
 * executable, run or exec'd by a scoped shell) is followed from outside (scope-supervise), said
 * once in session.json's notices and on stderr when scope run starts it, and recorded as itself.
 * The real Go programs are in apps/go.test.ts (npm run test:apps).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testProgramDir } from '@scope/libscope';
import { assertValidSession, envFor, events, newHome, readLast, runBin, scopeRunBin, startRecords } from './lib/harness.js';

const FOLLOWED_GO =
  ', followed from outside (scope-supervise): its files, connections, DNS queries, processes and the plaintext of its TLS connections (crypto/tls, Go 1.18 and later) are seen, not its other reads and writes';

test('a program marked as Go (a C fixture with the .go.buildinfo section go build leaves): followed from outside, one notice in session.json and on stderr', async () => {
  const home = newHome();
  const exe = `${testProgramDir}gobuildinfo`;
  const r = await runBin(scopeRunBin, ['--no-stream', '--', exe], envFor(home));
  assert.is(r.status, 0, r.stderr);
  const says = `${exe} is a Go program${FOLLOWED_GO}`;
  assert.is(r.stderr, `scope-run: notice: ${says}\n`);
  const { session, events: evs } = await readLast(home);
  assert.equal(session.manifest.notices, [says]);
  // its own libscope stays out (SCOPE_SUPERVISED): one start record, the supervisor's helper's
  assert.equal(
    startRecords(evs).map((s) => [s['info'].process.pid, s['info'].process.procname]),
    [[session.manifest.pid, 'gobuildinfo']],
  );
  const opens = events(evs, 'fs.open').filter((e) => e['body'].data.file === '/etc/hostname');
  assert.equal(
    opens.map((e) => e['body'].data.op),
    ['openat'],
    'its open, seen from outside (the system call)',
  );
  await assertValidSession(session);
});

test('a static executable run by a scoped sh -c: followed from outside, recorded as itself, no notice', async () => {
  const home = newHome();
  const exe = `${testProgramDir}static_hello`;
  const r = await runBin(scopeRunBin, ['--no-stream', '--', '/bin/sh', '-c', `${exe} && cat /etc/hostname >/dev/null`], envFor(home));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'static hello\n');
  assert.is(r.stderr, '', 'nothing went unseen');
  const { session, events: evs } = await readLast(home);
  assert.equal(session.manifest.notices, []);
  assert.ok(
    startRecords(evs).some((s) => s['info'].process.procname === 'static_hello'),
    'its process-start record',
  );
  assert.ok(
    events(evs, 'fs.open').some((e) => e['body'].data.file === '/etc/hostname'),
    'the shell itself is still recorded',
  );
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
