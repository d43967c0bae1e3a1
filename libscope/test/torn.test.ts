// Torn records: processes sharing one events file, some of them killed (SIGKILL) at random
// instants, many times over. The kernel may stop a dying writer's append at a page boundary, in the
// middle of a line; that half line must stay a line of its own: every record of a writer that lived
// is in the file, whole, and every line that is not a record is a dead writer's unfinished one.
// The first tests set up the torn state by hand (a half line at the end of the file, the file
// locked by someone else), so they fail without the guard every time; the last one kills for real.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evts, prog, session, sweepControlFiles } from './lib.js';
import { runAsync } from './servers.js';
import { isTornRecord } from '@scope/core';

const HALF = '{"type":"evt","id":"a-dead-writer","_channel":"1","body":{"sourcetype":"cons';

/** The lines of a file (the last one without its newline, if any). */
const linesOf = (path: string): string[] => {
  const t = readFileSync(path, 'utf8');
  return (t.endsWith('\n') ? t.slice(0, -1) : t).split('\n');
};

/** Parsed records and the lines that are not records. */
function split(path: string): { records: unknown[]; bad: string[] } {
  const records: unknown[] = [];
  const bad: string[] = [];
  for (const l of linesOf(path)) {
    if (l === '') continue;
    try {
      records.push(JSON.parse(l));
    } catch {
      bad.push(l);
    }
  }
  return { records, bad };
}

/** The "TAG:SEQ" of every line the writers wrote to their stdout, from the stdout events. */
function written(records: unknown[]): Set<string> {
  const seen = new Set<string>();
  for (const e of evts(records, 'stdout'))
    for (const l of String(e.body.data['message']).split('\n')) {
      const m = /^(w[\d-]+:\d+):/.exec(l);
      if (m) seen.add(m[1]!);
    }
  return seen;
}

test('a half line left by a dead writer is ended before the next process writes its records', async () => {
  const s = session({ SCOPE_EVENT_MAXEPS: '0' });
  writeFileSync(join(s.dir, 'events.json'), HALF, { mode: 0o600 });
  const r = await runAsync(prog('tornwriter'), ['w1-1', '50', '100'], s.env);
  assert.is(r.status, 0, r.stderr);
  const lines = linesOf(join(s.dir, 'events.json'));
  assert.is(lines[0], HALF, 'the half line stays alone on the first line');
  const { records, bad } = split(join(s.dir, 'events.json'));
  assert.equal(bad, [HALF]);
  assert.is(written(records).size, 50);
  rmSync(s.dir, { recursive: true });
});

test('the file locked by another process: each write starts with a newline, nothing glued', async () => {
  const s = session({ SCOPE_EVENT_MAXEPS: '0' });
  const path = join(s.dir, 'events.json');
  writeFileSync(path, HALF, { mode: 0o600 });
  // flock(1), unscoped, holds the lock the writers take for as long as the scoped program runs
  const holder = spawn('flock', ['--no-fork', path, 'sleep', '30'], { env: { PATH: process.env['PATH'] ?? '' }, stdio: 'ignore' });
  try {
    while ((await runAsync('flock', ['-n', path, 'true'], { PATH: process.env['PATH'] ?? '' })).status === 0) await new Promise((res) => setTimeout(res, 20));
    const r = await runAsync(prog('tornwriter'), ['w1-1', '50', '100'], s.env);
    assert.is(r.status, 0, r.stderr);
  } finally {
    holder.kill('SIGKILL');
  }
  const { records, bad } = split(path);
  assert.equal(bad, [HALF]);
  assert.is(written(records).size, 50);
  rmSync(s.dir, { recursive: true });
});

const ROUNDS = 40;
const WRITERS = 5;
const KILLED = 3; // the first ones; the others write LIVE_LINES and exit
const LIVE_LINES = 1200;

test(`${ROUNDS} rounds of ${WRITERS} writers on one file, ${KILLED} killed at random instants: no record of a survivor lost or torn`, async () => {
  // a queue long enough that no survivor drops records under the load of five writers
  const s = session({ SCOPE_EVENT_MAXEPS: '0', SCOPE_QUEUE_LENGTH: '200000' });
  const path = join(s.dir, 'events.json');
  let torn = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const kids: ChildProcess[] = [];
      const exits: Promise<[number | null, string | null]>[] = [];
      for (let i = 1; i <= WRITERS; i++) {
        const env = { ...s.env, SCOPE_LOG_DEST: `file://${s.dir}/log-${i}` };
        const n = i <= KILLED ? 1_000_000 : LIVE_LINES;
        const kid = spawn(prog('tornwriter'), [`w${round}-${i}`, String(n), '1500'], { env, stdio: 'ignore' });
        kids.push(kid);
        exits.push(new Promise((res) => kid.on('exit', (code, sig) => res([code, sig]))));
      }
      for (let i = 0; i < KILLED; i++) {
        await new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 80)));
        kids[i]!.kill('SIGKILL');
      }
      const st = await Promise.all(exits);
      for (let i = KILLED; i < WRITERS; i++) assert.equal(st[i], [0, null], `writer ${i + 1} of round ${round}`);
      const { records, bad } = split(path);
      for (const l of bad) assert.ok(isTornRecord(l), `round ${round}: a line that is not a dead writer's unfinished record: ${l.slice(0, 100)} … ${l.slice(-200)}`);
      assert.ok(bad.length <= KILLED, `round ${round}: ${bad.length} bad lines for ${KILLED} killed writers`);
      torn += bad.length;
      const seen = written(records);
      for (let i = KILLED + 1; i <= WRITERS; i++) {
        const log = readFileSync(join(s.dir, `log-${i}`), 'utf8');
        assert.not.match(log, /dropped/, `writer ${i} dropped records, which this test cannot tell from torn ones: ${log}`);
        const missing: string[] = [];
        for (let k = 0; k < LIVE_LINES; k++) if (!seen.has(`w${round}-${i}:${k}`)) missing.push(`w${round}-${i}:${k}`);
        assert.equal(missing.slice(0, 5), [], `round ${round}: ${missing.length} records of surviving writer ${i} missing`);
      }
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
  console.log(`  (${torn} torn lines in ${ROUNDS} rounds)`);
});

test.after(() => sweepControlFiles());

test.run();
