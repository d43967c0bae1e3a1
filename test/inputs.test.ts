/**
 * The reading tools take their input as an argument, as Unix tools do: a file of records (a pipe
 * such as <(…) too), a session directory, or - for stdin; and read stdin only when nothing else is
 * named, so that inside a `while read` loop they leave the loop's lines alone. Run through real
 * shells on a session a real `scope run` made.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, newHome, parseLines, repoRoot } from './lib/harness.js';

const home = newHome();
const env = envFor(home);
const bin = (tool: string, name = tool) => join(repoRoot, 'tools', tool, 'bin', `${name}.js`);
const made = spawnSync(process.execPath, [bin('scope-run'), '--', 'sh', '-c', 'cat /etc/hostname; ls / >/dev/null'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
const session = join(home, 'history', readdirSync(join(home, 'history'))[0] as string);
const events = join(session, 'events.json');
const metrics = join(session, 'metrics.json');

/** A shell line, with the tools' bins as shell functions (scope-events …). */
function sh(line: string): { status: number | null; stdout: string; stderr: string } {
  const fns = [
    ['scope-events', bin('scope-events')],
    ['scope-metrics', bin('scope-metrics')],
    ['scope-flows', bin('scope-flows')],
    ['scope-filter', bin('scope-filter')],
    ['scope-report', bin('scope-report')],
    ['scope-export', bin('scope-export')],
  ]
    .map(([name, file]) => `${name}() { '${process.execPath}' '${file}' "$@"; }`)
    .join('\n');
  const r = spawnSync('bash', ['-c', `${fns}\n${line}`], { env: { ...env, S: session, E: events, M: metrics }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const opens = (text: string) =>
  parseLines(text)
    .filter((r) => r['body']?.['source'] === 'fs.open')
    .map((r) => r['body']['data']['file']);

test('the session was made', () => {
  assert.is(made.status, 0, String(made.stderr));
  assert.ok(opens(sh('cat "$E"').stdout).includes('/etc/hostname'));
});

test('scope-events: a file, a session directory, -, and a pipe named by <(…), all the same records', () => {
  const want = opens(sh('scope-events --json -s fs.open "$E"').stdout);
  assert.ok(want.includes('/etc/hostname'), want.join(' '));
  assert.equal(opens(sh('scope-events --json -s fs.open "$S"').stdout), want);
  assert.equal(opens(sh('scope-events --json -s fs.open - < "$E"').stdout), want);
  assert.equal(opens(sh('scope-events --json -s fs.open <(cat "$E")').stdout), want);
  // with an event id too (the first one shown: which line holds an event depends on how the
  // processes' records interleaved), in either order
  const id = /^\[(\w+)\]/m.exec(sh('scope-events --pretty --all "$E"').stdout)?.[1];
  assert.ok(id !== undefined, 'an event id shown');
  const first = parseLines(sh(`scope-events --json "$E" ${id}`).stdout);
  assert.is(first.length, 1);
  assert.equal(parseLines(sh(`scope-events --json ${id} "$E"`).stdout), first);
});

test('every reading tool takes a file or a session directory', () => {
  const m = sh('scope-metrics --json -m proc.fd "$M"');
  assert.is(m.status, 0, m.stderr);
  assert.ok(parseLines(m.stdout).length > 0 && parseLines(m.stdout).every((r) => r['body']['_metric'] === 'proc.fd'));
  assert.equal(sh('scope-metrics --json -m proc.fd "$S"').stdout, m.stdout);
  const f = sh('scope-filter --json -f \'event=fs.open\' "$E"');
  assert.is(f.status, 0, f.stderr);
  assert.ok(opens(f.stdout).includes('/etc/hostname'));
  assert.equal(sh('scope-filter --json -f \'event=fs.open\' "$S"').stdout, f.stdout);
  const fl = sh('scope-flows --json "$S"');
  assert.is(fl.status, 0, fl.stderr);
  const r = sh('scope-report --json "$E"');
  assert.is(r.status, 0, r.stderr);
  assert.ok(JSON.stringify(JSON.parse(r.stdout)).includes('/etc/hostname'));
});

test('stdin is left alone when an input is named: a while-read loop sees all its lines', () => {
  for (const cmd of [
    'scope-events "$S" >/dev/null',
    'scope-events --session "$S" >/dev/null',
    'scope-metrics "$M" >/dev/null',
    'scope-filter -f \'event=fs.open\' "$E" >/dev/null',
    'scope-flows "$S" >/dev/null',
    'scope-report "$S" >/dev/null',
  ]) {
    const r = sh(`printf 'one\\ntwo\\nthree\\n' | while read -r line; do echo "got $line"; ${cmd}; done`);
    assert.is(r.stdout, 'got one\ngot two\ngot three\n', `${cmd}: ${r.stderr}`);
  }
});

test('bad inputs: named, status non-zero, nothing read from elsewhere', () => {
  const missing = sh('scope-events /no/such/file.json');
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /scope-events: \/no\/such\/file\.json: no such file or directory/);
  const both = sh('scope-metrics --id 1 "$M"');
  assert.is(both.status, 2);
  assert.match(both.stderr, /name the input once, as an argument or with --id/);
  const two = sh('scope-flows "$E" "$E"');
  assert.is(two.status, 2);
  assert.match(two.stderr, /one input at most/);
  const neither = sh('scope-events zz+');
  assert.is(neither.status, 2);
  assert.match(neither.stderr, /"zz\+" is neither a file, a session directory nor an event id/);
  const notSession = sh('scope-events /tmp');
  assert.is(notSession.status, 1);
  assert.match(notSession.stderr, /\/tmp: not a scope session/);
  // a file its user may not read (/etc/shadow; as root, the tool runs as nobody)
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--'] : [];
  const shadow = spawnSync(asUser[0] ?? process.execPath, [...asUser.slice(1), ...(asUser.length ? [process.execPath] : []), bin('scope-events'), '/etc/shadow'], {
    cwd: '/',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/' },
    encoding: 'utf8',
  });
  assert.is(shadow.status, 1, shadow.stderr);
  assert.is(shadow.stderr, 'scope-events: /etc/shadow: permission denied\n');
  const dir = sh('scope-export "$S" --to tcp://127.0.0.1:9');
  assert.is(dir.status, 2);
  assert.match(dir.stderr, /is a directory: give a file of records/);
});

test.run();
