/**
 * A second fault inside libscope's crash handler (gdb, which `npm run test:apps` installs, stops
 * crash_segv's handler where it writes the core and sends it SIGBUS there): the process ends at
 * once with the original signal, and what was written before the fault is there. It lives here, not
 * in libscope's own tests, because nothing but a debugger puts a signal at that point.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { libscopePath, testProgramDir } from '@scope/libscope';
import { tempDir } from '@scope/core/testing';

test('a second fault inside our handler ends the process with the original signal, at once', () => {
  const dir = tempDir('scope-crashgdb-');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SCOPE_') && k !== 'LD_PRELOAD') env[k] = v;
  const r = spawnSync(
    'gdb',
    [
      '-batch',
      '-nx',
      '-ex',
      'set env SCOPE_SNAPSHOT_COREDUMP=true',
      '-ex',
      `set env SCOPE_SNAPSHOT_DIR=${dir}/crash`,
      '-ex',
      `set env LD_PRELOAD=${libscopePath()}`,
      '-ex',
      'handle SIGSEGV nostop noprint pass',
      '-ex',
      'set breakpoint pending on',
      '-ex',
      'break crash_core',
      '-ex',
      'run',
      '-ex',
      'signal SIGBUS',
      join(testProgramDir, 'crash_segv'),
    ],
    { env, timeout: 120_000 },
  );
  assert.is(r.error, undefined, 'gdb runs (npm run test:apps installs it)');
  const out = `${r.stdout.toString()}${r.stderr.toString()}`;
  assert.match(out, /hit Breakpoint 1, (.* in )?crash_core \(/, out);
  assert.match(out, /Program terminated with signal SIGSEGV/, out);
  assert.ok(existsSync(join(dir, 'crash', 'info')), 'info was written before');
});

test.run();
