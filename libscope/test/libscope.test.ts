// libscope.so under real programs: each test runs a command with LD_PRELOAD and a fresh session
// directory, then asserts on the records the library wrote (schemas/README.md).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evts, isEvt, isMetric, isStart, prog, run, session } from './lib.js';
import { tempDir } from '@scope/core/testing';

const FS_OPS = ['open', 'open64', 'openat', 'openat64', '__open_2', '__open64_2', '__openat_2', '__openat64_2', 'creat', 'creat64', 'fopen', 'fopen64'];

test('cat /etc/hostname: process-start first, fs.open/fs.close with bytes, stdout event, proc metrics', () => {
  const s = session();
  const r = run('cat', ['/etc/hostname'], s.env);
  assert.is(r.status, 0);
  const host = readFileSync('/etc/hostname', 'utf8');
  assert.is(r.stdout.toString(), host);
  const events = s.events();
  const first = events[0];
  assert.ok(isStart(first), 'the first line is the process-start record');
  assert.is(first.info.process.procname, 'cat');
  assert.is(first.info.process.cmd, 'cat /etc/hostname');
  assert.is(first.info.process.libscopever, '0.1.0');
  assert.is(first.info.configuration.current.SCOPE_EVENT_DEST, s.env.SCOPE_EVENT_DEST);
  assert.is(first.info.configuration.current.SCOPE_SUMMARY_PERIOD, '10');
  // what a filter needs to know of the process: its executable, container and namespaces
  const proc = first.info.process;
  assert.is(proc.pid, r.pid);
  assert.is(proc.ppid, process.pid);
  assert.is(proc.exe, realpathSync('/bin/cat'));
  assert.is(proc.mntns, statSync('/proc/self/ns/mnt').ino, 'the mount namespace it shares with this test');
  assert.is(proc.pidns, statSync('/proc/self/ns/pid').ino);
  const cgroup = readFileSync('/proc/self/cgroup', 'utf8');
  assert.is(proc.cgroup, cgroup.split('\n')[0]);
  assert.is(proc.containerid, /(?<![A-Za-z0-9])[0-9a-f]{64}(?![A-Za-z0-9])/.exec(cgroup)?.[0] ?? '');

  const open = evts(events, 'fs.open').find((e) => e.body.data.file === '/etc/hostname');
  const close = evts(events, 'fs.close').find((e) => e.body.data.file === '/etc/hostname');
  assert.ok(open && close, 'fs.open and fs.close for /etc/hostname');
  assert.ok(FS_OPS.includes(String(open.body.data.op)), `open op ${String(open.body.data.op)}`);
  assert.ok(['close', 'fclose'].includes(String(close.body.data.op)));
  assert.is(open._channel, close._channel);
  assert.match(open._channel, /^[1-9][0-9]*$/);
  assert.is(close.body.data.file_read_bytes, statSync('/etc/hostname').size);
  assert.ok(Number(close.body.data.file_read_ops) >= 1);
  assert.is(close.body.data.file_write_bytes, 0);
  assert.is(typeof close.body.data.duration, 'number');
  assert.is(open.body.sourcetype, 'fs');
  assert.is(open.body.proc, 'cat');
  assert.is(open.body.pid, first.info.process.pid);
  for (const e of evts(events)) {
    assert.is(e.body.uid, process.getuid?.(), `${e.body.source}: uid`);
    assert.is(e.body.gid, process.getgid?.(), `${e.body.source}: gid`);
  }
  assert.is(open.id, `${open.body.host}-cat-cat /etc/hostname`);
  assert.ok(Number.isFinite(open.body._time) && open.body._time > 1.6e9);
  for (const k of ['fd', 'proc_uid', 'proc_gid', 'file_perms', 'file_owner', 'file_group']) assert.is(typeof open.body.data[k], 'number', k);
  assert.is(typeof open.body.data.proc_cgroup, 'string');

  const out = evts(events, 'stdout');
  assert.is(out.map((e) => e.body.data.message).join(''), host);
  assert.is(out[0]?.body.sourcetype, 'console');

  const metrics = s.metrics().filter(isMetric);
  const units: Record<string, [string, string]> = {
    'proc.start': ['counter', 'process'],
    'proc.cpu': ['counter', 'microsecond'],
    'proc.mem': ['gauge', 'kibibyte'],
    'proc.thread': ['gauge', 'thread'],
    'proc.fd': ['gauge', 'file'],
  };
  for (const [name, [type, unit]] of Object.entries(units)) {
    const m = metrics.find((x) => x.body._metric === name);
    assert.ok(m, `${name} present`);
    assert.is(m.body._metric_type, type);
    assert.is(m.body.unit, unit);
    assert.is(m.body.proc, 'cat');
    assert.is(typeof m.body._value, 'number');
  }
  // args from the default verbosity 4, as AppScope's consumers expect it
  const start = metrics.find((m) => m.body._metric === 'proc.start');
  assert.is(start?.body.args, 'cat /etc/hostname');
  assert.is(start?.body.uid, process.getuid?.());
  rmSync(s.dir, { recursive: true });
});

test('a thread with the smallest stack still starts: libscope keeps its thread-local data tiny', () => {
  const s = session();
  const r = run(prog('smallstack'), [], s.env);
  assert.is(r.stderr.toString(), '');
  assert.is(r.stdout.toString(), 'ok\n');
  assert.is(r.status, 0);
});

test('statsd metric format: prefix, type letters, dimensions, tags and the line length limit', () => {
  const s = session({ SCOPE_METRIC_FORMAT: 'statsd', SCOPE_STATSD_PREFIX: 'app.', SCOPE_TAG_team: 'core' });
  assert.is(run('cat', ['/etc/hostname'], s.env).status, 0);
  const lines = readFileSync(join(s.dir, 'metrics.json'), 'utf8').trimEnd().split('\n');
  const cpu = lines.find((l) => l.startsWith('app.proc.cpu:'));
  assert.ok(cpu, 'proc.cpu line');
  assert.match(cpu, /^app\.proc\.cpu:\d+\|c\|#proc:cat,pid:\d+,host:[^,]+,unit:microsecond,team:core$/);
  assert.match(lines.find((l) => l.startsWith('app.proc.mem:')) ?? '', /^app\.proc\.mem:\d+\|g\|#/);
  const short = session({ SCOPE_METRIC_FORMAT: 'statsd', SCOPE_STATSD_MAXLEN: '48' });
  assert.is(run('cat', ['/etc/hostname'], short.env).status, 0);
  const shortLines = readFileSync(join(short.dir, 'metrics.json'), 'utf8').trimEnd().split('\n');
  assert.ok(shortLines.length >= 5);
  for (const l of shortLines) assert.ok(l.length <= 48, `line within SCOPE_STATSD_MAXLEN: ${l}`);
  const tagged = s.events().filter(isEvt);
  assert.ok(tagged.length > 0 && tagged.every((e) => e.body.team === 'core'), 'tags are body keys of events');
  rmSync(s.dir, { recursive: true });
  rmSync(short.dir, { recursive: true });
});

test('config file from SCOPE_CONF_PATH, overridden by the environment; SCOPE_EVENT_FS=false', () => {
  const s = session();
  const conf = join(s.dir, 'scope.env');
  writeFileSync(conf, `# comment\nSCOPE_EVENT_DEST=file://${s.dir}/events.json\nSCOPE_SUMMARY_PERIOD=7\nSCOPE_EVENT_FS=false\nOTHER=ignored\n`);
  const env: NodeJS.ProcessEnv = { ...s.env, SCOPE_CONF_PATH: conf, SCOPE_SUMMARY_PERIOD: '3' };
  delete env.SCOPE_EVENT_DEST;
  assert.is(run('cat', ['/etc/hostname'], env).status, 0);
  const events = s.events();
  const start = events[0];
  assert.ok(isStart(start));
  assert.is(start.info.configuration.current.SCOPE_SUMMARY_PERIOD, '3');
  assert.is(start.info.configuration.current.SCOPE_EVENT_FS, 'false');
  assert.not.ok('OTHER' in start.info.configuration.current);
  assert.is(evts(events, 'fs.open').length, 0, 'fs events off');
  assert.is(evts(events, 'stdout').length, 1, 'console events still on');
  rmSync(s.dir, { recursive: true });
});

test('binary console output is one "-- binary data ignored --"; a long write comes back whole', () => {
  const s = session();
  const r = run(prog('badutf8'), [], s.env);
  assert.is(r.status, 0);
  const out = evts(s.events(), 'stdout').map((e) => String(e.body.data.message));
  // the three writes with invalid UTF-8 or control bytes, each replaced
  assert.is(out.filter((m) => m === '-- binary data ignored --').length, 3);
  assert.ok(out.includes('good \u20ac \u{1F600} done\n'));
  // the last write (valid UTF-8, ~3000 bytes, several records) is one event again
  const big = r.stdout.toString('utf8').split('\n').at(-2) ?? '';
  assert.ok(out.includes(`${big}\n`), 'the long write whole');
  assert.ok(!out.some((m) => m.includes('\ufffd')));
  rmSync(s.dir, { recursive: true });
});

test('SCOPE_ALLOW_BINARY_CONSOLE keeps binary output, escaped into valid JSON', () => {
  const s = session({ SCOPE_ALLOW_BINARY_CONSOLE: 'true' });
  const r = run(prog('badutf8'), [], s.env);
  assert.is(r.status, 0);
  const out = evts(s.events(), 'stdout').map((e) => String(e.body.data.message));
  assert.ok(out.some((m) => m.includes(' bytes\n') && m.startsWith('bad ')));
  assert.ok(out.some((m) => m.includes('ctl \u0001\u001b[0m quote " back \\\n')));
  assert.ok(!out.includes('-- binary data ignored --'));
  rmSync(s.dir, { recursive: true });
});

test('a reader sees records while the command still runs', async () => {
  const s = session();
  // its own process group: sh's sleep goes with it, and writes nothing into the directory removed below
  const child = spawn('sh', ['-c', 'cat /etc/hostname >/dev/null; sleep 5'], { env: s.env, stdio: 'ignore', detached: true });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const t0 = Date.now();
  let seen = false;
  while (!seen && Date.now() - t0 < 4000) {
    await new Promise((res) => setTimeout(res, 20));
    seen = existsSync(join(s.dir, 'events.json')) && evts(s.events(), 'fs.close').some((e) => e.body.data.file === '/etc/hostname');
  }
  assert.ok(seen, 'fs.close for /etc/hostname written while sh sleeps');
  assert.not.ok(exited, 'the command was still running');
  const gone = new Promise((res) => child.on('exit', res));
  process.kill(-(child.pid as number), 'SIGKILL');
  await gone;
  rmSync(s.dir, { recursive: true });
});

// Not under the sanitized run (npm run test:sanitize): its threads malloc while another forks, and
// gcc 12's ASan allocator is not locked around fork, so a child can hang at its first malloc.
test('forkthreads: same output and status as unscoped; children report under their own pid; byte counts exact', () => {
  const s = session();
  const plainDir = tempDir('libscope-plain-');
  const plain = run(prog('forkthreads'), [plainDir], undefined);
  const scoped = run(prog('forkthreads'), [s.dir], s.env);
  assert.is(plain.status, 3);
  assert.is(scoped.status, plain.status);
  assert.is(scoped.stdout.toString(), plain.stdout.toString());
  const events = s.events();
  const starts = events.filter(isStart);
  assert.is(starts.length, 101, 'one process-start per process');
  const parent = scoped.pid;
  const startPids = new Set(starts.map((x) => x.info.process.pid));
  assert.ok(startPids.has(parent));
  // processes share the file, but each one's first line in it is its own process-start
  const firstOf = new Map<number, unknown>();
  for (const r of events) {
    const pid = isStart(r) ? r.info.process.pid : isEvt(r) ? r.body.pid : -1;
    if (!firstOf.has(pid)) firstOf.set(pid, r);
  }
  for (const [pid, r] of firstOf) assert.ok(isStart(r), `first record of pid ${pid} is its process-start`);
  const closes = evts(events, 'fs.close');
  let children = 0;
  let threads = 0;
  for (const c of closes) {
    const name = String(c.body.data.file).split('/').at(-1) ?? '';
    const [kind, n] = name.split('-');
    if (kind === 'child') {
      children++;
      assert.is.not(c.body.pid, parent, `${name} is reported by the child`);
      assert.ok(startPids.has(c.body.pid), `${name}: its process wrote a process-start`);
      assert.is(c.body.data.file_write_bytes, Number(n) + 1, name);
      assert.is(c.body.data.file_write_ops, 1);
    } else if (kind === 'thread') {
      threads++;
      const t = Number(n);
      assert.is(c.body.pid, parent);
      assert.is(c.body.data.file_write_bytes, (t + 1) * 100 * (t + 1) * 10, name);
      assert.is(c.body.data.op, t % 2 ? 'fclose' : 'close');
    }
  }
  assert.is(children, 100);
  assert.is(threads, 8);
  const childPids = new Set(closes.filter((c) => String(c.body.data.file).includes('/child-')).map((c) => c.body.pid));
  assert.is(childPids.size, 100, 'each child has its own pid');
  rmSync(s.dir, { recursive: true });
  rmSync(plainDir, { recursive: true });
});

for (const mode of ['std', 'all']) {
  test(`the app closing ${mode === 'std' ? 'fds 1 and 2' : 'fds 0..1023'}: records and final metrics still written`, () => {
    const s = session({ SCOPE_SUMMARY_PERIOD: '1' });
    assert.is(run(prog('closefds'), [mode, s.dir], s.env).status, 0);
    const events = s.events();
    assert.ok(isStart(events[0]));
    const closes = evts(events, 'fs.close').filter((e) => String(e.body.data.file).includes('/after-close-'));
    assert.is(closes.length, 3);
    for (const c of closes) assert.is(c.body.data.file_write_bytes, 13);
    assert.is(evts(events, 'stdout').length, 0, 'a file that took fd 1 is not the console');
    const names = new Set(
      s
        .metrics()
        .filter(isMetric)
        .map((m) => m.body._metric),
    );
    for (const n of ['proc.start', 'proc.cpu', 'proc.mem', 'proc.thread', 'proc.fd']) assert.ok(names.has(n), n);
    rmSync(s.dir, { recursive: true });
  });
}

test('sh -c: sh, cat and ls each report under their own pid and name', () => {
  const s = session();
  const r = run('sh', ['-c', 'cat /etc/hostname; ls / >/dev/null'], s.env);
  assert.is(r.status, 0);
  const events = s.events();
  const starts = events.filter(isStart);
  const byProc = new Map(starts.map((x) => [x.info.process.procname, x.info.process.pid]));
  for (const p of ['sh', 'cat', 'ls']) assert.ok(byProc.has(p), `${p} wrote a process-start`);
  assert.is(new Set(byProc.values()).size, 3, 'three pids');
  const catOpen = evts(events, 'fs.open').find((e) => e.body.data.file === '/etc/hostname');
  assert.is(catOpen?.body.proc, 'cat');
  assert.is(catOpen?.body.pid, byProc.get('cat'));
  assert.ok(evts(events, 'stdout').some((e) => e.body.proc === 'cat'));
  rmSync(s.dir, { recursive: true });
});

test('execve with an empty environment keeps the new image scoped', () => {
  const s = session();
  const r = run(prog('execempty'), ['/bin/cat', '/etc/hostname'], s.env);
  assert.is(r.status, 0);
  const events = s.events();
  const starts = events.filter(isStart);
  assert.equal(
    starts.map((x) => x.info.process.procname),
    ['execempty', 'cat'],
  );
  assert.is(starts[1]?.info.process.pid, starts[0]?.info.process.pid, 'exec keeps the pid');
  const close = evts(events, 'fs.close').find((e) => e.body.data.file === '/etc/hostname');
  assert.is(close?.body.proc, 'cat');
  rmSync(s.dir, { recursive: true });
});

test('execvp after the app removed LD_PRELOAD from its environment keeps the new image scoped; SCOPE_EXECVE=false lets it go', () => {
  const s = session();
  const r = run(prog('execvpunset'), ['cat', '/etc/hostname'], s.env);
  assert.is(r.status, 0);
  assert.is(r.stdout.toString(), readFileSync('/etc/hostname', 'utf8'));
  assert.equal(
    s
      .events()
      .filter(isStart)
      .map((x) => x.info.process.procname),
    ['execvpunset', 'cat'],
  );
  const off = session({ SCOPE_EXECVE: 'false' });
  assert.is(run(prog('execvpunset'), ['cat', '/etc/hostname'], off.env).status, 0);
  assert.equal(
    off
      .events()
      .filter(isStart)
      .map((x) => x.info.process.procname),
    ['execvpunset'],
  );
  rmSync(s.dir, { recursive: true });
  rmSync(off.dir, { recursive: true });
});

test('a full queue drops and counts: output unchanged, a notice record and a log line', () => {
  const s = session({ SCOPE_QUEUE_LENGTH: '64' });
  const plain = run(prog('manywrites'), ['1000000'], undefined);
  const scoped = run(prog('manywrites'), ['1000000'], s.env);
  assert.is(scoped.status, 0);
  assert.ok(scoped.stdout.equals(plain.stdout), 'identical stdout');
  const notice = evts(s.events(), 'notice');
  assert.ok(notice.length >= 1, 'notice record');
  assert.match(String(notice.at(-1)?.body.data.message), /dropped \d+ records/);
  assert.is(notice.at(-1)?.body.sourcetype, 'metric');
  assert.match(s.log(), /dropped \d+ records/);
  rmSync(s.dir, { recursive: true });
});

test('a stuck destination does not keep the app from exiting', async () => {
  const s = session({ SCOPE_EVENT_DEST: 'file://stderr' });
  // stderr is a pipe this test never reads: the reporting thread blocks once it is full, and the
  // exit flush must give up after its bound instead of hanging the app
  const child = spawn(prog('manywrites'), ['300000'], { env: s.env, stdio: ['ignore', 'ignore', 'pipe'] });
  const t0 = Date.now();
  const code = await new Promise<number | null>((res) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      res(null);
    }, 15_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      res(c);
    });
  });
  child.stderr?.destroy();
  assert.is(code, 0, 'exited by itself');
  assert.ok(Date.now() - t0 < 10_000, `exited in ${Date.now() - t0} ms`);
  // what could not be written is counted and said, and the last metrics still went out
  const log = s.log();
  assert.match(log, /event destination file:\/\/stderr: \d+ lines delivered, [1-9]\d* dropped/);
  const lost = [...log.matchAll(/libscope dropped (\d+) records/g)].reduce((n, m) => n + Number(m[1]), 0);
  assert.ok(lost > 0, `records left in the queue at exit counted: ${log}`);
  assert.ok(
    s.metrics().some((m) => (m as { body: { _metric: string } }).body._metric === 'fs.write'),
    'final metrics written',
  );
  rmSync(s.dir, { recursive: true });
});

test('file://stdout and file://stderr destinations carry events and metrics next to the app output', () => {
  const s = session({ SCOPE_EVENT_DEST: 'file://stdout', SCOPE_METRIC_DEST: 'file://stderr' });
  const r = run('cat', ['/etc/hostname'], s.env);
  assert.is(r.status, 0);
  const host = readFileSync('/etc/hostname', 'utf8');
  const outLines = r.stdout
    .toString()
    .split('\n')
    .filter((l) => l !== '');
  assert.ok(outLines.includes(host.trimEnd()), 'the app output is still there');
  const records = outLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as unknown);
  assert.ok(isStart(records[0]));
  assert.ok(evts(records, 'fs.open').length > 0);
  const errLines = r.stderr.toString().trimEnd().split('\n');
  assert.ok(errLines.length >= 5 && errLines.every((l) => isMetric(JSON.parse(l) as unknown)), 'stderr holds the metrics');
  rmSync(s.dir, { recursive: true });
});

test('unsupported destination: logged once, the app is unaffected', () => {
  const s = session({ SCOPE_METRIC_DEST: 'nope://127.0.0.1:9' });
  const r = run('cat', ['/etc/hostname'], s.env);
  assert.is(r.status, 0);
  assert.is((s.log().match(/unsupported metric destination/g) ?? []).length, 1);
  assert.ok(evts(s.events(), 'fs.open').length > 0);
  rmSync(s.dir, { recursive: true });
});

test("the app's descriptor table holds nothing of ours: same open fds scoped and unscoped", () => {
  const s = session({ SCOPE_LOG_LEVEL: 'debug' });
  // ls lists its own /proc/self/fd: the main thread's table, which is the app's.
  const plain = run('ls', ['/proc/self/fd'], undefined);
  const scoped = run('ls', ['/proc/self/fd'], s.env);
  assert.is(scoped.status, 0);
  assert.is(scoped.stdout.toString(), plain.stdout.toString());
  assert.not.match(s.log(), /shares the app's descriptor table/);
  assert.ok(evts(s.events(), 'fs.open').length > 0, 'and the records were written');
  rmSync(s.dir, { recursive: true });
});

test('the reader of a pipe the app closes sees EOF at once, not when the app exits', async () => {
  const s = session();
  // The app closes its stdout and lives on; a copy of the pipe kept by libscope would hold the
  // reader until the exit. The mark is made only after the pause, so EOF must come before it.
  const mark = join(s.dir, 'later');
  const child = spawn('sh', ['-c', `exec >&-; sleep 2; touch ${mark}`], { env: s.env, stdio: ['ignore', 'pipe', 'ignore'] });
  let markAtEof: boolean | null = null;
  child.stdout.on('end', () => (markAtEof = existsSync(mark)));
  child.stdout.resume();
  await new Promise((res) => child.on('close', res));
  assert.ok(existsSync(mark), 'the app ran to its end');
  assert.is(markAtEof, false, 'EOF arrived while the app still ran');
  rmSync(s.dir, { recursive: true });
});

test.run();
