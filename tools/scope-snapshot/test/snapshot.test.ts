/** scope-snapshot through its bin against libscope's test programs, scoped and not. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, openSync, closeSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest, useControlPeerCheck } from '@scope/core';
import { controlPeerCheck, libscopePath, testProgramDir } from '@scope/libscope';
import { onPath } from '../src/backtrace.js';
import { validateRecord } from '@scope/schemas';
import { noForcedColour, tempDir } from '@scope/core/testing';

useControlPeerCheck(controlPeerCheck);

const bin = fileURLToPath(new URL('../../bin/scope-snapshot.js', import.meta.url));
const tmp = tempDir('scope-snapshot-test-');
const children: ChildProcess[] = [];

function runTool(args: string[], options: { env?: NodeJS.ProcessEnv; user?: string } = {}) {
  const [file, argv] = options.user ? ['runuser', ['-u', options.user, '--', process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
  const r = spawnSync(file as string, argv as string[], { encoding: 'utf8', env: options.env ?? { ...noForcedColour(), SCOPE_HOME: tmp }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function start(program: string, args: string[], env: NodeJS.ProcessEnv = process.env, extraFd?: number): ChildProcess {
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
  if (extraFd !== undefined) stdio.push(extraFd);
  const c = spawn(join(testProgramDir, program), args, { env, stdio });
  c.stdout?.resume();
  c.stderr?.resume();
  children.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function snapshotOf(pid: number): any {
  const r = runTool(['--json', String(pid)]);
  assert.is(r.status, 0, r.stderr);
  const rec = JSON.parse(r.stdout);
  const v = validateRecord(rec);
  assert.ok(v.ok, JSON.stringify(v));
  return rec;
}

/** The debugger scope-snapshot picks on `path`: eu-stack first, then gdb; null when neither is there. */
function debuggerOn(path: string): 'eu-stack' | 'gdb' | null {
  return onPath('eu-stack', path) ? 'eu-stack' : onPath('gdb', path) ? 'gdb' : null;
}

/**
 * attach_threads (built with -g): main waits in pthread_cond_timedwait, 8 threads spin in spin().
 * Whichever debugger gave them, frames name their function and, for the program's own, its source
 * line; without a debugger the record says so and no thread has a backtrace.
 */
function assertThreads(rec: any, pid: number, tool: 'eu-stack' | 'gdb' | null): void {
  const ours = rec.threads.filter((t: any) => t.name === 'attach_threads');
  assert.ok(ours.length >= 9, `9 threads of attach_threads, got ${ours.length}`);
  assert.is(rec.backtrace_tool, tool);
  if (tool === null) {
    assert.is(rec.backtrace_note, 'no eu-stack or gdb on this machine');
    assert.ok(rec.threads.every((t: any) => t.backtrace === null));
    return;
  }
  for (const t of rec.threads) assert.ok(Array.isArray(t.backtrace) && t.backtrace.length > 0, `thread ${t.tid} has no backtrace`);
  const spinning = ours.filter((t: any) => t.backtrace.some((f: string) => /\bspin\b.* at \S*attach_threads\.c:\d+/.test(f)));
  assert.is(spinning.length, 8, JSON.stringify(ours.map((t: any) => t.backtrace)));
  const main = rec.threads.find((t: any) => t.tid === pid);
  assert.ok(
    main.backtrace.some((f: string) => /\bmain\b.* at \S*attach_threads\.c:\d+/.test(f)),
    main.backtrace.join('\n'),
  );
  assert.ok(
    main.backtrace.some((f: string) => /pthread_cond_timedwait/.test(f)),
    main.backtrace.join('\n'),
  );
}

test('an unscoped multithreaded program: every thread with a backtrace naming its function, the file it holds', async () => {
  const held = join(tmp, 'held.txt');
  const fd = openSync(held, 'w');
  const c = start('attach_threads', [], process.env, fd);
  closeSync(fd);
  await sleep(300);
  const rec = snapshotOf(c.pid as number);
  assert.is(rec.type, 'snapshot');
  assert.is(rec.pid, c.pid);
  assert.is(rec.scoped, false);
  assert.is(rec.scope, undefined);
  assertThreads(rec, c.pid as number, debuggerOn(process.env['PATH'] ?? ''));
  assert.ok(
    rec.fds.some((d: any) => d.fd === 3 && d.kind === 'file' && d.target === held),
    JSON.stringify(rec.fds),
  );
  // node hands a child its stdout as one end of a unix socketpair
  assert.ok(
    rec.fds.some((d: any) => d.fd === 1 && d.kind === 'socket' && d.socket?.protocol === 'unix'),
    JSON.stringify(rec.fds),
  );
  assert.ok(rec.mappings.objects.some((o: string) => o.endsWith('/attach_threads')));
  assert.ok(rec.limits.some((l: any) => l.name === 'Max open files' && typeof l.soft === 'number'));
  assert.ok(rec.status.vm_rss > 0 && rec.status.threads >= 9);
  c.kill('SIGKILL');
});

test('a scoped multithreaded program: live config, destinations and counters, secrets redacted unless --show-env', async () => {
  const events = join(tmp, 'events.json');
  const metrics = join(tmp, 'metrics.json');
  const c = start('attach_threads', [], {
    ...noForcedColour(),
    LD_PRELOAD: libscopePath(),
    SCOPE_EVENT_DEST: `file://${events}`,
    SCOPE_METRIC_DEST: `file://${metrics}`,
    MY_API_TOKEN: 'hunter2',
  });
  const pid = c.pid as number;
  await until('the control socket', () =>
    controlRequest(pid, { req: 'status' }, 1000).then(
      (a) => a.ok,
      () => false,
    ),
  );
  const rec = snapshotOf(pid);
  assert.is(rec.scoped, true);
  assert.ok(rec.scope.destinations.length >= 1, JSON.stringify(rec.scope));
  assert.is(rec.scope.config['SCOPE_EVENT_DEST'], `file://${events}`);
  assert.ok(
    rec.scope.destinations.some((d: any) => d.url === `file://${events}` && d.state === 'connected'),
    JSON.stringify(rec.scope.destinations),
  );
  assert.type(rec.scope.counters?.['events'], 'number');
  assert.ok(rec.mappings.objects.some((o: string) => o.endsWith('/libscope.so')));
  assert.is(rec.environment['MY_API_TOKEN'], '[REDACTED]');
  assert.is(rec.environment['SCOPE_EVENT_DEST'], `file://${events}`);
  assertThreads(rec, pid, debuggerOn(process.env['PATH'] ?? ''));
  const shown = JSON.parse(runTool(['--json', '--show-env', String(pid)]).stdout);
  assert.is(shown.environment['MY_API_TOKEN'], 'hunter2');
  c.kill('SIGKILL');
});

test('a listening socket is listed with its address and state', async () => {
  const port = 20000 + (process.pid % 20000);
  const c = start('attach_accept', [String(port)]);
  await new Promise<void>((resolve) => c.stdout?.once('data', () => resolve()));
  const rec = snapshotOf(c.pid as number);
  const sock = rec.fds.find((d: any) => d.socket?.protocol === 'tcp');
  assert.ok(sock, JSON.stringify(rec.fds));
  assert.equal(sock.socket, { protocol: 'tcp', local: `127.0.0.1:${port}`, remote: '0.0.0.0:0', state: 'LISTEN' });
  if (rec.backtrace_tool !== null)
    assert.ok(
      rec.threads[0].backtrace.some((f: string) => /accept/.test(f)),
      rec.threads[0].backtrace.join('\n'),
    );
  else assert.is(rec.threads[0].backtrace, null);
  const text = runTool(['--pretty', String(c.pid)]);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`socket:\\[\\d+\\] tcp 127\\.0\\.0\\.1:${port} LISTEN`));
  c.kill('SIGKILL');
});

// Each debugger alone on PATH is test/apps/debuggers.test.ts (test:apps installs both); neither is
// the test below.
test('without eu-stack or gdb the record says so plainly', async () => {
  const c = start('attach_sleep', []);
  await sleep(200);
  const r = runTool(['--json', String(c.pid)], { env: { ...noForcedColour(), PATH: join(tmp, 'nothing-here') } });
  assert.is(r.status, 0, r.stderr);
  const rec = JSON.parse(r.stdout);
  assert.ok(validateRecord(rec).ok);
  assert.is(rec.backtrace_tool, null);
  assert.is(rec.backtrace_note, 'no eu-stack or gdb on this machine');
  assert.ok(rec.threads.every((t: any) => t.backtrace === null));
  c.kill('SIGKILL');
});

test('a pid that does not exist: status 1, the pid named', () => {
  const r = runTool(['4194001']);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /^scope-snapshot: no process with pid 4194001/);
});

test("another user's process, unprivileged: status 1 and why", async () => {
  const c = start('attach_sleep', []);
  await sleep(200);
  const r = runTool(['--json', String(c.pid)], { user: 'nobody' });
  assert.is(r.status, 1, r.stderr + r.stdout);
  assert.is(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^scope-snapshot: pid ${c.pid} \\(attach_sleep\\) belongs to root; nobody may not inspect it`));
  c.kill('SIGKILL');
});

test('a name several processes have: status 2, the candidates listed', async () => {
  const name = `snp${process.pid}`;
  const exe = join(tmp, name);
  copyFileSync(join(testProgramDir, 'attach_sleep'), exe);
  chmodSync(exe, 0o755);
  const a = spawn(exe, [], { stdio: 'ignore' });
  const b = spawn(exe, [], { stdio: 'ignore' });
  children.push(a, b);
  await sleep(200);
  const r = runTool([name]);
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`2 processes are named "${name}"`));
  assert.match(r.stderr, new RegExp(String(a.pid)));
  assert.match(r.stderr, new RegExp(String(b.pid)));
  a.kill('SIGKILL');
  b.kill('SIGKILL');
});

test('usage errors: status 2', () => {
  for (const [args, says] of [
    [[], /which process\?/],
    [['1', '2'], /one process at a time/],
    [['--crashes', '1'], /--crashes takes no PID/],
    [['--watch', 'name'], /--watch takes a PID/],
  ] as const) {
    const r = runTool([...args]);
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, says);
  }
});

test.after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
