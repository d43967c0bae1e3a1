// scope-supervise follows a program's system calls from outside (libscope/supervise/tracer.h): a
// static executable, which libscope cannot be loaded into, is run under it and every watched call
// must be seen with its arguments and its result, in the right process and thread, with the
// program's own behaviour and exit status unchanged. For now it writes what it saw as JSON lines
// (--calls); the records libscope makes from them come next. Names are also given made absolute
// (against the working directory or a directory descriptor, read while the thread is stopped in
// the call), and sockets' addresses after connect, bind and accept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASAN_RUNTIME, LIB, SANITIZED, evts, isStart, prog, session, traced } from './lib.js';
import type { Metric } from './lib.js';
import { startDnsStub } from './servers.js';

const supervisor = join(prog('static_hello'), '../../scope-supervise');
const tree = prog('static_tree');
const hello = prog('static_hello');
const dirs: string[] = [];
const running: ChildProcess[] = [];
test.after(() => {
  // a failed stop test leaves the shell stopped and its supervisor waiting: end both
  for (const ch of running) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

interface Seen {
  notice?: string;
  pid: number;
  tid?: number;
  call?: string;
  ret?: number;
  path?: string;
  path2?: string;
  abs?: string;
  abs2?: string;
  local?: string;
  peer?: string;
  sent?: number[];
  arg0?: number;
  event?: string;
  other?: number;
}

/** The supervisor's environment for --lib: its helpers dlopen LIB, which, sanitized, needs its
 * runtime loaded first. */
function libEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const e = traced({ ...env });
  if (SANITIZED) e['LD_PRELOAD'] = ASAN_RUNTIME;
  else delete e['LD_PRELOAD'];
  return e;
}

/** args under the supervisor ('DIR' in them: a fresh directory), with --lib when asked; without
 * blocking, so a test's own server answers meanwhile; killed after 30 s. */
async function supervised(args: string[], opts: { env?: NodeJS.ProcessEnv; lib?: boolean; preload?: string } = {}) {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'scope-supervise-')));
  dirs.push(dir);
  const calls = join(dir, 'calls.json');
  const ch = spawn(supervisor, [...(opts.lib ? ['--lib', LIB] : []), ...(opts.preload ? ['--preload', opts.preload] : []), '--calls', calls, '--', ...args.map((a) => a.replace('DIR', dir))], {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(ch);
  let stdout = '';
  let stderr = '';
  ch.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  ch.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => ch.kill('SIGKILL'), 30_000);
  const status = await new Promise<number | null>((res) => ch.once('close', (code) => res(code)));
  clearTimeout(timer);
  const seen: Seen[] = existsSync(calls)
    ? readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Seen)
    : [];
  return { r: { status, stdout, stderr }, seen, dir };
}

test('the static programs and the supervisor were built', () => {
  assert.ok(
    existsSync(tree) && existsSync(hello) && existsSync(prog('static_exec')) && existsSync(prog('static_dns')),
    'static_tree/static_hello/static_exec/static_dns not built: no static libc (libc6-dev)',
  );
  assert.ok(existsSync(supervisor), `${supervisor} not built`);
});

test("a static program's calls, threads, children and signals, with its status", async () => {
  const server = createServer((c) => c.end());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const { r, seen, dir } = await supervised([tree, 'DIR', hello, String(port)]);
  await new Promise((res) => server.close(res));
  assert.is(r.status, 5, r.stderr);
  assert.is(r.stdout, 'static hello\nhandled SIGUSR1\n', "the program ran as it does alone (its child's output, the signal handled)");
  const main = seen[0]!;
  assert.equal([main.event, main.other], ['exec', 0], "the first thing seen is the program's own exec");
  const pid = main.pid;
  const call = (name: string, path?: string) => seen.find((s) => s.call === name && (path === undefined || s.path === join(dir, path)));
  const made = call('openat', 'made');
  assert.ok(made && made.pid === pid && made.tid === pid && made.ret! >= 0, `openat of made: ${JSON.stringify(made)}`);
  assert.ok(
    seen.some((s) => s.call === 'close' && s.pid === pid && s.arg0 === made!.ret && s.ret === 0),
    'its close, on the descriptor the open returned',
  );
  assert.is(call('openat', 'missing')?.ret, -2, 'a missing file: -ENOENT');
  const thread = seen.find((s) => s.event === 'thread' && s.pid === pid);
  assert.ok(thread, 'the thread is seen made');
  const byThread = call('openat', 'by-thread');
  assert.ok(byThread && byThread.pid === pid && byThread.tid === thread!.other && byThread.tid !== pid, `the thread's open is its own: ${JSON.stringify(byThread)}`);
  const fork = seen.find((s) => s.event === 'fork' && s.pid === pid);
  assert.ok(fork, 'the child is seen forked');
  const child = fork!.other!;
  assert.ok(call('openat', 'by-child')?.pid === child, "the child's open is the child's");
  assert.ok(
    seen.some((s) => s.event === 'exec' && s.pid === child),
    "the child's exec of static_hello",
  );
  assert.ok(
    seen.some((s) => s.event === 'exit' && s.pid === child && s.other === 0),
    "the child's exit, status 0",
  );
  const ren = call('rename', 'made') ?? call('renameat', 'made') ?? call('renameat2', 'made');
  assert.ok(ren && ren.path2 === join(dir, 'renamed') && ren.ret === 0, `the rename with both names: ${JSON.stringify(ren)}`);
  assert.is((call('unlink', 'renamed') ?? call('unlinkat', 'renamed'))?.ret, 0, 'the unlink');
  assert.is((call('mkdir', 'subdir') ?? call('mkdirat', 'subdir'))?.ret, 0, 'the mkdir');
  const sock = seen.find((s) => s.call === 'socket' && s.pid === pid);
  assert.ok(sock && sock.ret! >= 0, 'the socket');
  assert.ok(
    seen.some((s) => s.call === 'connect' && s.arg0 === sock!.ret && s.ret === -111),
    'the refused connect: -ECONNREFUSED',
  );
  const conn = seen.find((s) => s.call === 'connect' && s.ret === 0);
  assert.ok(conn, "the connect to the test's server");
  assert.is(conn!.peer, `127.0.0.1:${port}`, 'its peer, from the socket itself');
  assert.match(String(conn!.local), /^127\.0\.0\.1:\d+$/, 'and its own address');
  const rel = call('openat', 'relative');
  assert.ok(rel === undefined, 'a relative name is given as the program gave it');
  const relative = seen.find((s) => s.call === 'openat' && s.path === 'relative');
  assert.is(relative?.abs, join(dir, 'relative'), 'and made absolute against its working directory');
  const atDir = seen.find((s) => s.call === 'openat' && s.path === 'at-dirfd');
  assert.is(atDir?.abs, join(dir, 'subdir', 'at-dirfd'), 'a name relative to a directory descriptor, against that directory');
  assert.equal(seen.at(-1), { pid, event: 'exit', other: 5 << 8 }, "the program's exit is the last thing seen");
});

test('a program killed by a signal: the status a shell gives it', async () => {
  const { r, seen } = await supervised([tree, 'DIR', hello, '0', 'kill']);
  assert.is(r.status, 128 + 15, r.stderr);
  assert.is(seen.at(-1)?.event, 'exit');
  assert.is(seen.at(-1)?.other, 15, 'the wait status says SIGTERM');
});

test('a thread other than the first execs: the new program keeps the process id', async () => {
  const { r, seen } = await supervised([prog('static_exec'), 'thread', hello]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'static hello\n');
  const pid = seen[0]!.pid;
  const thread = seen.find((s) => s.event === 'thread');
  assert.ok(thread, 'the second thread is seen made');
  assert.equal(seen.filter((s) => s.event === 'exec').at(-1), { pid, event: 'exec', other: thread!.other }, 'the exec, by that thread, in the same process');
  assert.equal(seen.at(-1), { pid, event: 'exit', other: 0 });
});

test('a signal sent to the supervisor alone reaches the program', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'scope-supervise-')));
  dirs.push(dir);
  const ch = spawn(supervisor, ['--calls', join(dir, 'calls.json'), '--', prog('static_exec'), 'wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(ch);
  let out = '';
  const waiting = new Promise<void>((res) =>
    ch.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('waiting')) res();
    }),
  );
  const ended = new Promise<number | null>((res) => ch.once('close', (code) => res(code)));
  await waiting;
  ch.kill('SIGTERM');
  assert.is(await ended, 9, "the program's handler ran and chose its status");
  assert.is(out, 'waiting\nterm\n');
});

test('with --lib, libscope reports each process of the static tree as its own', async () => {
  const server = createServer((c) => c.end());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const s = session({ SCOPE_EVENT_MAXEPS: '0', SCOPE_EVENT_NET: 'true', SCOPE_METRIC_FORMAT: 'ndjson' });
  dirs.push(s.dir);
  const { r, seen, dir } = await supervised([tree, 'DIR', hello, String(port)], { env: libEnv(s.env), lib: true });
  await new Promise((res) => server.close(res));
  assert.is(r.status, 5, r.stderr);
  assert.is(r.stderr, '', 'nothing said: every process had its reporting');
  const pid = seen[0]!.pid;
  const child = seen.find((x) => x.event === 'fork')!.other!;
  const events = s.events();
  const starts = events.filter(isStart).map((e) => e.info.process);
  assert.equal(
    starts.filter((p) => p.pid === pid).map((p) => p.procname),
    ['static_tree'],
    'the program: one process-start record, its own',
  );
  assert.equal(
    starts.filter((p) => p.pid === child).map((p) => p.procname),
    ['static_tree', 'static_hello'],
    'its child: one before its exec, one after',
  );
  assert.ok(
    starts.every((p) => p.ppid === (p.pid === pid ? Number(p.ppid) : pid)),
    "the child's parent is the program",
  );
  const fs = (source: string, file: string) => evts(events, source).filter((e) => e.body.data.file === join(dir, file));
  const made = fs('fs.open', 'made');
  assert.is(made.length, 1, 'fs.open of made');
  assert.equal([made[0]!.body.pid, made[0]!.body.proc, made[0]!.body.data.op, made[0]!.body.data.fd], [pid, 'static_tree', 'openat', 3]);
  const closed = fs('fs.close', 'made')[0];
  assert.ok(closed, 'its fs.close');
  assert.not.ok('file_write_bytes' in closed!.body.data, 'no byte counts: writes are not seen from outside, and a 0 would be wrong');
  assert.is(fs('fs.error', 'missing')[0]?.body.data.errno_name, 'ENOENT', 'the failed open');
  assert.is(fs('fs.rename', 'made')[0]?.body.data.new_file, join(dir, 'renamed'), 'the rename');
  assert.ok(fs('fs.delete', 'renamed').length === 1 && fs('fs.mkdir', 'subdir').length === 1, 'the delete and the mkdir');
  assert.ok(fs('fs.open', 'relative').length === 1 && fs('fs.open', 'subdir/at-dirfd').length === 1, 'relative names, made absolute');
  const byChild = fs('fs.open', 'by-child')[0];
  assert.equal([byChild?.body.pid, byChild?.body.proc], [child, 'static_tree'], "the child's open, under the name it had then");
  assert.ok(fs('fs.open', 'by-thread')[0]?.body.pid === pid, "the thread's open is the program's");
  const open = evts(events, 'net.open').find((e) => e.body.data.net_peer_port === port);
  assert.ok(open, "net.open of the connection to the test's server");
  assert.is(open!.body.data.net_host_ip, '127.0.0.1', 'with its own end, read from the socket');
  assert.ok(Number(open!.body.data.net_host_port) > 0);
  const refused = evts(events, 'net.error').find((e) => e.body.data.errno_name === 'ECONNREFUSED');
  assert.ok(refused && refused.body.pid === pid, 'the refused connect');
});

test('a static program resolving a name itself: its queries are seen as it sends them, as dns.req, and its proc.* at its end', async () => {
  const ns = await startDnsStub({ aaaa: [] });
  // SCOPE_DNS_PORTS: the helper's libscope reads this server's port as a name server's
  const s = session({ SCOPE_EVENT_MAXEPS: '0', SCOPE_METRIC_FORMAT: 'ndjson', SCOPE_DNS_PORTS: String(ns.port) });
  dirs.push(s.dir);
  const { r, seen } = await supervised([prog('static_dns'), String(ns.port), 'static.example.test'], { env: libEnv(s.env), lib: true });
  await ns.close();
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.split('\n').filter(Boolean).sort().join(','), 'answers 0,answers 1,answers 1', 'the program got its answers: its calls ran as they do alone');
  assert.equal(ns.queries.map((q) => `${q.name} ${q.typeName}`).sort(), ['static.example.test A', 'static.example.test A', 'static.example.test AAAA']);
  const pid = seen[0]!.pid;
  const write = seen.find((x) => x.call === 'write');
  assert.ok(write && write.pid === pid && write.sent?.length === 1 && write.sent[0] === write.ret, `the query written: ${JSON.stringify(write)}`);
  const mm = seen.find((x) => x.call === 'sendmmsg');
  assert.ok(mm && mm.ret === 2 && mm.sent?.length === 2, `both queries of the sendmmsg: ${JSON.stringify(mm)}`);
  const reqs = evts(s.events(), 'dns.req');
  assert.equal(reqs.map((e) => `${e.body.pid} ${e.body.data.domain} ${e.body.data.query_type} ${e.body.data.op}`).sort(), [
    `${pid} static.example.test A sendmmsg`,
    `${pid} static.example.test A write`,
    `${pid} static.example.test AAAA sendmmsg`,
  ]);
  assert.ok(
    reqs.every((e) => e.body.data.net_peer_port === ns.port),
    'each with the server it went to',
  );
  // the process is held at its exit until its helper has read it: the last state of a process that is gone
  const metrics = (s.metrics() as Metric[]).filter((m) => m.body.pid === pid).map((m) => m.body._metric);
  for (const name of ['proc.cpu', 'proc.mem', 'proc.thread', 'proc.fd']) assert.ok(metrics.includes(name), `${name} at its end: ${metrics.join(' ')}`);
});

test("a descriptor number closed by one thread and taken at once by another's socket: every connection recorded, none ended by the other's close", async () => {
  const srv = createServer((c) => c.destroy());
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as AddressInfo).port;
  const s = session({ SCOPE_EVENT_MAXEPS: '0', SCOPE_EVENT_NET: 'true' });
  dirs.push(s.dir);
  const { r } = await supervised([prog('static_fdrace'), String(port), '400'], { env: libEnv(s.env), lib: true });
  await new Promise((res) => srv.close(res));
  assert.is(r.status, 0, r.stderr);
  const connected = Number(/^connected (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(connected > 700, `the program connected: ${r.stdout}`);
  const opens = evts(s.events(), 'net.open').filter((e) => e.body.data.net_peer_port === port);
  assert.is(opens.length, connected, 'a net.open for each connection (a close reported after the socket that reused its number ends that socket instead)');
  const closes = evts(s.events(), 'net.close').filter((e) => e.body.data.net_peer_port === port);
  assert.is(closes.length, connected, 'and a net.close');
});

for (const [variant, says] of [
  ['old', 'built with Go before 1.18, whose function table and calls are laid out otherwise'],
  ['bad', 'its Go function table (.gopclntab) could not be read'],
  ['prologue', 'its crypto/tls functions do not start as this version knows (a Go version or build it does not handle)'],
] as const) {
  test(`a Go function table it cannot use (${variant}): the program runs as it would, with a notice saying why its TLS is not seen`, async () => {
    const s = session({ SCOPE_EVENT_MAXEPS: '0' });
    dirs.push(s.dir);
    const exe = prog(`static_fakego_${variant}`);
    const { r, seen } = await supervised([exe], { env: libEnv(s.env), lib: true });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'fakego ran 0\n', 'untouched: no breakpoint was set');
    assert.equal(
      seen.filter((x) => 'notice' in x).map((x) => (x as { notice: string }).notice),
      [says],
    );
    const text = JSON.stringify(s.events());
    assert.ok(text.includes(`${exe}: its TLS plaintext is not seen: ${says}`), `the notice in the session: ${text.slice(0, 600)}`);
  });
}

test('--preload: a dynamic program the static one runs loads libscope and reports for itself, once', async () => {
  const s = session({ SCOPE_EVENT_MAXEPS: '0' });
  dirs.push(s.dir);
  const preload = SANITIZED ? `${ASAN_RUNTIME}:${LIB}` : LIB;
  const ns = await startDnsStub();
  const { r, seen } = await supervised([prog('static_dns'), String(ns.port), 'x.test', '/bin/cat', '/etc/hostname'], { env: libEnv(s.env), lib: true, preload });
  await ns.close();
  assert.is(r.status, 0, r.stderr);
  const cat = seen.filter((x) => x.event === 'exec').at(-1)!.pid;
  assert.ok(cat !== seen[0]!.pid, 'cat ran in a child');
  assert.not.ok(
    seen.some((x) => x.pid === cat && x.call),
    'no call of cat is reported from outside',
  );
  const events = s.events();
  const opens = evts(events, 'fs.open').filter((e) => e.body.data.file === '/etc/hostname');
  assert.equal(
    opens.map((e) => [e.body.pid, e.body.proc, e.body.data.op]),
    [[cat, 'cat', 'open']],
    "one fs.open, by cat's own libscope (open, not the system call openat)",
  );
  const closed = evts(events, 'fs.close').find((e) => e.body.data.file === '/etc/hostname');
  assert.ok(Number(closed?.body.data.file_read_bytes) > 0, 'with its bytes read: seen from inside');
  assert.equal(
    events
      .filter(isStart)
      .filter((e) => e.info.process.pid === cat)
      .map((e) => e.info.process.procname),
    ['static_dns', 'cat'],
    'the child: its start as static_dns (from outside), then as cat (from inside)',
  );
});

test("a helper reports with its process's credentials, not the supervisor's", () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (the supervisor) and the user nobody (65534)');
  // a root-only directory: a process that gave root up and names a file there gets nothing written
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'scope-supervise-')));
  dirs.push(dir);
  const victim = join(dir, 'victim.json');
  const env = libEnv({ ...process.env, SCOPE_EVENT_DEST: `file://${join(dir, 'root-events.json')}` });
  const r = spawnSync(supervisor, ['--lib', LIB, '--', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env', `SCOPE_EVENT_DEST=file://${victim}`, hello], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'static hello\n');
  assert.not.ok(existsSync(victim), 'the helper of the image running as nobody could not create a file in a root-only directory');
  assert.ok(readFileSync(join(dir, 'root-events.json'), 'utf8').includes('"procname":"setpriv"'), 'while setpriv, still root, was reported where its settings said');
});

test('a static image after a change of user reports to the root-only session it was handed', async () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (to become nobody, 65534)');
  const s = session({ SCOPE_EVENT_MAXEPS: '0' });
  dirs.push(s.dir);
  assert.is(statSync(s.dir).mode & 0o077, 0, "the session directory is root's alone");
  const preload = SANITIZED ? `${ASAN_RUNTIME}:${LIB}` : LIB;
  // setpriv (dynamic) loads libscope, which pins the session's files before it gives root up and
  // hands them to the image it execs; that image, static, is reported by a helper running as nobody
  const { r, seen } = await supervised(['/bin/sh', '-c', `setpriv --reuid=65534 --regid=65534 --clear-groups ${hello}`], { env: libEnv(s.env), lib: true, preload });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'static hello\n');
  const pid = seen.filter((x) => x.event === 'exec').at(-1)!.pid;
  const starts = s
    .events()
    .filter(isStart)
    .map((e) => e.info.process)
    .filter((p) => p.pid === pid);
  assert.equal(
    starts.map((p) => [p.procname, p.uid]),
    [
      ['setpriv', 0],
      ['static_hello', 65534],
    ],
    'static_hello, as nobody, reported to the root-only session',
  );
});

test('a program that cannot be run: 127 and 126, with the reason', async () => {
  const missing = await supervised(['no-such-command-anywhere']);
  assert.is(missing.r.status, 127);
  assert.match(missing.r.stderr, /no-such-command-anywhere: No such file or directory/);
  const notExec = await supervised(['/dev/null']);
  assert.is(notExec.r.status, 126);
  assert.match(notExec.r.stderr, /\/dev\/null: Permission denied/);
});

test('a stop stays a stop until SIGCONT, and the program then goes on', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'scope-supervise-')));
  dirs.push(dir);
  const calls = join(dir, 'calls.json');
  const ch = spawn(supervisor, ['--calls', calls, '--', '/bin/sh', '-c', 'kill -STOP $$; echo went on; exit 4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(ch);
  let out = '';
  ch.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const ended = new Promise<number | null>((resolve) => ch.once('close', (code) => resolve(code)));
  const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
  let pid = 0;
  for (let i = 0; i < 100 && !pid; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (existsSync(calls)) pid = (JSON.parse(readFileSync(calls, 'utf8').split('\n')[0] || '{}') as Seen).pid ?? 0;
  }
  assert.ok(pid > 0, "the shell was exec'd");
  let stopped = false;
  for (let i = 0; i < 100 && !stopped; i++) {
    await new Promise((r) => setTimeout(r, 20));
    stopped = ['t', 'T'].includes(state(pid)!);
  }
  assert.ok(stopped, 'the shell stopped itself');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(['t', 'T'].includes(state(pid)!), 'and stays stopped');
  assert.is(out, '', 'nothing ran past the stop');
  process.kill(pid, 'SIGCONT');
  assert.is(await ended, 4);
  assert.is(out, 'went on\n');
});

test.run();
