import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preloadValue, resolveCommand, unscopableReason } from '../src/launch.js';
import { shellStatus } from '../src/run.js';
import { tempDir } from '@scope/core/testing';

const dir = tempDir('scope-launch-');

test('commands are found on PATH as execvp finds them; a name with a slash is used as is', () => {
  assert.equal(resolveCommand('sh', '/nonexistent:/bin'), { path: '/bin/sh' });
  assert.equal(resolveCommand('/bin/sh', ''), { path: '/bin/sh' });
  assert.equal(resolveCommand('no-such-thing', '/bin:/usr/bin'), { error: 'not-found', path: 'no-such-thing' });
  const plain = join(dir, 'not-exec');
  writeFileSync(plain, 'echo hi\n');
  chmodSync(plain, 0o644);
  assert.equal(resolveCommand('not-exec', dir), { error: 'not-executable', path: plain });
  assert.equal(resolveCommand('bin', '/usr'), { error: 'not-found', path: 'bin' }, 'a directory on PATH is skipped');
  assert.equal(resolveCommand('/usr/bin', ''), { error: 'directory', path: '/usr/bin' });
});

test('dynamic executables and scripts can be scoped; setuid and setgid ones cannot', () => {
  assert.is(unscopableReason('/bin/cat'), null);
  const script = join(dir, 'script.sh');
  writeFileSync(script, '#!/bin/sh\necho hi\n');
  chmodSync(script, 0o755);
  assert.is(unscopableReason(script), null);
  const suid = join(dir, 'cat-suid');
  copyFileSync('/bin/cat', suid);
  chmodSync(suid, 0o4755);
  assert.is(unscopableReason(suid), 'is a setuid executable');
  chmodSync(suid, 0o2755);
  assert.is(unscopableReason(suid), 'is a setgid executable');
});

test('LD_PRELOAD keeps what the user preloads, with libscope first and once', () => {
  assert.is(preloadValue('/x/libscope.so', undefined), '/x/libscope.so');
  assert.is(preloadValue('/x/libscope.so', '/a.so /b.so'), '/x/libscope.so:/a.so:/b.so');
  assert.is(preloadValue('/x/libscope.so', '/a.so:/x/libscope.so'), '/x/libscope.so:/a.so');
});

test('exit status as a shell reports it', () => {
  assert.is(shellStatus(3, null), 3);
  assert.is(shellStatus(null, 'SIGTERM'), 143);
  assert.is(shellStatus(null, 'SIGKILL'), 137);
});

test.run();
