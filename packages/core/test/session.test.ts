import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSession, findSession, lastSession, listSessions, readSession, scopeHome, writeManifest } from '../src/index.js';
import { tempDir } from '../src/testing.js';

const newHome = () => tempDir('scope-home-');

test('SCOPE_HOME decides the home, else ~/.scope', () => {
  assert.is(scopeHome({ SCOPE_HOME: '/x/y' }), '/x/y');
  assert.match(scopeHome({}), /\/\.scope$/);
});

test('a session is <cmd>_<id>_<pid>_<ns>, 0700, with its files 0600 and a manifest', async () => {
  const home = newHome();
  const s = await createSession({ home, args: ['/bin/cat', '/etc/hostname'], scopeVersion: '0.1.0' });
  assert.is(s.id, 1);
  assert.match(s.dir, new RegExp(`/history/cat_1_${process.pid}_\\d+$`));
  assert.is(statSync(s.dir).mode & 0o777, 0o700);
  for (const f of [s.paths.events, s.paths.metrics, s.paths.log, s.paths.manifest, s.paths.args]) {
    assert.is(statSync(f).mode & 0o777, 0o600, f);
  }
  assert.equal(JSON.parse(readFileSync(s.paths.args, 'utf8')), ['/bin/cat', '/etc/hostname']);
  assert.is(readFileSync(join(home, 'count'), 'utf8'), '1\n');
  const read = await readSession(s.dir);
  assert.is(read.manifest.cmd, 'cat');
  assert.is(read.manifest.exitStatus, null);
});

test('ids increase, also when many sessions start at once', async () => {
  const home = newHome();
  const made = await Promise.all(Array.from({ length: 20 }, (_, i) => createSession({ home, args: [`c${i}`], scopeVersion: '0' })));
  const ids = made.map((s) => s.id).sort((a, b) => a - b);
  assert.equal(
    ids,
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  const all = await listSessions(home);
  assert.is(all.length, 20);
  assert.is((await lastSession(home))?.id, 20);
  assert.is((await findSession(home, 7)).manifest.cmd, made.find((s) => s.id === 7)?.manifest.cmd);
});

test('no sessions: last is null, find throws naming the id', async () => {
  const home = newHome();
  assert.is(await lastSession(home), null);
  try {
    await findSession(home, 3);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /no session with id 3/);
  }
});

test('the manifest is rewritten whole', async () => {
  const home = newHome();
  const s = await createSession({ home, args: ['true'], scopeVersion: '0' });
  s.manifest.exitStatus = 3;
  await writeManifest(s.paths, s.manifest);
  assert.is((await readSession(s.dir)).manifest.exitStatus, 3);
});

test('a directory that is not a session is refused by name', async () => {
  const dir = newHome();
  try {
    await readSession(dir);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /not a scope session/);
  }
});

test('a SCOPE_HOME that cannot hold sessions is refused by name, without hanging', async () => {
  for (const home of ['/proc/scope-nope', '/etc/hostname/sub']) {
    try {
      await createSession({ home, args: ['true'], scopeVersion: '0' });
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, new RegExp(`cannot create the session history ${home}/history \\(SCOPE_HOME\\): E[A-Z]+`));
    }
  }
});

test('nested homes are created, 0700', async () => {
  const home = join(newHome(), 'a', 'b');
  await createSession({ home, args: ['true'], scopeVersion: '0' });
  assert.is(statSync(join(home, 'history')).mode & 0o777, 0o700);
});

test.run();
