/**
 * A program whose name is a terminal escape sequence: what the tools print for people shows it
 * escaped (\x1b, \x07), never raw; what they print as data (NDJSON) keeps it exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noForcedColour, tempDir } from '@scope/core/testing';

const scope = fileURLToPath(new URL('../../bin/scope.js', import.meta.url));
// OSC "set the window title", BEL, CSI "clear the screen": 15 characters, all of a comm.
const NAME = '\u001b]0;pwned\u0007\u001b[2J';
const SHOWN = '\\x1b]0;pwned\\x07\\x1b[2J';
const RAW = /[\u001b\u0007\u009b\u202e]/;

const home = tempDir('scope-terminal-');
const which = (name: string) => (existsSync(`/bin/${name}`) ? `/bin/${name}` : `/usr/bin/${name}`);
// the program under that name: `true` (takes any arguments) for a session, `sleep` to be seen running
const dir = tempDir('scope-terminal-bin-');
symlinkSync(which('true'), join(dir, NAME));
const sleepDir = tempDir('scope-terminal-sleep-');
const sleeper = join(sleepDir, NAME);
symlinkSync(which('sleep'), sleeper);
const catDir = tempDir('scope-terminal-cat-');
symlinkSync(which('cat'), join(catDir, NAME));

/** Run `scope …` with stdout a pipe; stdin the given text, else nothing (so that a session is read). */
function scopeCmd(args: string[], stdin?: string, cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [scope, ...args], {
    encoding: 'utf8',
    env: { ...noForcedColour(), SCOPE_HOME: home, NO_COLOR: '1' },
    maxBuffer: 64 << 20,
    cwd,
    ...(stdin === undefined ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input: stdin }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('scope run of the program: its records keep the name exactly (NDJSON escapes it as JSON does)', () => {
  // run as ./NAME from its directory, so that the whole command line fits in the history table
  const r = scopeCmd(['run', '--', `./${NAME}`, '0', '\u202e'], undefined, dir);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stdout, /[\u001b\u0007]/); // (U+202E may stand in JSON as it is)
  const procs = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l))
    .map((rec) => rec.body?.proc)
    .filter((p) => p !== undefined);
  assert.ok(procs.length > 0);
  assert.ok(
    procs.every((p) => p === NAME),
    JSON.stringify(procs.slice(0, 3)),
  );
});

test('scope history --pretty shows the name and its arguments escaped; --json keeps them', () => {
  const r = scopeCmd(['history', '--pretty']);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stdout, RAW);
  assert.ok(r.stdout.includes(`1   ${SHOWN}  $'./${SHOWN}' 0 $'\\u202e'  `), r.stdout);
  const json = scopeCmd(['history', '--json']);
  const rec = JSON.parse(json.stdout.trim().split('\n')[0] as string);
  assert.is(rec.cmd, NAME);
  assert.equal(rec.args, [`./${NAME}`, '0', '\u202e']);
});

test('scope events --pretty: the proc column escaped', () => {
  const ran = scopeCmd(['run', '--no-stream', '--', join(catDir, NAME), fileURLToPath(import.meta.url)]); // cat: fs events
  assert.is(ran.status, 0, ran.stderr);
  const r = scopeCmd(['events', '--pretty']);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stdout, RAW);
  assert.match(r.stdout, new RegExp(`^\\[\\S+\\] \\w{3} \\d\\d [\\d:]{8} ${SHOWN.replace(/[\\[\]]/g, '\\$&')} `, 'm'));
});

test('scope events --pretty on crafted records: names, keys, values and the bad-line echo escaped', () => {
  const evt = {
    type: 'evt',
    id: 'x',
    _channel: '1',
    body: { sourcetype: 'fs', _time: 1700000000, source: 'fs.open\u009b2J', host: 'h', proc: NAME, cmd: 'c', pid: 1, data: { 'k\u202e': 'v\u001b]8;;http://evil\u0007', n: 1 } },
  };
  const input = `${JSON.stringify(evt)}\n\u001b[2Jnot json\u001b]0;x\u0007\n`;
  const r = scopeCmd(['events', '--pretty'], input);
  assert.is(r.status, 1, r.stderr);
  assert.not.match(r.stdout, RAW);
  assert.not.match(r.stderr, RAW);
  assert.ok(r.stdout.includes(`${SHOWN} fs      fs.open\\x9b2J k\\u202e:v\\x1b]8;;http://evil\\x07 n:1`), r.stdout);
  assert.ok(r.stderr.includes('scope-events: stdin:2: '), r.stderr);
  assert.ok(r.stderr.includes('\n  \\x1b[2Jnot json\\x1b]0;x\\x07\n'), r.stderr);
  // the same records as data: unchanged
  const data = scopeCmd(['events', '--json'], input);
  assert.equal(JSON.parse(data.stdout.trim()), evt);
});

test('scope logs: a log line with escape sequences shown escaped, its tabs kept', () => {
  const dirOf = scopeCmd(['history', '--dir']).stdout.trim();
  appendFileSync(join(dirOf, 'libscope.log'), `[warn]\tname ${NAME} did\rthings\n`);
  const r = scopeCmd(['logs']);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stdout, RAW);
  assert.ok(r.stdout.includes(`[warn]\tname ${SHOWN} did\\rthings\n`), r.stdout);
});

test('scope ps and scope inspect while it runs: the command escaped', async () => {
  const child = spawn(process.execPath, [scope, 'run', '--no-stream', '--', sleeper, '30'], {
    stdio: 'ignore',
    detached: true,
    env: { ...noForcedColour(), SCOPE_HOME: home },
  });
  const ended = new Promise((resolve) => child.once('exit', resolve));
  try {
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const rows = scopeCmd(['ps', '--json'])
        .stdout.split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l));
      pid = rows.find((row) => row.command === `${sleeper} 30` && row.scoped)?.pid;
    }
    assert.ok(pid !== undefined, 'the scoped program shows in scope ps --json, its command exactly');
    const ps = scopeCmd(['ps', '--pretty']);
    assert.is(ps.status, 0, ps.stderr);
    assert.not.match(ps.stdout, RAW);
    assert.match(ps.stdout, new RegExp(`^${pid}\\s.*\\s${`${sleepDir}/${SHOWN} 30`.replace(/[\\[\].]/g, '\\$&')}$`, 'm'));
    const inspect = scopeCmd(['inspect', '--pretty', String(pid)]);
    assert.is(inspect.status, 0, inspect.stderr);
    assert.not.match(inspect.stdout, RAW);
    assert.ok(inspect.stdout.startsWith(`pid ${pid} (${sleepDir}/${SHOWN} 30): scoped`), inspect.stdout);
  } finally {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
    await ended;
  }
});

test.run();
