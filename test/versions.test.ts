/**
 * Every bin of every tool answers --version with its name and the one version of scope (@scope/core's,
 * which every package.json carries), status 0, without running anything.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCOPE_VERSION } from '@scope/core';
import { repoRoot } from './lib/harness.js';

const tools = readdirSync(join(repoRoot, 'tools')).filter((d) => d.startsWith('scope'));

test('every package carries the one version', () => {
  for (const dir of tools) {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'tools', dir, 'package.json'), 'utf8')) as { version: string };
    assert.is(pkg.version, SCOPE_VERSION, dir);
  }
});

for (const dir of tools) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'tools', dir, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  for (const [name, file] of Object.entries(pkg.bin ?? {})) {
    test(`${name} --version`, () => {
      const r = spawnSync(process.execPath, [join(repoRoot, 'tools', dir, file), '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout, name === 'scope' ? `${SCOPE_VERSION}\n` : `${name} ${SCOPE_VERSION}\n`);
    });
  }
}

test.run();
