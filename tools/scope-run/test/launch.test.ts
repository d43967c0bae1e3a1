import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isStaticElf, preloadValue, resolveCommand, unscopableReason } from '../src/launch.js';
import { elfInfo, testProgramDir } from '@scope/libscope';
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

test('static or not, as the addon\'s elfInfo tells it, for well-formed and odd files alike', () => {
  const fromAddon = (p: string) => {
    const info = elfInfo(p);
    return info.elf && info.interpreter === null;
  };
  const files = ['/bin/cat', '/bin/sh', '/sbin/ldconfig', process.execPath, ...(existsSync(testProgramDir) ? readdirSync(testProgramDir).slice(0, 20).map((f) => join(testProgramDir, f)) : [])]
    .filter((f) => existsSync(f));
  // odd ones, made from /bin/cat: cut short at each part, no loader named, a script, an empty file
  const cat = readFileSync('/bin/cat');
  const phoff = Number(cat.readBigUInt64LE(32));
  const made: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['script', Buffer.from('#!/bin/sh\necho hi\n')],
    ['ident-only', cat.subarray(0, 16)],
    ['header-cut', cat.subarray(0, 40)],
    ['table-cut', cat.subarray(0, phoff + 60)],
    ['bad-class', Buffer.concat([cat.subarray(0, 4), Buffer.from([9]), cat.subarray(5, 4096)])],
  ];
  const noInterp = Buffer.from(cat);
  for (let i = 0; i < noInterp.readUInt16LE(56); i++) if (noInterp.readUInt32LE(phoff + i * 56) === 3) noInterp.writeUInt32LE(1, phoff + i * 56);
  made.push(['no-interp', noInterp]);
  const emptyInterp = Buffer.from(cat);
  for (let i = 0; i < emptyInterp.readUInt16LE(56); i++) {
    const o = phoff + i * 56;
    if (emptyInterp.readUInt32LE(o) === 3) emptyInterp[Number(emptyInterp.readBigUInt64LE(o + 8))] = 0;
  }
  made.push(['empty-interp', emptyInterp]);
  for (const [name, bytes] of made) {
    const f = join(dir, `elf-${name}`);
    writeFileSync(f, bytes);
    files.push(f);
  }
  for (const f of files) assert.is(isStaticElf(f), fromAddon(f), f);
  assert.is(isStaticElf('/sbin/ldconfig'), true);
  assert.is(isStaticElf('/bin/cat'), false);
  assert.is(isStaticElf(join(dir, 'no-such-file')), null, 'what cannot be opened is left to elfInfo');
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
