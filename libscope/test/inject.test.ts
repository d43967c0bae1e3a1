// inject(): loading a library into a running program by ptrace (issue 7). Each test starts one of
// the attach_* programs, injects a probe library built here, checks that the probe loaded and ran
// in that process, and that the program goes on exactly as before (the syscall it was blocked in
// restarted, never EINTR); then the ways an injection must fail without leaving anything stopped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject, libscopePath } from '../addon/index.js';
import type { InjectResult } from '../addon/index.js';
import { loadable, prog, stripScope } from './lib.js';
import { tempDir } from '@scope/core/testing';

const dir = tempDir('inject-test-');
const SRC = fileURLToPath(new URL('../../test/', import.meta.url));

// The probe: probe(path) writes "probed <pid>" into path and returns 42 once its constructor ran;
// nap(ms) sleeps; quit(status) exits the process; crash() faults.
const PROBE_C = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static int constructed;
__attribute__((constructor)) static void init(void) { constructed = 1; }
int probe(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  char buf[64];
  int n = snprintf(buf, sizeof buf, "probed %d\\n", (int)getpid());
  int ok = write(fd, buf, (size_t)n) == n;
  close(fd);
  return ok && constructed ? 42 : -1;
}
int nap(const char *ms) {
  long v = atol(ms);
  struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
  return 0;
}
int quit(const char *status) { _exit(atoi(status)); }
int crash(const char *unused) { (void)unused; *(volatile int *)8 = 1; return 0; }
`;

function cc(args: string[]): void {
  const r = spawnSync('cc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${args.join(' ')}: ${r.stderr}`);
}
writeFileSync(join(dir, 'probe.c'), PROBE_C);
const PROBE = join(dir, 'probe.so');
const PROBE_SYSV = join(dir, 'probe-sysv.so'); // DT_HASH only: the other symbol lookup
cc(['-shared', '-fPIC', '-Wall', '-o', PROBE, join(dir, 'probe.c')]);
cc(['-shared', '-fPIC', '-Wall', '-Wl,--hash-style=sysv', '-o', PROBE_SYSV, join(dir, 'probe.c')]);

interface Line {
  text: string;
  /** performance.now() when this process read it */
  at: number;
}
interface Running {
  child: ChildProcess;
  pid: number;
  lines: Line[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  until(what: string, pred: (lines: Line[]) => boolean, ms?: number): Promise<void>;
}

const children: ChildProcess[] = [];
function start(name: string, args: string[] = [], path = prog(name)): Running {
  const child = spawn(path, args, { env: loadable(), stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: Line[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    const at = performance.now();
    for (const text of parts) lines.push({ text, at });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  assert.ok(child.pid, `${name} started`);
  return {
    child,
    pid: child.pid ?? 0,
    lines,
    exited,
    async until(what, pred, ms = 5000) {
      const end = performance.now() + ms;
      while (!pred(lines)) {
        if (performance.now() > end) throw new Error(`${name}: no ${what} in ${ms} ms; output: ${JSON.stringify(lines.map((l) => l.text))}`);
        await sleep(10);
      }
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const texts = (r: Running): string[] => r.lines.map((l) => l.text);
const has = (text: string) => (ls: Line[]) => ls.some((l) => l.text === text);
const ticks = (r: Running): number[] =>
  texts(r)
    .filter((t) => t.startsWith('tick '))
    .map((t) => Number(t.slice(5)));
// Through its threads: /proc/<pid>/maps is empty once the main thread has exited.
const maps = (pid: number): string =>
  readdirSync(`/proc/${pid}/task`)
    .map((t) => readFileSync(`/proc/${pid}/task/${t}/maps`, 'utf8'))
    .join('');
const state = (pid: number): string => /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';
const threads = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;

function expectOk(r: InjectResult): asserts r is Extract<InjectResult, { ok: true }> {
  if (!r.ok) throw new assert.Assertion({ message: `inject failed: ${r.code}: ${r.message}`, operator: 'ok', expects: true, actual: r, generated: false });
  assert.match(r.handle, /^0x[0-9a-f]+$/);
  assert.is.not(r.handle, '0x0');
}
function expectFail(r: InjectResult, code: string): string {
  if (r.ok) throw new assert.Assertion({ message: `inject succeeded (handle ${r.handle}), expected ${code}`, operator: 'is', expects: code, actual: r, generated: false });
  assert.is(r.code, code, r.message);
  assert.ok(r.message.length > 0);
  return r.message;
}

// The probe ran in the target: the marker names the target's pid, and the target maps the probe.
function expectProbed(pid: number, marker: string, r: InjectResult): void {
  expectOk(r);
  assert.is(r.entryResult, 42, 'probe() ran after the constructor');
  assert.is(readFileSync(marker, 'utf8'), `probed ${pid}\n`);
  assert.ok(maps(pid).includes(PROBE), 'the probe is in /proc/<pid>/maps');
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  return typeof addr === 'object' && addr ? addr.port : 0;
}

function fetchLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(port, '127.0.0.1');
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

// Sends SIGNAL to pid after ms, from another process: inject() blocks this one.
function signalLater(pid: number, signal: string, ms: number): ChildProcess {
  return spawn('sh', ['-c', `sleep ${ms / 1000}; kill -${signal} ${pid}`], { stdio: 'ignore' });
}

test.after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

test('attach_read: the probe loads and runs in the target; a line read after the injection is echoed, the read never sees EINTR', async () => {
  const r = start('attach_read');
  await r.until('ready', has('ready'));
  const marker = join(dir, 'read.marker');
  expectProbed(r.pid, marker, inject(r.pid, PROBE, { symbol: 'probe', arg: marker }));
  r.child.stdin?.write('after the injection\n');
  await r.until('the echo', has('echo: after the injection'));
  assert.equal(texts(r), ['ready', 'echo: after the injection']);
  assert.is(state(r.pid), 'S', 'back in its read');
});

test('attach_read: a library with only a DT_HASH table (no DT_GNU_HASH) is found and called too', async () => {
  const r = start('attach_read');
  await r.until('ready', has('ready'));
  const marker = join(dir, 'sysv.marker');
  const res = inject(r.pid, PROBE_SYSV, { symbol: 'probe', arg: marker });
  expectOk(res);
  assert.is(res.entryResult, 42);
  assert.is(readFileSync(marker, 'utf8'), `probed ${r.pid}\n`);
});

test('attach_accept: a connection after the injection gets the next number, accept never sees EINTR', async () => {
  const port = await freePort();
  const r = start('attach_accept', [String(port)]);
  await r.until('ready', has('ready'));
  assert.is(await fetchLine(port), 'hello 1\n');
  const marker = join(dir, 'accept.marker');
  expectProbed(r.pid, marker, inject(r.pid, PROBE, { symbol: 'probe', arg: marker }));
  assert.is(await fetchLine(port), 'hello 2\n');
  assert.is(await fetchLine(port), 'hello 3\n');
  assert.equal(texts(r), ['ready']);
});

test('attach_sleep: ticks go on with consecutive numbers and no gap beyond the injection; nanosleep is restarted, not EINTR', async () => {
  const r = start('attach_sleep');
  await r.until('two ticks', (ls) => ls.length >= 2);
  const marker = join(dir, 'sleep.marker');
  const t0 = performance.now();
  const res = inject(r.pid, PROBE, { symbol: 'probe', arg: marker });
  const took = performance.now() - t0;
  expectProbed(r.pid, marker, res);
  const before = r.lines.length;
  await r.until('five more ticks', (ls) => ls.length >= before + 5);
  const n = ticks(r);
  assert.equal(
    texts(r),
    n.map((i) => `tick ${i}`),
    'nothing but ticks',
  );
  assert.equal(
    n,
    n.map((_, i) => i + 1),
    'consecutive from 1',
  );
  const gaps = r.lines.slice(1).map((l, i) => l.at - (r.lines[i]?.at ?? 0));
  assert.ok(Math.max(...gaps) < 100 + took + 150, `largest gap ${Math.max(...gaps).toFixed(0)} ms (injection ${took.toFixed(0)} ms)`);
});

test('attach_threads: totals keep rising and the process still has its 9 threads', async () => {
  const r = start('attach_threads');
  await r.until('two totals', (ls) => ls.length >= 2);
  assert.is(threads(r.pid), 9);
  const marker = join(dir, 'threads.marker');
  expectProbed(r.pid, marker, inject(r.pid, PROBE, { symbol: 'probe', arg: marker }));
  const before = r.lines.length;
  await r.until('three more totals', (ls) => ls.length >= before + 3);
  const totals = texts(r).map((t) => Number(/^total (\d+)$/.exec(t)?.[1] ?? NaN));
  // A loaded machine may starve the spinners for one period; they must never go back, and must have
  // gone on after the injection.
  assert.ok(
    totals.every((t, i) => i === 0 || t >= (totals[i - 1] ?? 0)),
    `never falling: ${totals.join(' ')}`,
  );
  assert.ok((totals.at(-1) ?? 0) > (totals[before - 1] ?? Infinity), `rising after the injection: ${totals.join(' ')}`);
  assert.is(threads(r.pid), 9);
});

test('attach_sigsuspend: the mask sigsuspend swapped out is back after the injection; the signal still wakes it', async () => {
  const r = start('attach_sigsuspend');
  await r.until('ready', has('ready'));
  const marker = join(dir, 'sigsuspend.marker');
  expectProbed(r.pid, marker, inject(r.pid, PROBE, { symbol: 'probe', arg: marker }));
  process.kill(r.pid, 'SIGUSR1');
  await r.until('a wake-up', (ls) => ls.some((l) => l.text.startsWith('woke')));
  signalLater(r.pid, 'USR1', 100); // and one that arrives while a call runs
  expectOk(inject(r.pid, PROBE, { symbol: 'nap', arg: '300' }));
  await r.until('the second wake-up', (ls) => ls.some((l) => l.text.startsWith('woke 2')));
  assert.equal(texts(r), ['ready', 'woke 1 blocked=1', 'woke 2 blocked=1']);
});

test('attach_leaderless: with the main thread exited, the call runs on the thread that is left', async () => {
  const r = start('attach_leaderless');
  await r.until('two lines', (ls) => ls.length >= 2);
  assert.is(state(r.pid), 'Z', 'the main thread is a zombie');
  const marker = join(dir, 'leaderless.marker');
  expectProbed(r.pid, marker, inject(r.pid, PROBE, { symbol: 'probe', arg: marker }));
  const before = r.lines.length;
  await r.until('more work', (ls) => ls.length >= before + 3);
  assert.equal(
    texts(r),
    texts(r).map((_, i) => `work ${i + 1}`),
  );
});

test('libscope.so itself loads into attach_sleep (not preloaded, no SCOPE_*), and the ticks go on unchanged', async () => {
  const lib = libscopePath();
  assert.ok(existsSync(lib), `${lib} is built`);
  const r = start('attach_sleep');
  await r.until('two ticks', (ls) => ls.length >= 2);
  expectOk(inject(r.pid, lib));
  assert.ok(maps(r.pid).includes(lib), 'libscope.so is in /proc/<pid>/maps');
  const before = r.lines.length;
  await r.until('five more ticks', (ls) => ls.length >= before + 5);
  const n = ticks(r);
  assert.equal(
    texts(r),
    n.map((i) => `tick ${i}`),
    'nothing but ticks on its stdout',
  );
  assert.equal(
    n,
    n.map((_, i) => i + 1),
    'consecutive from 1',
  );
});

test("a signal that comes during the injection is delivered after it, once, to the app's handler; the read restarts", async () => {
  const r = start('attach_read');
  await r.until('ready', has('ready'));
  signalLater(r.pid, 'USR1', 200);
  const napEnd = process.hrtime.bigint() + 600_000_000n;
  expectOk(inject(r.pid, PROBE, { symbol: 'nap', arg: '600' }));
  await r.until('the handler', (ls) => ls.some((l) => l.text.startsWith('usr1 ')));
  const usr1 = texts(r).filter((t) => t.startsWith('usr1 '));
  assert.is(usr1.length, 1);
  assert.ok(BigInt(usr1[0]?.slice(5) ?? '0') >= napEnd, 'the handler ran after the injected call had returned');
  r.child.stdin?.write('still here\n');
  await r.until('the echo', has('echo: still here'));
  assert.ok(!texts(r).includes('read: EINTR'));
});

test('SIGSTOP during the injection leaves the process stopped after it; SIGCONT resumes the ticks', async () => {
  const r = start('attach_sleep');
  await r.until('two ticks', (ls) => ls.length >= 2);
  signalLater(r.pid, 'STOP', 200);
  expectOk(inject(r.pid, PROBE, { symbol: 'nap', arg: '500' }));
  await sleep(200);
  assert.is(state(r.pid), 'T', 'stopped, as the SIGSTOP asked');
  const before = r.lines.length;
  process.kill(r.pid, 'SIGCONT');
  await r.until('ticks after SIGCONT', (ls) => ls.length >= before + 3);
  const n = ticks(r);
  assert.equal(
    n,
    n.map((_, i) => i + 1),
  );
});

test('a pid that does not exist: ESRCH', () => {
  const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  let pid = max - 1;
  while (existsSync(`/proc/${pid}`)) pid--;
  expectFail(inject(pid, PROBE), 'ESRCH');
});

test('a static executable: STATIC, and it is never stopped', async () => {
  const exe = join(dir, 'static_sleep');
  if (existsSync('/usr/lib/x86_64-linux-gnu/libc.a') || existsSync('/usr/lib64/libc.a')) {
    cc(['-static', '-O1', '-o', exe, join(SRC, 'attach_sleep.c')]);
  } else {
    // No libc.a: a static program without libc, pausing forever, from assembly.
    writeFileSync(join(dir, 'pause.s'), '.globl _start\n_start:\n mov $34, %eax\n syscall\n jmp _start\n');
    const as = spawnSync('as', ['-o', join(dir, 'pause.o'), join(dir, 'pause.s')]);
    const ld = spawnSync('ld', ['-static', '-o', exe, join(dir, 'pause.o')]);
    assert.is(as.status, 0, 'as');
    assert.is(ld.status, 0, 'ld');
  }
  const r = start('static', [], exe);
  await sleep(150);
  const msg = expectFail(inject(r.pid, PROBE), 'STATIC');
  assert.ok(msg.includes(exe), msg);
  assert.ok(['S', 'R'].includes(state(r.pid)));
});

test('a zombie: EXITED', async () => {
  // sh starts a child that exits soon, then becomes `sleep`, which never reaps it. The child outlives
  // the exec (0.3 s): one that ended before it could be reaped by the shell itself, and then there is
  // no zombie at all (seen once, in a loaded CI run).
  const sh = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(sh);
  const zpid = await new Promise<number>((resolve) => sh.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  const end = performance.now() + 5000;
  while (state(zpid) !== 'Z' && performance.now() < end) await sleep(10);
  assert.is(state(zpid), 'Z');
  expectFail(inject(zpid, PROBE), 'EXITED');
});

test('a process that exits during the injected call: EXITED, and its parent still gets its exit status', async () => {
  const r = start('attach_read');
  await r.until('ready', has('ready'));
  const msg = expectFail(inject(r.pid, PROBE, { symbol: 'quit', arg: '7' }), 'EXITED');
  assert.ok(msg.includes('status 7'), msg);
  assert.equal(await r.exited, { code: 7, signal: null });
});

test('a process killed during the injected call: EXITED at once, not at the timeout', async () => {
  const r = start('attach_read');
  await r.until('ready', has('ready'));
  signalLater(r.pid, 'KILL', 300);
  const t0 = performance.now();
  const msg = expectFail(inject(r.pid, PROBE, { symbol: 'nap', arg: '5000' }), 'EXITED');
  assert.ok(performance.now() - t0 < 3000, 'returned soon after the kill');
  assert.ok(msg.includes('SIGKILL'), msg);
  assert.equal(await r.exited, { code: null, signal: 'SIGKILL' });
});

test('a call that does not return in time: TIMEOUT, the thread restored, its nanosleep keeps its own timing', async () => {
  const r = start('attach_sleep');
  await r.until('two ticks', (ls) => ls.length >= 2);
  const t0 = performance.now();
  expectFail(inject(r.pid, PROBE, { symbol: 'nap', arg: '3000' }, { timeoutMs: 300 }), 'TIMEOUT');
  assert.ok(performance.now() - t0 < 1500);
  const before = r.lines.length;
  // Restarted through the abandoned nap's restart block it would sleep ~2.7 s more.
  await r.until('ticks after the timeout', (ls) => ls.length >= before + 3, 1000);
  const n = ticks(r);
  assert.equal(
    texts(r),
    n.map((i) => `tick ${i}`),
  );
  assert.equal(
    n,
    n.map((_, i) => i + 1),
  );
  assert.is.not(state(r.pid), 'T');
});

test('injected code that faults: CRASHED, the thread restored, the program goes on', async () => {
  const r = start('attach_read');
  await r.until('ready', has('ready'));
  const msg = expectFail(inject(r.pid, PROBE, { symbol: 'crash', arg: '' }), 'CRASHED');
  assert.ok(msg.includes('SIGSEGV at address 0x8'), msg);
  r.child.stdin?.write('survived\n');
  await r.until('the echo', has('echo: survived'));
});

test("dlopen fails: DLOPEN_FAILED with the target's dlerror(); a missing entry: NO_ENTRY; the program goes on", async () => {
  const r = start('attach_read');
  await r.until('ready', has('ready'));
  const msg = expectFail(inject(r.pid, '/nonexistent/libnothing.so'), 'DLOPEN_FAILED');
  assert.ok(msg.includes('/nonexistent/libnothing.so: cannot open shared object file'), msg);
  const noEntry = expectFail(inject(r.pid, PROBE, { symbol: 'no_such_function', arg: '' }), 'NO_ENTRY');
  assert.ok(noEntry.includes('no_such_function'), noEntry);
  assert.ok(maps(r.pid).includes(PROBE), 'the library itself did load');
  r.child.stdin?.write('fine\n');
  await r.until('the echo', has('echo: fine'));
  assert.equal(texts(r), ['ready', 'echo: fine']);
});

test('an unprivileged user injecting into a root process: EPERM naming the uids and CAP_SYS_PTRACE', async () => {
  const setpriv = spawnSync('setpriv', ['--version']);
  if (process.getuid?.() !== 0 || setpriv.status !== 0) {
    console.warn('inject.test: EPERM test not run (needs root and setpriv)');
    return;
  }
  const r = start('attach_sleep');
  await r.until('a tick', (ls) => ls.length >= 1);
  const index = fileURLToPath(new URL('../addon/index.js', import.meta.url));
  const script = `import { inject } from ${JSON.stringify(index)}; console.log(JSON.stringify(inject(${r.pid}, ${JSON.stringify(PROBE)})));`;
  const out = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: stripScope(),
  });
  assert.is(out.status, 0, out.stderr);
  const res = JSON.parse(out.stdout) as InjectResult;
  const msg = expectFail(res, 'EPERM');
  assert.ok(msg.includes('uid 0') && msg.includes('uid 65534') && msg.includes('CAP_SYS_PTRACE'), msg);
  const before = r.lines.length;
  await r.until('ticks after', (ls) => ls.length >= before + 2);
});

test("bad arguments throw a TypeError; they are the caller's mistake, not the target's", () => {
  assert.throws(() => inject(0, PROBE), TypeError);
  assert.throws(() => inject(1.5, PROBE), TypeError);
  assert.throws(() => inject(process.pid, ''), TypeError);
  assert.throws(() => inject(process.pid, 'a\0b'), TypeError);
  assert.throws(() => inject(process.pid, PROBE, { symbol: '', arg: '' }), TypeError);
  assert.throws(() => inject(process.pid, PROBE, undefined, { timeoutMs: -1 }), TypeError);
});

test.run();
