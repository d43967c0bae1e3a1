/**
 * Go programs built at test time with Debian's golang-go (test/apps/install.sh), their caches inside
 * the temporary directory: nothing left behind in $HOME.
 */
import { cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { tempDir } from '@scope/core/testing';
import { repoRoot } from './harness.js';

/** A fresh directory holding a copy of test/apps/programs/NAME (a Go module). */
export function goProgram(name: string): string {
  const dir = tempDir(`scope-${name}-`);
  cpSync(join(repoRoot, 'test', 'apps', 'programs', name), dir, { recursive: true });
  return dir;
}

/** The Go module in dir built into dir/name (cgo on or off, more `go build` flags); its path. */
export function goBuild(dir: string, name: string, cgo: '0' | '1', flags: string[] = []): string {
  const exe = join(dir, name);
  const built = spawnSync('go', ['build', ...flags, '-o', exe, '.'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: cgo, GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '-modcacherw' },
    timeout: 600_000,
  });
  assert.is(built.status, 0, built.stderr ?? String(built.error));
  return exe;
}
