/**
 * Output for people on a real pseudo-terminal (util-linux's `script`, 60 columns): event lines and
 * tables cut to the width with …; colour on a terminal, none with NO_COLOR or --color never, colour
 * into a pipe with FORCE_COLOR or --color always; whole lines into a pipe.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { envFor, newHome, repoRoot } from './lib/harness.js';

const home = newHome();
const env = envFor(home);
delete env['NO_COLOR'];
delete env['FORCE_COLOR'];
const bin = (tool: string, name = tool) => join(repoRoot, 'tools', tool, 'bin', `${name}.js`);
spawnSync(process.execPath, [bin('scope-run'), '--', 'sh', '-c', 'cat /etc/hostname; ls -la /usr/bin >/dev/null'], { env, stdio: 'ignore' });

/** What a command line prints on a 60-column terminal, \r\n turned into \n. */
function onTerminal(line: string, extra: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync('script', ['-qec', `stty cols 60; ${line}`, '/dev/null'], { env: { ...env, ...extra }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.replace(/\r\n/g, '\n');
}
const width = (l: string) => [...l.replace(/\u001b\[[0-9;]*m/g, '')].length;
const node = `'${process.execPath}'`;

test('scope-events on a terminal: lines cut to its width, coloured; NO_COLOR and --color never: no colour', () => {
  const out = onTerminal(`${node} '${bin('scope-events')}' --all`);
  const lines = out.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 3, out);
  for (const l of lines) assert.ok(width(l) <= 60, `${width(l)}: ${l}`);
  assert.ok(
    lines.some((l) => l.replace(/\u001b\[[0-9;]*m/g, '').endsWith('…')),
    'a long line cut',
  );
  assert.match(out, /\u001b\[/);
  assert.not.match(onTerminal(`${node} '${bin('scope-events')}' --all`, { NO_COLOR: '1' }), /\u001b\[/);
  assert.not.match(onTerminal(`${node} '${bin('scope-events')}' --all --color never`), /\u001b\[/);
  assert.match(onTerminal(`${node} '${bin('scope-events')}' --all`, { NO_COLOR: '' }), /\u001b\[/, 'an empty NO_COLOR means nothing');
});

test('into a pipe: whole lines, no colour unless FORCE_COLOR or --color always', () => {
  const piped = spawnSync(process.execPath, [bin('scope-events'), '--pretty', '--all'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.is(piped.status, 0, piped.stderr);
  assert.ok(
    piped.stdout.split('\n').some((l) => width(l) > 60),
    'whole lines',
  );
  assert.not.match(piped.stdout, /\u001b\[/);
  const forced = spawnSync(process.execPath, [bin('scope-events'), '--pretty', '--all'], { env: { ...env, FORCE_COLOR: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(forced.stdout, /\u001b\[/);
  const always = spawnSync(process.execPath, [bin('scope-events'), '--pretty', '--all', '--color', 'always'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(always.stdout, /\u001b\[/);
  const bad = spawnSync(process.execPath, [bin('scope-events'), '--color', 'sometimes'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--color: "sometimes" is not one of auto, always, never/);
});

test('tables on a terminal are cut to its width too: history, metrics, report', () => {
  for (const line of [`${node} '${bin('scope-history')}'`, `${node} '${bin('scope-metrics')}'`, `${node} '${bin('scope-report')}'`]) {
    const out = onTerminal(line);
    const lines = out.split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 0, line);
    for (const l of lines) assert.ok(width(l) <= 60, `${line}: ${width(l)}: ${l}`);
  }
});

test.run();
