/**
 * A run that records nothing never ends as a success: the real scope-run, with libscope and with a
 * library that loads but records nothing (as a libscope that could not start or write would).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/scope-run.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'scope-run-recorded-'));

function scopeRun(args: string[]) {
  const home = mkdtempSync(join(work, 'home-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SCOPE_HOME: home };
  const r = spawnSync(process.execPath, [bin, '--no-stream', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  const history = join(home, 'history');
  const manifest = JSON.parse(readFileSync(join(history, readdirSync(history)[0] as string, 'session.json'), 'utf8'));
  return { status: r.status, stderr: r.stderr, manifest };
}

test('a command scoped as usual: its status, no complaint', () => {
  const r = scopeRun(['--', 'true']);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /left no record/);
});

test('a library that records nothing: said on stderr and in session.json; status 125 for a command that succeeded, its own otherwise', () => {
  const src = join(work, 'silent.c');
  writeFileSync(src, 'int silent_library;\n');
  const lib = join(work, 'libscope.so');
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', lib, src], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  const ok = scopeRun(['--librarypath', lib, '--', 'true']);
  assert.is(ok.status, 125, ok.stderr);
  assert.match(ok.stderr, /scope-run: error: true \(pid \d+\) left no record in \S+: libscope did not load into it or could not write there/);
  assert.ok(
    ok.manifest.notices.some((n: string) => n.includes('left no record')),
    JSON.stringify(ok.manifest),
  );
  assert.is(ok.manifest.exitStatus, 0, "session.json keeps the command's own status");
  const failed = scopeRun(['--librarypath', lib, '--', 'sh', '-c', 'exit 3']);
  assert.is(failed.status, 3, failed.stderr);
  assert.match(failed.stderr, /left no record/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
