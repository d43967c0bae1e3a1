// Crash handling (SCOPE_SNAPSHOT_BACKTRACE, SCOPE_SNAPSHOT_COREDUMP): each crashing program ends
// scoped exactly as it ends unscoped, leaves info, config, backtrace and an ELF core that gdb reads
// in the snapshot directory, and an app's own handler still runs. Off, nothing is installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIB, loadable, prog, run, session, stripScope } from './lib.js';
import { coreShows, tempDir } from '@scope/core/testing';

const ON = { SCOPE_SNAPSHOT_BACKTRACE: 'true', SCOPE_SNAPSHOT_COREDUMP: 'true' };

interface Case {
  name: string;
  fn: string;
  signal: NodeJS.Signals | null;
  status: number | null;
  bt?: string;
}
const cases: Case[] = [
  { name: 'crash_segv', fn: 'crash_segv_here', signal: 'SIGSEGV', status: null },
  { name: 'crash_abort', fn: 'crash_abort_here', signal: 'SIGABRT', status: null },
  { name: 'crash_fpe', fn: 'crash_fpe_here', signal: 'SIGFPE', status: null },
  { name: 'crash_ill', fn: 'crash_ill_here', signal: 'SIGILL', status: null },
  // tens of thousands of frames: gdb is asked for the innermost ones only
  { name: 'crash_overflow', fn: 'crash_overflow_here', signal: 'SIGSEGV', status: null, bt: 'bt 10' },
  { name: 'crash_ownhandler', fn: 'crash_own_here', signal: null, status: 3 },
  { name: 'crash_thread', fn: 'crash_thread_worker_here', signal: 'SIGSEGV', status: null },
];

const HAVE_GDB = spawnSync('gdb', ['--version'], { stdio: 'ignore' }).status === 0;
const gdbBt = (program: string, core: string, bt = 'bt'): string => {
  const r = spawnSync('gdb', ['-batch', '-nx', '-ex', bt, program, core], { timeout: 120_000, maxBuffer: 64 << 20 });
  return `${r.stdout.toString()}${r.stderr.toString()}`;
};
/** The core shows fn: read here (always), and by gdb as well where gdb is installed (first: the innermost frame). */
const assertCoreShows = (program: string, core: string, fn: string, o: { bt?: string; first?: boolean } = {}) => {
  const own = coreShows(program, core, fn);
  assert.ok(own.ok, `${core}: ${own.why}`);
  if (!HAVE_GDB) return;
  const out = gdbBt(program, core, o.bt);
  assert.ok(new RegExp(o.first ? `#0 .*\\b${fn} \\(` : `#\\d+ .*\\b${fn} \\(`).test(out), out);
};

const info = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(join(dir, 'info'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
  );

for (const c of cases) {
  test(`${c.name}: same end scoped as unscoped; info, config, backtrace and a core naming ${c.fn}`, () => {
    const plain = run(prog(c.name), [], stripScope());
    assert.is(plain.signal, c.signal, 'unscoped signal');
    assert.is(plain.status, c.status, 'unscoped status');
    const s = session(ON);
    const snap = join(s.dir, 'crash');
    s.env.SCOPE_SNAPSHOT_DIR = snap;
    const r = run(prog(c.name), [], s.env);
    assert.is(r.signal, plain.signal, 'scoped signal');
    assert.is(r.status, plain.status, 'scoped status');
    for (const f of ['info', 'config', 'backtrace', 'core']) assert.ok(existsSync(join(snap, f)), `${f} written`);
    const i = info(snap);
    assert.is(i.pid, String(r.pid));
    assert.is(i.process, c.name.slice(0, 15));
    assert.is(i.version, '0.1.0');
    assert.match(i.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.is(i.signal_name, c.signal ?? 'SIGSEGV');
    for (const k of ['tid', 'signal', 'si_code', 'errno', 'fault_address']) assert.ok(k in i, `info has ${k}`);
    const config = readFileSync(join(snap, 'config'), 'utf8');
    assert.match(config, /^SCOPE_SNAPSHOT_BACKTRACE=true$/m);
    assert.match(config, new RegExp(`^SCOPE_SNAPSHOT_DIR=${snap}$`, 'm'));
    const bt = readFileSync(join(snap, 'backtrace'), 'utf8');
    assert.match(bt, /^#0 0x[0-9a-f]+ \S+ \(.+\)$/m);
    assert.ok(bt.includes(` ${c.fn}+0x`) && bt.includes(`(${prog(c.name)})`), bt);
    assertCoreShows(prog(c.name), join(snap, 'core'), c.fn, { bt: c.bt });
    if (c.name === 'crash_ownhandler') assert.is(r.stdout.toString(), 'own handler ran\n');
    rmSync(s.dir, { recursive: true });
  });
}

test('crash_thread: the backtrace is the crashing thread: its function, then the thread start', () => {
  const s = session({ SCOPE_SNAPSHOT_BACKTRACE: 'true' });
  const snap = join(s.dir, 'crash');
  s.env.SCOPE_SNAPSHOT_DIR = snap;
  const r = run(prog('crash_thread'), [], s.env);
  assert.is(r.signal, 'SIGSEGV');
  const lines = readFileSync(join(snap, 'backtrace'), 'utf8').split('\n');
  assert.match(lines[0] ?? '', / crash_thread_worker_here\+0x/);
  assert.match(lines[1] ?? '', / worker\+0x/);
  assert.not.ok(existsSync(join(snap, 'core')), 'no core without SCOPE_SNAPSHOT_COREDUMP');
  const i = info(snap);
  assert.is.not(i.tid, i.pid, 'not the main thread');
  rmSync(s.dir, { recursive: true });
});

test('without SCOPE_SNAPSHOT_DIR the snapshot goes to /tmp/scope/<pid>/, mode 0700', () => {
  const s = session({ SCOPE_SNAPSHOT_BACKTRACE: 'true' });
  // /tmp/scope itself stays only if it was there before (a user's own crashes may be in it)
  const hadParent = existsSync('/tmp/scope');
  const r = run(prog('crash_segv'), [], s.env);
  assert.is(r.signal, 'SIGSEGV');
  const dir = `/tmp/scope/${r.pid}`;
  try {
    assert.match(readFileSync(join(dir, 'backtrace'), 'utf8'), / crash_segv_here\+0x/);
    assert.is(spawnSync('stat', ['-c', '%a', dir]).stdout.toString().trim(), '700');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!hadParent) {
      try {
        rmdirSync('/tmp/scope'); // only when empty: another run's crash may be in it meanwhile
      } catch {
        // not empty, or gone
      }
    }
    rmSync(s.dir, { recursive: true });
  }
});

test('a shared SCOPE_SNAPSHOT_DIR keeps the first crash; a later one goes to <pid>/ inside it', () => {
  const s = session({ SCOPE_SNAPSHOT_BACKTRACE: 'true' });
  const snap = join(s.dir, 'crash');
  s.env.SCOPE_SNAPSHOT_DIR = snap;
  // timeout(1), scoped too, re-raises its child's SIGSEGV on itself after the child's crash
  const r = run('timeout', ['30', prog('crash_segv')], s.env);
  assert.is(r.signal, 'SIGSEGV');
  assert.is(info(snap).process, 'crash_segv');
  assert.match(readFileSync(join(snap, 'backtrace'), 'utf8'), / crash_segv_here\+0x/);
  const later = info(join(snap, String(r.pid)));
  assert.is(later.process, 'timeout');
  assert.is(later.pid, String(r.pid));
  rmSync(s.dir, { recursive: true });
});

for (const own of [false, true]) {
  test(`attached (dlopen + scope_attach, no LD_PRELOAD)${own ? ', with a handler the app installs afterwards' : ''}: the snapshot, then ${own ? 'its handler' : 'the default action'}`, () => {
    const dir = tempDir('libscope-test-');
    const snap = join(dir, 'crash');
    const conf = join(dir, 'attach.conf');
    writeFileSync(conf, `SCOPE_SNAPSHOT_BACKTRACE=true\nSCOPE_SNAPSHOT_COREDUMP=true\nSCOPE_SNAPSHOT_DIR=${snap}\nSCOPE_EVENT_DEST=file://${dir}/events.json\n`, { mode: 0o600 });
    const r = run(prog('crash_attach'), [LIB, conf, ...(own ? ['own'] : [])], loadable());
    assert.is(r.stdout.toString(), own ? 'attach 0\nown handler ran\n' : 'attach 0\n');
    assert.is(r.signal, own ? null : 'SIGSEGV');
    assert.is(r.status, own ? 3 : null);
    assert.match(readFileSync(join(snap, 'backtrace'), 'utf8'), /^#0 0x[0-9a-f]+ crash_attach_here\+0x/);
    assertCoreShows(prog('crash_attach'), join(snap, 'core'), 'crash_attach_here', { first: true });
    rmSync(dir, { recursive: true });
  });
}

test('a forked child (no exec) that crashes leaves its own snapshot and dies by its signal', () => {
  const s = session(ON);
  const snap = join(s.dir, 'crash');
  s.env.SCOPE_SNAPSHOT_DIR = snap;
  const r = run(prog('crash_fork'), [], s.env);
  assert.is(r.status, 0);
  const m = /^child (\d+) signal 11$/.exec(r.stdout.toString().trim());
  assert.ok(m, r.stdout.toString());
  assert.is(info(snap).pid, m[1]);
  assert.match(readFileSync(join(snap, 'backtrace'), 'utf8'), /^#0 0x[0-9a-f]+ crash_fork_child_here\+0x/);
  assertCoreShows(prog('crash_fork'), join(snap, 'core'), 'crash_fork_child_here', { first: true });
  rmSync(s.dir, { recursive: true });
});

const disp = (env: NodeJS.ProcessEnv): string => run(prog('crash_disp'), [], env).stdout.toString();

test('off (the default), nothing is installed: dispositions and alternate stack untouched', () => {
  const plain = disp(loadable()); // the same preloads but ours (the ASan runtime, sanitized)
  assert.match(plain, /11 kernel=dfl app=dfl/);
  const s = session();
  assert.is(disp(s.env), plain);
  rmSync(s.dir, { recursive: true });
});

test('on, the kernel runs our handler while the app still sees its own (default) disposition', () => {
  const s = session(ON);
  const out = disp(s.env);
  for (const sig of [11, 7, 4, 8, 6]) assert.match(out, new RegExp(`^${sig} kernel=set app=dfl$`, 'm'));
  assert.match(out, /^altstack=set$/m);
  rmSync(s.dir, { recursive: true });
});

test.run();
