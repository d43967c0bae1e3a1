/** The five tools' arguments and refusals that need no ptrace, through the real bins. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processInfo } from '@scope/core';
import { candidateTable } from '@scope/core';
import { noForcedColour, tempDir } from '@scope/core/testing';

const bin = (verb: string) => fileURLToPath(new URL(`../../bin/scope-${verb}.js`, import.meta.url));
const home = tempDir('scope-attach-cli-');

function run(verb: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin(verb), ...args], { encoding: 'utf8', env: { ...noForcedColour(), SCOPE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const usage: [string, string[], RegExp][] = [
  ['attach', [], /which process\? give its PID or name/],
  ['attach', ['0'], /"0" is not a pid/],
  ['attach', ['./x'], /neither a pid nor a process name/],
  ['attach', ['1', '2'], /one process at a time/],
  ['attach', ['--bogus', '1'], /unknown option "--bogus"/],
  ['attach', ['-v', '12', '1'], /--verbosity: "12" is not a level/],
  ['attach', ['-f', 'comm>1', '1'], /-f "comm>1": comm takes = and !=/],
  ['detach', ['--all', '5'], /--all takes no PID or name/],
  ['detach', [], /which process\?/],
  ['inspect', ['--all', '5'], /--all takes no PID or name/],
  ['update', ['1'], /no new settings/],
  ['update', ['--librarypath', '/x', '-e', 'file:///tmp/x', '1'], /--librarypath means nothing/],
  ['update', ['-e', 'nowhere', '1'], /--eventdest: "nowhere" is not a destination URL/],
  ['ps', ['extra'], /scope ps takes no argument/],
];

for (const [verb, args, says] of usage) {
  test(`scope-${verb} ${args.join(' ')}: a usage error, status 2`, () => {
    const r = run(verb, args);
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, says);
    assert.ok(r.stderr.startsWith(`scope-${verb}: `), r.stderr);
  });
}

test('a pid that does not exist: status 1 and the pid named', () => {
  for (const verb of ['attach', 'detach', 'inspect']) {
    const r = run(verb, ['4194001']);
    assert.is(r.status, 1, `${verb}: ${r.stderr}`);
    assert.match(r.stderr, /no process with pid 4194001/);
  }
});

test('a name no process has: status 1', () => {
  const r = run('attach', ['no-such-process-name-here']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /no process named "no-such-process-name-here"/);
});

test('inspect of a process that is not scoped: status 1, an error record saying so', () => {
  const r = run('inspect', ['--json', String(process.pid)]);
  assert.is(r.status, 1);
  const rec = JSON.parse(r.stdout);
  assert.is(rec.type, 'inspect');
  assert.is(rec.ok, false);
  assert.match(rec.error, /no scoped process listens/);
});

test('ps into a pipe: one process record per line', () => {
  const r = run('ps', []);
  assert.is(r.status, 0, r.stderr);
  for (const line of r.stdout.split('\n').filter((l) => l !== '')) {
    const rec = JSON.parse(line);
    assert.is(rec.type, 'process');
    assert.type(rec.pid, 'number');
    assert.type(rec.scoped, 'boolean');
  }
});

test('the candidate table: ID PID USER SCOPED COMMAND, aligned', () => {
  const me = processInfo(process.pid);
  assert.ok(me);
  const table = candidateTable([me!, me!]).split('\n');
  assert.match(table[0] as string, /^ID\s+PID\s+USER\s+SCOPED\s+COMMAND$/);
  assert.match(table[1] as string, new RegExp(`^1\\s+${process.pid}\\s+\\S+\\s+no\\s+\\S`));
  assert.match(table[2] as string, new RegExp(`^2\\s+${process.pid}`));
  assert.is((table[1] as string).indexOf(String(process.pid)), (table[0] as string).indexOf('PID'));
});

test.run();
