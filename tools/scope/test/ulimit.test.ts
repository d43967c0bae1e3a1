/**
 * `ulimit -n` too low for Node to open the tools' module files: the user is told that, in one line
 * with status 1, whether the bin itself or the umbrella's lazy load of a verb hits it.
 *
 * How many descriptors loading a tool takes changes whenever what it loads changes (`scope run -- true`
 * once needed more than 30; it loads less now), so the limits are found, not fixed: the lowest limit
 * at which Node runs our bin at all, where every command must say it, and each limit from there up,
 * where every command must either say it or work — never a trace, never another message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { noForcedColour, tempDir } from '@scope/core/testing';

const scope = fileURLToPath(new URL('../../bin/scope.js', import.meta.url));
const scopeRun = fileURLToPath(new URL('../../../scope-run/bin/scope-run.js', import.meta.url));
const scopeEvents = fileURLToPath(new URL('../../../scope-events/bin/scope-events.js', import.meta.url));
const home = tempDir('scope-ulimit-');

function limited(limit: number, argv: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync('bash', ['-c', `ulimit -n ${limit}; exec "$@"`, 'bash', process.execPath, ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...noForcedColour(), SCOPE_HOME: home },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** name, argv, and what its output is when it works */
const cases: [string, string[], (r: { stdout: string; stderr: string }) => boolean][] = [
  ['scope', [scope, 'run', '--', 'true'], (r) => r.stdout.includes('"format":"ndjson"') && r.stderr === ''],
  ['scope', [scope, 'events', '--help'], (r) => /^Read, filter/.test(r.stdout)],
  ['scope-run', [scopeRun, '--', 'true'], (r) => r.stdout.includes('"format":"ndjson"') && r.stderr === ''],
  ['scope-events', [scopeEvents, '--help'], (r) => /^Read, filter/.test(r.stdout)],
];

const message = (name: string, limit: number) => `${name}: too many open files (ulimit -n is ${limit}); raise it (ulimit -n 1024)\n`;

/** The lowest limit at which our bin runs (below it Node itself cannot start, before any of our code). */
function lowest(): number {
  for (let limit = 12; limit <= 64; limit++) {
    const r = limited(limit, [scope, '--version']);
    if (r.stderr === message('scope', limit) || r.status === 0) return limit;
  }
  throw new Error('scope --version runs at no limit from 12 to 64');
}

const floor = lowest();

for (const [name, argv] of cases) {
  test(`ulimit -n ${floor} (the lowest our bin runs with): ${name} ${argv.slice(1).join(' ')} says too many open files, status 1, no trace`, () => {
    const r = limited(floor, argv);
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr, message(name, floor));
    assert.not.match(r.stderr, /^\s+at /m);
    assert.is(r.stdout, '');
  });
}

for (const [name, argv, works] of cases) {
  test(`ulimit -n ${floor + 1} to ${floor + 10}: ${name} ${argv.slice(1).join(' ')} says too many open files or works, never a trace`, () => {
    for (let limit = floor + 1; limit <= floor + 10; limit++) {
      const r = limited(limit, argv);
      if (r.status === 0) {
        assert.ok(works(r), `ulimit -n ${limit}: ${r.stdout.slice(0, 200)}${r.stderr}`);
        continue;
      }
      assert.is(r.status, 1, `ulimit -n ${limit}: ${r.stderr}`);
      assert.is(r.stderr, message(name, limit));
      assert.is(r.stdout, '');
    }
  });
}

test('with a limit that is enough, the same commands run', () => {
  const r = limited(1024, [scope, '--version']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  for (const [name, argv, works] of cases) {
    const w = limited(1024, argv);
    assert.is(w.status, 0, `${name}: ${w.stderr}`);
    assert.ok(works(w), `${name}: ${w.stdout.slice(0, 200)}${w.stderr}`);
  }
});

test.run();
