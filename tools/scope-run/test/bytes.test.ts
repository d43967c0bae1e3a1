/** Arguments that are not UTF-8 reach the command byte for byte, and args.json records them losslessly. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argBytes, argText, encodeArg } from '@scope/core';
import type { SessionArg } from '@scope/core';
import { argvBytes } from '../src/bytes.js';
import { tempDir } from '@scope/core/testing';

const bin = fileURLToPath(new URL('../../bin/scope-run.js', import.meta.url));
const dir = tempDir('scope-run-bytes-');
const FF_TXT = Buffer.from([0xff, 0x2e, 0x74, 0x78, 0x74]); // "\xff.txt"

/**
 * scope-run started by a shell, as a user's shell starts it: the arguments are made by printf's octal
 * escapes, so they reach node as raw bytes (node's own spawn could only pass UTF-8). `words` are
 * shell words appended after `--`.
 */
function scopeRunFromShell(home: string, words: string): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', `exec "$0" "$1" --no-stream -- ${words}`, process.execPath, bin], {
    cwd: dir,
    env: { ...process.env, SCOPE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function onlySession(home: string): string {
  const names = readdirSync(join(home, 'history'));
  assert.is(names.length, 1, names.join(' '));
  return join(home, 'history', names[0] as string);
}

test("scope run -- cat $'\\xff.txt': the file is read, exit 0, args.json holds the bytes", () => {
  // made by its bytes (a string path would be UTF-8 encoded)
  writeFileSync(Buffer.concat([Buffer.from(dir + '/'), FF_TXT]), 'bytes stay bytes\n');
  const home = join(dir, 'home-cat');
  const r = scopeRunFromShell(home, `cat "$(printf '\\377.txt')"`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.toString(), 'bytes stay bytes\n');
  const session = onlySession(home);
  const args = JSON.parse(readFileSync(join(session, 'args.json'), 'utf8')) as SessionArg[];
  assert.equal(args, ['cat', { base64: FF_TXT.toString('base64') }]);
  assert.equal(argBytes(args[1] as SessionArg), FF_TXT);
  const manifest = JSON.parse(readFileSync(join(session, 'session.json'), 'utf8'));
  assert.equal(manifest.args, args);
  // the helper that passed the bytes is not a process of the session: only cat is
  const events = readFileSync(join(session, 'events.json'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
  const procs = new Set(events.map((e) => e.info?.process?.procname ?? e.body?.proc));
  assert.equal([...procs], ['cat']);
  assert.ok(
    events.some((e) => e.body?.source === 'fs.open' && String(e.body.data.file).endsWith('.txt')),
    JSON.stringify(events),
  );
});

test('a command whose own name is not UTF-8 is found and run; an unknown one is "command not found" (127)', () => {
  copyFileSync('/bin/true', Buffer.concat([Buffer.from(dir + '/'), Buffer.from([0xfe]), Buffer.from('-true')]));
  const home = join(dir, 'home-name');
  const r = scopeRunFromShell(home, `"./$(printf '\\376-true')" x`);
  assert.is(r.status, 0, r.stderr);
  const args = JSON.parse(readFileSync(join(onlySession(home), 'args.json'), 'utf8')) as SessionArg[];
  assert.equal(
    args.map((a) => argBytes(a)),
    [Buffer.from('./\xfe-true', 'latin1'), Buffer.from('x')],
  );
  const missing = scopeRunFromShell(join(dir, 'home-missing'), `"./$(printf '\\375-none')"`);
  assert.is(missing.status, 127);
  assert.match(missing.stderr, /^scope-run: command not found: \.\/\\xfd-none\n/);
});

test("argvBytes: the last entries of the command line, or the strings' own bytes when they are not those", () => {
  const cmdline = join(dir, 'cmdline');
  writeFileSync(cmdline, Buffer.concat([Buffer.from('node\0/x/bin.js\0--\0cat\0'), FF_TXT, Buffer.from('\0\0')]));
  const lossy = FF_TXT.toString('utf8');
  assert.equal(argvBytes(['cat', lossy, ''], cmdline), [Buffer.from('cat'), FF_TXT, Buffer.alloc(0)]);
  // called with strings that are not our command line's (a caller in the same process)
  assert.equal(argvBytes(['ls', '-l'], cmdline), [Buffer.from('ls'), Buffer.from('-l')]);
  assert.equal(argvBytes(['cat'], join(dir, 'no-such-file')), [Buffer.from('cat')]);
});

test('encodeArg / argText: UTF-8 stays a string, other bytes become {base64} and read back exactly', () => {
  assert.is(encodeArg(Buffer.from('héllo')), 'héllo');
  const mixed = Buffer.concat([Buffer.from('é'), Buffer.from([0xff, 0xe2, 0x82]), Buffer.from('x')]);
  const enc = encodeArg(mixed);
  assert.equal(enc, { base64: mixed.toString('base64') });
  assert.equal(argBytes(enc), mixed);
  assert.is(argText(enc), 'é\\xff\\xe2\\x82x');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
