/**
 * `ulimit -n` too low for Node to open the tools' module files: the user is told that, in one line
 * with status 1, whether the bin itself or the umbrella's lazy load of a verb hits it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const scope = fileURLToPath(new URL('../../bin/scope.js', import.meta.url));
const scopeRun = fileURLToPath(new URL('../../../scope-run/bin/scope-run.js', import.meta.url));
const scopeEvents = fileURLToPath(new URL('../../../scope-events/bin/scope-events.js', import.meta.url));

function limited(limit: number, argv: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync('bash', ['-c', `ulimit -n ${limit}; exec "$@"`, 'bash', process.execPath, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const cases: [string, string[]][] = [
  ['scope', [scope, 'run', '--', 'true']],
  ['scope', [scope, 'events', '--help']],
  ['scope-run', [scopeRun, '--', 'true']],
  ['scope-events', [scopeEvents, '--help']],
];

for (const limit of [24, 30]) {
  for (const [name, argv] of cases) {
    test(`ulimit -n ${limit}: ${name} ${argv.slice(1).join(' ')} says too many open files, status 1, no trace`, () => {
      const r = limited(limit, argv);
      assert.is(r.status, 1, r.stderr);
      assert.is(r.stderr, `${name}: too many open files (ulimit -n is ${limit}); raise it (ulimit -n 1024)\n`);
      assert.not.match(r.stderr, /^\s+at /m);
      assert.is(r.stdout, '');
    });
  }
}

test('with a limit that is enough, the same command runs', () => {
  const r = limited(1024, [scope, '--version']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

test.run();
