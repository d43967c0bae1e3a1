import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bins, buildHome, run } from './helpers.js';

const home = buildHome();
const env = { SCOPE_HOME: home };
const dir5 = join(home, 'history', 'sleep_5_1000040_1700431955000000000');

test("the last session's libscope.log by default; --id N / -i N; --session DIR", () => {
  assert.equal(run(bins.logs, [], env), { status: 0, stdout: 'line 1\nline 2\nline 3\n', stderr: '' });
  assert.is(run(bins.logs, ['-i', '2'], env).stdout, 'scope: connected to example.com\n');
  assert.is(run(bins.logs, ['--id', '5'], env).stdout, 'line 1\nline 2\nline 3\n');
  assert.is(run(bins.logs, ['--session', join(home, 'history', 'curl_2_1000010_1700417600000000000')], env).stdout, 'scope: connected to example.com\n');
});

test('--last N / -n N: the last N lines', () => {
  assert.is(run(bins.logs, ['--last', '2'], env).stdout, 'line 2\nline 3\n');
  assert.is(run(bins.logs, ['-n', '1', '-i', '5'], env).stdout, 'line 3\n');
  assert.is(run(bins.logs, ['-n', '10'], env).stdout, 'line 1\nline 2\nline 3\n');
  assert.is(run(bins.logs, ['-n', '0'], env).stdout, '');
  assert.is(run(bins.logs, ['-n', 'two'], env).status, 2);
});

test('a session without a libscope.log (or an empty one): empty output, status 0', () => {
  assert.equal(run(bins.logs, ['-i', '3'], env), { status: 0, stdout: '', stderr: '' });
  assert.equal(run(bins.logs, ['-i', '1'], env), { status: 0, stdout: '', stderr: '' });
});

test('unknown --id: status 1 naming it; missing session dir: status 1; bad id or option: 2', () => {
  const r = run(bins.logs, ['--id', '42'], env);
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
  assert.is(r.stderr, `scope-logs: no session with id 42 in ${join(home, 'history')}\n`);
  const missing = run(bins.logs, ['--session', join(home, 'nope')], env);
  assert.is(missing.status, 1);
  assert.is(missing.stderr, `scope-logs: ${join(home, 'nope')}: not a scope session (no readable session.json)\n`);
  assert.is(run(bins.logs, ['--id', 'x'], env).status, 2);
  assert.is(run(bins.logs, ['--tail'], env).status, 2);
  const none = run(bins.logs, [], { SCOPE_HOME: join(home, 'empty') });
  assert.is(none.status, 1);
  assert.match(none.stderr, /^scope-logs: no session in /);
});

test('--follow prints lines as they are appended; SIGINT ends it with status 0', async () => {
  writeFileSync(join(dir5, 'libscope.log'), 'line 1\nline 2\nline 3\npart');
  const child = spawn(process.execPath, [bins.logs, '-f', '-n', '2'], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const until = async (want: string) => {
    const deadline = Date.now() + 10_000;
    while (out !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.is(out, want, err);
  };
  await until('line 2\nline 3\n');
  appendFileSync(join(dir5, 'libscope.log'), 'ial line\nline 5\n');
  await until('line 2\nline 3\npartial line\nline 5\n');
  appendFileSync(join(dir5, 'libscope.log'), 'line 6\n');
  await until('line 2\nline 3\npartial line\nline 5\nline 6\n');
  const status = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.is(await status, 0);
  assert.is(err, '');
});

test('--follow on a session whose log does not exist yet waits for it', async () => {
  const dir3 = join(home, 'history', 'sleep_3_1000020_1700421200000000000');
  const child = spawn(process.execPath, [bins.logs, '--follow', '--id', '3'], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(join(dir3, 'libscope.log'), 'hello\n');
  const deadline = Date.now() + 10_000;
  while (out !== 'hello\n' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.is(out, 'hello\n');
  const status = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.is(await status, 0);
});

test.run();
