import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import type { Session } from '@scope/core';
import { sessionPaths } from '@scope/core';
import { commandLine, countLines, formatAge, formatDuration, manifestProblem, nowMs, sessionState } from '../src/sessions.js';
import { ask, isYes, planPrune, promptText } from '../src/prune.js';
import { logLines } from '../src/logs.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@scope/core/testing';

function session(id: number, pid: number | null, end: string | null): Session {
  const dir = `/h/history/x_${id}_77_1`;
  return {
    id,
    dir,
    paths: sessionPaths(dir),
    manifest: {
      id,
      cmd: 'x',
      args: ['x'],
      pid,
      scoped: true,
      start: '2023-01-01T00:00:00Z',
      end,
      exitStatus: null,
      signal: null,
      scopeVersion: '0',
      records: { events: 0, metrics: 0 },
      drops: 0,
      notices: [],
    },
  };
}

test('AGE and DURATION formats', () => {
  assert.equal([0, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000, 5 * 86_400_000, -5].map(formatAge), ['0s', '59s', '1m', '59m', '1h', '23h', '1d', '5d', '0s']);
  assert.equal([0, 21, 999, 1000, 4250, 59_999, 60_000, 187_000, 3_600_000, 7_500_000].map(formatDuration), ['0ms', '21ms', '999ms', '1.0s', '4.2s', '59.9s', '1m00s', '3m07s', '1h00m', '2h05m']);
});

test('SCOPE_NOW replaces the clock only when set; a bad value is an error', () => {
  assert.is(nowMs({ SCOPE_NOW: '1700432000' }), 1700432000000);
  const t = Date.now();
  assert.ok(Math.abs(nowMs({}) - t) < 1000);
  assert.throws(() => nowMs({ SCOPE_NOW: 'noon' }), /SCOPE_NOW: "noon" is not a time/);
});

test("state: ended with an end time; running when the pid lives; abnormal when not; before the pid, the launcher's", () => {
  const alive = (pid: number) => pid === 10 || pid === 77;
  assert.is(sessionState(session(1, 10, '2023-01-01T00:00:01Z'), alive), 'ended');
  assert.is(sessionState(session(1, 10, null), alive), 'running');
  assert.is(sessionState(session(1, 11, null), alive), 'abnormal');
  assert.is(sessionState(session(1, null, null), alive), 'running');
  assert.is(
    sessionState(session(1, null, null), () => false),
    'abnormal',
  );
  assert.is(sessionState(session(1, process.pid, null)), 'running');
  assert.is(sessionState(session(1, 0, null)), 'abnormal', 'pid 0 is never taken as alive');
});

test('manifest shape checks', () => {
  assert.is(manifestProblem(session(1, 1, null).manifest), null);
  assert.is(manifestProblem([]), 'not a JSON object');
  assert.is(manifestProblem({ id: 1 }), '"start" is not a time');
  assert.is(manifestProblem({ id: 1, start: '2023-01-01T00:00:00Z', end: 'soon' }), '"end" is not a time');
});

test('plan: keep / delete / all, running sessions taken out and never replaced', () => {
  const list = [session(1, 1, 'e'), session(2, 2, null), session(3, 3, 'e'), session(4, 4, 'e')];
  const alive = (pid: number) => pid === 2;
  const ids = (p: ReturnType<typeof planPrune>) => [p.remove.map((s) => s.id), p.running.map((s) => s.id)];
  assert.equal(ids(planPrune(list, { keep: 1 }, alive)), [[1, 3], [2]]);
  assert.equal(ids(planPrune(list, { keep: 4 }, alive)), [[], []]);
  assert.equal(ids(planPrune(list, { keep: 0 }, alive)), [[1, 3, 4], [2]]);
  assert.equal(ids(planPrune(list, { delete: 2 }, alive)), [[1], [2]]);
  assert.equal(ids(planPrune(list, { all: true }, alive)), [[1, 3, 4], [2]]);
});

test('the prompt and its answers', async () => {
  assert.is(promptText(3), 'Delete 3 sessions? [y/N] ');
  assert.is(promptText(1), 'Delete 1 session? [y/N] ');
  assert.equal(['y', 'Y', 'yes', ' YES ', 'n', '', 'yep', 'no'].map(isYes), [true, true, true, true, false, false, false, false]);
  assert.is(isYes(null), false);
  const input = new PassThrough();
  const out = new PassThrough();
  let asked = '';
  out.on('data', (d: Buffer) => (asked += d.toString()));
  const answer = ask('Delete 2 sessions? [y/N] ', input, out);
  input.write('y\nmore\n');
  assert.is(await answer, 'y');
  assert.is(asked, 'Delete 2 sessions? [y/N] ');
  const eof = new PassThrough();
  const pending = ask('? ', eof, new PassThrough());
  eof.end();
  assert.is(await pending, null);
});

test('line counting and log lines', async () => {
  const dir = tempDir('scope-history-unit-');
  const f = join(dir, 'f');
  writeFileSync(f, '');
  assert.is(await countLines(f), 0);
  writeFileSync(f, 'a\nb\n');
  assert.is(await countLines(f), 2);
  writeFileSync(f, 'a\nb');
  assert.is(await countLines(f), 2);
  writeFileSync(f, 'x\n'.repeat(3_000_000));
  assert.is(await countLines(f), 3_000_000);
  assert.is(await countLines(join(dir, 'missing')), 0);
  assert.equal(logLines('a\n\nb\nc', 2, false), { lines: ['b', 'c'], seen: 2 });
  assert.equal(logLines('a\n\nb\nc', undefined, true), { lines: ['a', '', 'b'], seen: 2 });
  assert.equal(logLines('', undefined, false), { lines: [], seen: 0 });
});

test('command lines are quoted as a shell would need', () => {
  assert.is(commandLine(['ls', '-l', '/tmp']), 'ls -l /tmp');
  assert.is(commandLine(['sh', '-c', "echo 'hi' there"]), `sh -c 'echo '\\''hi'\\'' there'`);
  assert.is(commandLine(undefined), '');
});

test.run();
