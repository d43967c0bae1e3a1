/**
 * Real sessions: a `scope run` session read afterwards, a live `scope-run … | scope-events` pipeline,
 * and --follow on the session of a program that is still running.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, fixtures, run, scopeBin, scopeRunBin, toolEnv } from './helpers.js';
import { tempDir } from '@scope/core/testing';

interface Body {
  sourcetype: string;
  source: string;
  _time: number;
  proc: string;
  data: Record<string, unknown>;
}
const body = (line: string) => (JSON.parse(line) as { body: Body }).body;

/** Collect a child's stdout lines with the time each arrived. */
function lines(child: ChildProcess): Array<{ at: number; text: string }> {
  const got: Array<{ at: number; text: string }> = [];
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const at = Date.now();
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const text of parts) got.push({ at, text });
  });
  return got;
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a session made by a real `scope run`: its events, one of them whole, and `scope events` through the umbrella', () => {
  const home = tempDir('scope-events-run-');
  const made = spawnSync(process.execPath, [scopeBin, 'run', '--no-stream', '--', 'sh', '-c', 'cat /etc/hostname'], {
    env: toolEnv({ SCOPE_HOME: home }),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.is(made.status, 0, made.stderr);
  const r = run(['--pretty', '--source', 'fs.open', '--match', '/etc/hostname'], { env: { SCOPE_HOME: home } });
  assert.is(r.status, 0, r.stderr);
  const m = /^\[([0-9a-z]+)\] \w{3} \d\d \d\d:\d\d:\d\d cat fs {6}fs\.open {3}file:\/etc\/hostname op:\w+ fd:\d+/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const one = run(['--json', m![1]!], { env: { SCOPE_HOME: home } });
  assert.is(one.status, 0, one.stderr);
  const b = body(one.stdout);
  assert.is(b.source, 'fs.open');
  assert.is(b.data['file'], '/etc/hostname');
  const whole = run(['--pretty', m![1]!], { env: { SCOPE_HOME: home } });
  assert.equal(JSON.parse(whole.stdout), JSON.parse(one.stdout));
  assert.ok(whole.stdout.startsWith('{\n  "type": "evt",\n'), 'pretty-printed with 2 spaces');

  const umbrella = spawnSync(process.execPath, [scopeBin, 'events', '--json', '-t', 'console'], {
    env: toolEnv({ SCOPE_HOME: home }),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.is(umbrella.status, 0, umbrella.stderr);
  const out = umbrella.stdout.trim().split('\n').map(body);
  assert.ok(out.length >= 1);
  assert.ok(out.every((e) => e.sourcetype === 'console'));
  assert.ok(out.some((e) => e.source === 'stdout' && e.proc === 'cat'));
});

test('live pipeline: scope-run … | scope-events --match hostname prints matching events before the command ends', async () => {
  const home = tempDir('scope-events-pipe-');
  const endFile = join(home, 'end');
  const script = `cat /etc/hostname; sleep 1; cat /etc/hostname; date +%s%3N > ${endFile}`;
  const child = spawn('sh', ['-c', `"${process.execPath}" ${scopeRunBin} -- sh -c '${script}' | "${process.execPath}" ${bin} --match hostname`], {
    env: toolEnv({ SCOPE_HOME: home }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const got = lines(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  assert.is(await exited(child), 0, stderr);
  const end = Number(readFileSync(endFile, 'utf8'));
  assert.ok(got.length >= 4, `${got.length} lines`);
  assert.ok(got[0]!.at < end - 500, `first event at ${got[0]!.at}, command ended at ${end}`);
  for (const { text } of got) {
    assert.ok(text.includes('hostname'), text);
    assert.is(JSON.parse(text).type, 'evt', 'only events (records are selected by --match)');
  }
  const opens = got.map((l) => body(l.text)).filter((b) => b.source === 'fs.open' && b.data['file'] === '/etc/hostname');
  assert.is(opens.length, 2);
});

test('--follow shows events of a running program while it runs, and ends with 0 on SIGINT', async () => {
  const home = tempDir('scope-events-follow-');
  const scoped = spawn(process.execPath, [scopeBin, 'run', '--no-stream', '--', 'sh', '-c', 'for i in 1 2 3; do cat /etc/hostname; sleep 1; done'], {
    env: toolEnv({ SCOPE_HOME: home }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const scopedDone = exited(scoped);
  // Wait for the session directory.
  const history = join(home, 'history');
  for (let i = 0; i < 100 && !(existsSync(history) && readdirSync(history).some((d) => existsSync(join(history, d, 'session.json')))); i++) await sleep(20);
  const startedAt = Date.now();
  const follower = spawn(process.execPath, [bin, '-f', '--json', '--source', 'fs.open', '--match', '/etc/hostname'], {
    env: toolEnv({ SCOPE_HOME: home }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const got = lines(follower);
  let stderr = '';
  follower.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const followerDone = exited(follower);
  assert.is(await scopedDone, 0);
  await sleep(300);
  assert.is(follower.exitCode, null, 'still following after the program ended');
  follower.kill('SIGINT');
  assert.is(await followerDone, 0, stderr);
  assert.is(stderr, '');
  const seen = got.map((l) => ({ at: l.at, b: body(l.text) }));
  assert.is(seen.length, 3, got.map((l) => l.text).join('\n'));
  assert.ok(seen.every((s) => s.b.source === 'fs.open' && s.b.proc === 'cat'));
  const pids = new Set(got.map((l) => (JSON.parse(l.text) as { body: { pid: number } }).body.pid));
  assert.is(pids.size, 3, 'three cat processes wrote to the one events.json');
  const live = seen.filter((s) => s.b._time * 1000 > startedAt + 200);
  assert.ok(live.length >= 2, `${live.length} events written after the follower started`);
  // Live: before the 3 s program is over (how fast is for bench/ to say; a loaded CI machine is slow).
  for (const s of live) assert.ok(s.at - s.b._time * 1000 < 2500, `shown ${s.at - s.b._time * 1000} ms after it was written`);
});

test('--follow --last N: the last N events already written, then each new one', async () => {
  const home = tempDir('scope-events-tail-');
  const dir = join(home, 'history', 'nginx_1_4300_1763890000000000000');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'session.json'), '{"id":1}');
  const fixture = `${fixtures}events.ndjson`;
  copyFileSync(fixture, join(dir, 'events.json'));
  const follower = spawn(process.execPath, [bin, '-f', '-n', '2', '--pretty', '-t', 'fs'], {
    env: toolEnv({ SCOPE_HOME: home }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const got = lines(follower);
  const done = exited(follower);
  for (let i = 0; i < 100 && got.length < 2; i++) await sleep(20);
  const line = readFileSync(fixture, 'utf8')
    .split('\n')
    .find((l) => l.includes('nginx.conf'))!;
  appendFileSync(join(dir, 'events.json'), line.replace('nginx.conf', 'new.conf') + '\n');
  for (let i = 0; i < 100 && got.length < 3; i++) await sleep(20);
  follower.kill('SIGINT');
  assert.is(await done, 0);
  assert.equal(
    got.map((l) => l.text.slice(0, 3)),
    ['[m]', '[p]', '[r]'],
  );
  assert.match(got[2]!.text, /file:\/etc\/nginx\/new\.conf/);
});

test.run();
