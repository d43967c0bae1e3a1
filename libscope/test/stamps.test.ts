// The time each record carries (libc/stamp.c): on x86-64, where the kernel's clock stands on the
// CPU's time-stamp counter, records are stamped with the counter as they are made and turned into
// wall-clock time by the reporting thread. Each fs.open must fall between the wall-clock readings
// the program took around its open, over a second of rounds (the rate the reporting thread
// measures) and across drains. A program that makes rdtsc fault (PR_SET_TSC, by prctl(), by
// syscall(SYS_prctl), or in a second thread) must neither die of it (SIGSEGV) nor get wrong times
// after. On a machine where the counter is not used, the same must hold of the wall clock read
// directly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SANITIZED, evts, prog, run, session } from './lib.js';

const TOLERANCE_S = 50e-6; // placement error allowed, beyond _time's microsecond

interface Window {
  before: number;
  after: number;
}

/** The program's windows (s) and the times (s) of its fs.open events of `file`, in order. */
function pairs(out: Buffer, events: unknown[], file: string): { windows: Window[]; times: number[] } {
  const windows = out
    .toString()
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Window)
    .map((w) => ({ before: w.before / 1e9, after: w.after / 1e9 }));
  const times = evts(events, 'fs.open')
    .filter((e) => e.body.data.file === file)
    .map((e) => Number(e.body._time));
  return { windows, times };
}

function inWindows(windows: Window[], times: number[], what: string): void {
  assert.is(times.length, windows.length, `${what}: an fs.open for each round`);
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    const t = times[i]!;
    assert.ok(
      t >= w.before - TOLERANCE_S - 1e-6 && t <= w.after + TOLERANCE_S + 1e-6,
      `${what}: round ${i}: _time ${t.toFixed(6)} outside [${w.before.toFixed(6)}, ${w.after.toFixed(6)}] ` + `(${((t < w.before ? t - w.before : t - w.after) * 1e6).toFixed(1)} µs off)`,
    );
  }
}

test('each fs.open carries the time it was made, over a second of rounds', () => {
  const s = session({ SCOPE_EVENT_MAXEPS: '0', SCOPE_LOG_LEVEL: 'info' });
  try {
    const file = join(s.dir, 'target');
    writeFileSync(file, 'x');
    const r = run(prog('stamps'), ['times', file, '30', '40'], s.env);
    assert.is(r.status, 0, r.stderr.toString());
    const { windows, times } = pairs(r.stdout, s.events(), file);
    inWindows(windows, times, 'times');
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

for (const how of ['prctl', 'syscall', 'thread']) {
  test(`a program that makes rdtsc fault (${how}) runs on, its records timed right`, () => {
    const s = session({ SCOPE_EVENT_MAXEPS: '0', SCOPE_LOG_LEVEL: 'info' });
    try {
      const file = join(s.dir, 'target');
      writeFileSync(file, 'x');
      const r = run(prog('stamps'), ['tscoff', how, file, ...(SANITIZED && how === 'thread' ? ['reenable'] : [])], s.env);
      assert.is(r.signal, null, `killed by ${String(r.signal)}: ${r.stderr.toString()}`);
      assert.is(r.status, 0, r.stderr.toString());
      const { windows, times } = pairs(r.stdout, s.events(), file);
      inWindows(windows, times, how);
      // (a machine may let rdtsc run whatever PR_SET_TSC says, this VM does: the notice says the
      // library turned the counter off all the same; where it never used it, there is nothing to
      // turn off)
      const log = s.log();
      if (log.includes("records are timed by the CPU's time-stamp counter")) assert.match(log, /made rdtsc fault \(prctl PR_SET_TSC\): records are timed by the wall clock/);
      else assert.not.match(log, /made rdtsc fault/);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

test.run();
