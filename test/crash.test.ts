/**
 * Crash analysis through the real tools: `scope run -b -d` on programs that crash five ways, on one
 * with its own SIGSEGV handler, and on one where one of 8 threads crashes. The session's crash/ must
 * hold info, config, a backtrace naming the crashing function and a core gdb reads; the exit status
 * must be the unscoped run's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { testProgramDir } from '@scope/libscope';
import { envFor, newHome, readLast, scopeBin } from './lib/harness.js';
import { coreShows } from '@scope/core/testing';

/** The shell's view of how a command ended: its code, or 128+N for signal N. */
function shellStatus(r: { status: number | null; signal: NodeJS.Signals | null }): number {
  if (r.signal) return 128 + ({ SIGSEGV: 11, SIGABRT: 6, SIGFPE: 8, SIGILL: 4, SIGBUS: 7 } as Record<string, number>)[r.signal]!;
  return r.status ?? -1;
}

const cases = [
  { prog: 'crash_segv', fn: 'crash_segv_here', signal: 'SIGSEGV' },
  { prog: 'crash_abort', fn: 'crash_abort_here', signal: 'SIGABRT' },
  { prog: 'crash_fpe', fn: 'crash_fpe_here', signal: 'SIGFPE' },
  { prog: 'crash_ill', fn: 'crash_ill_here', signal: 'SIGILL' },
  { prog: 'crash_overflow', fn: 'crash_overflow_here', signal: 'SIGSEGV' },
  { prog: 'crash_thread', fn: 'crash_thread_worker_here', signal: 'SIGSEGV' },
];

for (const c of cases) {
  test(`scope run -b -d -- ${c.prog}: info, config, a backtrace and a core naming ${c.fn}; the unscoped exit status`, async () => {
    const file = join(testProgramDir, c.prog);
    const plain = spawnSync(file, [], { encoding: 'utf8', timeout: 30_000 });
    const home = newHome();
    const scoped = spawnSync(process.execPath, [scopeBin, 'run', '--no-stream', '-b', '-d', '--', file], { env: envFor(home), encoding: 'utf8', timeout: 60_000 });
    const want = shellStatus(plain);
    assert.is(want, 128 + ({ SIGSEGV: 11, SIGABRT: 6, SIGFPE: 8, SIGILL: 4 } as Record<string, number>)[c.signal]!, `unscoped ${c.prog}`);
    assert.is(scoped.status, want, scoped.stderr);
    const { session } = await readLast(home);
    const crash = session.paths.crash;
    for (const f of ['info', 'config', 'backtrace', 'core']) assert.ok(existsSync(join(crash, f)), `${crash}/${f}`);
    assert.is(statSync(crash).mode & 0o777, 0o700);
    const info = readFileSync(join(crash, 'info'), 'utf8');
    assert.match(info, new RegExp(`^signal_name: ${c.signal}$`, 'm'));
    assert.match(info, /^pid: \d+$/m);
    assert.match(readFileSync(join(crash, 'config'), 'utf8'), /^SCOPE_SNAPSHOT_COREDUMP=true$/m);
    assert.match(readFileSync(join(crash, 'backtrace'), 'utf8'), new RegExp(`\\b${c.fn}\\b`));
    const own = coreShows(file, join(crash, 'core'), c.fn); // read here, gdb or not
    assert.ok(own.ok, own.why);
    const gdb = spawnSync('gdb', ['-batch', '-ex', 'bt', file, join(crash, 'core')], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LANG: 'C' } });
    if (!gdb.error) assert.match(gdb.stdout, new RegExp(`\\b${c.fn}\\b`), gdb.stdout + gdb.stderr); // and by gdb, where installed
  });
}

test('a program with its own SIGSEGV handler: scoped, its handler still runs (and the crash is written first)', async () => {
  const file = join(testProgramDir, 'crash_ownhandler');
  const plain = spawnSync(file, [], { encoding: 'utf8', timeout: 30_000 });
  const home = newHome();
  const scoped = spawnSync(process.execPath, [scopeBin, 'run', '--no-stream', '-b', '--', file], { env: envFor(home), encoding: 'utf8', timeout: 60_000 });
  assert.is(scoped.status, plain.status, scoped.stderr);
  assert.is(scoped.stdout, plain.stdout);
  assert.ok(plain.stdout.length > 0, 'the handler prints a line');
  const { session } = await readLast(home);
  assert.match(readFileSync(join(session.paths.crash, 'backtrace'), 'utf8'), /\bcrash_own_here\b/);
});

test('without -b or -d nothing is written and the process dies as it would', async () => {
  const file = join(testProgramDir, 'crash_segv');
  const home = newHome();
  const scoped = spawnSync(process.execPath, [scopeBin, 'run', '--no-stream', '--', file], { env: envFor(home), encoding: 'utf8', timeout: 60_000 });
  assert.is(scoped.status, 139);
  const { session } = await readLast(home);
  assert.not.ok(existsSync(session.paths.crash));
});

test.run();
