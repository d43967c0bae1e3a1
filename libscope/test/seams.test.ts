// The seams where records get lost: exec (every entry point of the family, and spawns), fork
// (descriptors a child inherits), and changes of user (setpriv, runuser, su). Real programs
// under the real library; the records read back from the session files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { evts, isMetric, isStart, prog, run, session, stripScope, ASAN_RUNTIME, LIB, PRELOAD, preloadList } from './lib.js';
import type { Evt, Metric } from './lib.js';

const pidOf = (events: unknown[], procname: string): number | undefined => events.filter(isStart).find((s) => s.info.process.procname === procname)?.info.process.pid;

const VARIANTS = ['execl', 'execle', 'execlp', 'execv', 'execvp', 'execvpe', 'execve', 'fexecve', 'execveat'];

for (const v of VARIANTS) {
  test(`${v}: every event and the metrics of the image that execs reach the session before the new one starts`, () => {
    const s = session();
    const file = join(s.dir, 'input');
    writeFileSync(file, 'five reads of this\n');
    const r = run(prog('execfam'), [v, file], s.env);
    assert.is(r.status, 0, r.stderr.toString());
    assert.is(r.stdout.toString(), 'five reads of this\n');
    const events = s.events();
    const starts = events.filter(isStart);
    assert.equal(
      starts.map((x) => x.info.process.procname),
      ['execfam', 'cat'],
      'both images started scoped',
    );
    const pid = pidOf(events, 'execfam');
    const mine = (e: Evt): boolean => e.body.pid === pid && e.body.proc === 'execfam' && e.body.data.file === file;
    assert.is(evts(events, 'fs.open').filter(mine).length, 5, 'five fs.open before the exec');
    assert.is(evts(events, 'fs.close').filter(mine).length, 5, 'five fs.close before the exec');
    assert.ok(
      evts(events, 'fs.open').some((e) => e.body.proc === 'cat' && e.body.data.file === file),
      "cat's own open",
    );
    const met = s
      .metrics()
      .filter(isMetric)
      .filter((m: Metric) => m.body.proc === 'execfam');
    for (const name of ['proc.cpu', 'proc.mem', 'fs.open', 'fs.read', 'fs.close'])
      assert.ok(
        met.some((m) => m.body._metric === name),
        `the exec'ing image wrote ${name}`,
      );
    const open = met.find((m) => m.body._metric === 'fs.open');
    assert.is(open?.body._value, v === 'fexecve' ? 6 : 5, 'its fs.open count (fexecve opens /bin/cat too)');
    rmSync(s.dir, { recursive: true });
  });
}

for (const v of ['spawn', 'spawnp', 'system']) {
  test(`${v}: the child is scoped (even from an environment without LD_PRELOAD) and the parent goes on reporting`, () => {
    const s = session();
    const file = join(s.dir, 'input');
    writeFileSync(file, 'spawned\n');
    const r = run(prog('execfam'), [v, file], s.env);
    assert.is(r.status, 0, r.stderr.toString());
    assert.is(r.stdout.toString(), 'spawned\n');
    const events = s.events();
    const cat = pidOf(events, 'cat');
    assert.ok(cat !== undefined, 'cat wrote a process-start');
    assert.ok(cat !== pidOf(events, 'execfam'), 'under its own pid');
    assert.ok(evts(events, 'fs.open').some((e) => e.body.pid === cat && e.body.data.file === file));
    assert.is(evts(events, 'fs.close').filter((e) => e.body.proc === 'execfam' && e.body.data.file === file).length, 5);
    rmSync(s.dir, { recursive: true });
  });
}

test('bash -c "cat …; exec /bin/true": the image that execs writes its fs and proc metrics', () => {
  const s = session();
  const r = run('bash', ['-c', 'cat /etc/hostname >/dev/null; exec /bin/true'], s.env);
  assert.is(r.status, 0);
  const met = s.metrics().filter(isMetric);
  const bashPid = pidOf(s.events(), 'true'); // the main bash became true (a forked bash became cat)
  const bash = met.filter((m) => m.body.pid === bashPid && m.body.proc === 'bash');
  for (const name of ['proc.cpu', 'proc.fd', 'fs.stat'])
    assert.ok(
      bash.some((m) => m.body._metric === name),
      `bash wrote ${name} before its exec`,
    );
  rmSync(s.dir, { recursive: true });
});

test("fork: a child's writes to a log its parent opened give file events, fs.close and fs metrics under the child's pid", () => {
  const s = session({ SCOPE_METRIC_VERBOSITY: '6' });
  writeFileSync(join(s.dir, 'data'), 'some data\n');
  const r = run(prog('forkinherit'), [s.dir], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  const events = s.events();
  const log = join(s.dir, 'access.log');
  const data = join(s.dir, 'data');
  // the child's process-start may be written before its parent's: told apart by ppid
  const starts = events.filter(isStart);
  const childStart = starts.find((x) => starts.some((p) => p.info.process.pid === x.info.process['ppid']));
  const child = childStart?.info.process.pid;
  const parent = childStart?.info.process['ppid'];
  assert.ok(child !== undefined, 'the child wrote its process-start');
  const closes = evts(events, 'fs.close');
  const childLog = closes.find((e) => e.body.pid === child && e.body.data.file === log);
  assert.ok(childLog, "the child's close of the inherited log has its path");
  assert.is(childLog?.body.data.file_write_bytes, 30);
  assert.is(childLog?.body.data.file_write_ops, 3);
  const childData = closes.find((e) => e.body.pid === child && e.body.data.file === data);
  assert.is(childData?.body.data.file_read_bytes, 10);
  const parentLog = closes.find((e) => e.body.pid === parent && e.body.data.file === log);
  assert.is(parentLog?.body.data.file_write_bytes, 0, 'the parent wrote nothing itself');
  assert.is.not(parentLog?._channel, childLog?._channel, 'two lifetimes, two channels');
  assert.not.ok(
    evts(events, 'fs.open').some((e) => e.body.pid === child),
    'the child opened nothing',
  );
  const lines = evts(events, log).filter((e) => e.body.pid === child);
  assert.ok(lines.length >= 1, 'file events for the log-file watch');
  assert.is(lines.map((e) => String(e.body.data.message)).join(''), 'GET / 200\n'.repeat(3));
  const met = s
    .metrics()
    .filter(isMetric)
    .filter((m) => m.body.pid === child);
  assert.ok(
    met.some((m) => m.body._metric === 'fs.close' && m.body.file === log),
    'fs.close metric with the file',
  );
  assert.ok(
    met.some((m) => m.body._metric === 'fs.write' && m.body._value === 30),
    'fs.write counted',
  );
  rmSync(s.dir, { recursive: true });
});

test('an app replacing its environment while its calls fail (as bash does before each command): the reporting thread never reads the environment, the app runs to its end', () => {
  // envchurn unmaps (PROT_NONE) each old environment array as soon as the new one is in place;
  // strerror's gettext walking it from the reporting thread faulted the app at once
  const s = session({ SCOPE_EVENT_MAXEPS: '0' });
  const r = run(prog('envchurn'), ['1', join(s.dir, 'missing')], s.env);
  assert.is(r.status, 0, `envchurn: status ${r.status} signal ${r.signal} ${r.stderr}`);
  const rounds = Number(r.stdout.toString());
  assert.ok(rounds > 1000, `rounds made (${rounds})`);
  const events = s.events();
  const errors = evts(events, 'fs.error').filter((e) => e.body.data.file === join(s.dir, 'missing'));
  // a reporting thread slower than the app (the sanitized build on a busy machine) may find the
  // queue full: those records are counted in a notice, and only they may be missing
  const lost = Math.max(
    0,
    ...evts(events, 'notice')
      .map((e) => /dropped \d+ records \((\d+) in total\): the queue/.exec(String(e.body.data.message)))
      .map((m) => (m ? Number(m[1]) : 0)),
  );
  assert.ok(errors.length <= rounds && errors.length + lost >= rounds, `an fs.error for every failed open, or counted as lost (${errors.length} + ${lost} of ${rounds})`);
  assert.equal([errors[0]!.body.data.errno_name, errors[0]!.body.data.message], ['ENOENT', 'No such file or directory']);
  rmSync(s.dir, { recursive: true });
});

test('SCOPE_EXECVE=false: what the process execs runs unscoped, even from the LD_PRELOAD it inherited; other preloads stay', () => {
  const s = session({ SCOPE_EXECVE: 'false' });
  s.env['LD_PRELOAD'] = preloadList(LIB, '/lib/x86_64-linux-gnu/libm.so.6');
  const r = run('sh', ['-c', 'cat /etc/hostname >/dev/null; env | grep ^LD_PRELOAD='], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), `LD_PRELOAD=${['/lib/x86_64-linux-gnu/libm.so.6', ASAN_RUNTIME].filter(Boolean).join(':')}\n`, 'only our library left the list');
  const names = new Set(
    s
      .events()
      .filter(isStart)
      .map((x) => x.info.process.procname),
  );
  assert.equal([...names], ['sh'], 'only sh (and its forks) reported');
  rmSync(s.dir, { recursive: true });
});

// ---- changes of user (root: the programs switch to nobody) ----

function privateSession(): ReturnType<typeof session> {
  const s = session();
  assert.is(statSync(s.dir).mode & 0o777, 0o700, 'a session directory only root may enter');
  return s;
}

test('setpriv to nobody keeping capabilities: same status and output as unscoped, and its exec reports', () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (setpriv --reuid)');
  const args = ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/cat', '/etc/hostname'];
  const plain = run('setpriv', args, stripScope());
  const s = privateSession();
  const scoped = run('setpriv', args, s.env);
  assert.is(scoped.status, plain.status, scoped.stderr.toString());
  assert.is(scoped.status, 0);
  assert.ok(scoped.stdout.equals(plain.stdout));
  const events = s.events();
  const cat = events.filter(isStart).find((x) => x.info.process.procname === 'cat');
  assert.ok(cat, "cat, exec'd as nobody, wrote its process-start");
  assert.is(cat?.info.process.uid, 65534);
  assert.ok(evts(events, 'fs.open').some((e) => e.body.proc === 'cat' && e.body.data.file === '/etc/hostname'));
  rmSync(s.dir, { recursive: true });
});

for (const [name, cmd, args] of [
  ['runuser', 'runuser', ['-u', 'nobody', '--', 'sh', '-c', 'cat /etc/hostname; ls / >/dev/null']],
  ['su', 'su', ['-s', '/bin/sh', 'nobody', '-c', 'cat /etc/hostname; ls / >/dev/null']],
] as const) {
  test(`${name} -u nobody: the children that run as nobody reach a session only root may enter, settings file included`, () => {
    assert.is(process.getuid?.(), 0, `this test needs root (${name})`);
    const s = privateSession();
    // as scope run does it: the settings in a file of the session, read through SCOPE_CONF_PATH
    const conf = join(s.dir, 'scope.env');
    const env = stripScope();
    env['LD_PRELOAD'] = PRELOAD;
    env['SCOPE_CONF_PATH'] = conf;
    writeFileSync(
      conf,
      [`SCOPE_EVENT_DEST=${String(s.env['SCOPE_EVENT_DEST'])}`, `SCOPE_METRIC_DEST=${String(s.env['SCOPE_METRIC_DEST'])}`, `SCOPE_LOG_DEST=${String(s.env['SCOPE_LOG_DEST'])}`, ''].join('\n'),
    );
    chmodSync(conf, 0o600);
    const plain = run(cmd, [...args], stripScope());
    const r = run(cmd, [...args], env);
    assert.is(r.status, plain.status, r.stderr.toString());
    assert.ok(r.stdout.equals(plain.stdout));
    const events = s.events();
    for (const p of ['sh', 'cat', 'ls']) {
      const st = events.filter(isStart).find((x) => x.info.process.procname === p);
      assert.ok(st, `${p} wrote its process-start`);
      assert.is(st?.info.process.uid, 65534, `${p} ran as nobody`);
    }
    assert.ok(evts(events, 'fs.open').some((e) => e.body.proc === 'cat' && e.body.data.file === '/etc/hostname'));
    assert.ok(
      s
        .metrics()
        .filter(isMetric)
        .some((m) => m.body.proc === 'ls'),
      "ls's metrics",
    );
    assert.not.match(s.log(), /Permission denied/);
    rmSync(s.dir, { recursive: true });
  });
}

test("setpriv to nobody: the control socket file moves to the new user's directory, none is left in root's", () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (setpriv --reuid)');
  const s = privateSession();
  // the file is bound by root's reporting thread at start; the uid change must take it away
  // while root may still remove it from /tmp/scope-0 (0700), and bind it again as nobody
  const ROUNDS = 10;
  const script = 'i=0; while [ ! -S /tmp/scope-65534/ctl.$$ ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; ' + '[ -S /tmp/scope-65534/ctl.$$ ] && echo bound; echo $$';
  const pids: string[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script], s.env);
    assert.is(r.status, 0, r.stderr.toString());
    const [bound, pid] = r.stdout.toString().trim().split('\n');
    assert.is(bound, 'bound', `round ${i}: the socket file of nobody's process in /tmp/scope-65534`);
    pids.push(pid ?? '');
  }
  const left = pids.filter((p) => existsSync(`/tmp/scope-0/ctl.${p}`) || existsSync(`/tmp/scope-65534/ctl.${p}`));
  assert.equal(left, [], 'no socket file outlives its process');
  rmSync(s.dir, { recursive: true });
});

test('exec: the socket file goes with the image that execs; an image that ends at once leaves none; a failed exec binds it again', () => {
  const s = session();
  const uid = process.getuid?.() ?? 0;
  const waitOwn = `i=0; while [ ! -S /tmp/scope-${uid}/ctl.$$ ] && [ ! -S /tmp/ctl.$$ ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done`;
  const pids: string[] = [];
  for (let i = 0; i < 10; i++) {
    // sh binds its file, then becomes true, which ends before its own reporting thread binds one
    const r = run('sh', ['-c', `${waitOwn}; echo $$; exec /bin/true`], s.env);
    assert.is(r.status, 0, r.stderr.toString());
    pids.push(r.stdout.toString().trim());
  }
  const left = pids.filter((p) => existsSync(`/tmp/scope-${uid}/ctl.${p}`) || existsSync(`/tmp/ctl.${p}`));
  assert.equal(left, [], 'no socket file outlives its process');
  const py = [
    'import os, time',
    `own = lambda: os.path.exists('/tmp/scope-${uid}/ctl.%d' % os.getpid()) or os.path.exists('/tmp/ctl.%d' % os.getpid())`,
    'for _ in range(40):',
    '    if own(): break',
    '    time.sleep(0.05)',
    'before = own()',
    'try: os.execv("/nonexistent-program", ["x"])',
    'except OSError: pass',
    'for _ in range(40):',
    '    if own(): break',
    '    time.sleep(0.05)',
    'print(before, own())',
  ].join('\n');
  const r = run('python3', ['-c', py], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString().trim(), 'True True', 'bound before the exec, and again after it failed');
  rmSync(s.dir, { recursive: true });
});

test('a process that never changes user keeps nothing extra in its descriptor table', () => {
  const s = session();
  const fds = (env: NodeJS.ProcessEnv): string => run('sh', ['-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "'], env).stdout.toString();
  assert.is(fds(s.env), fds(stripScope()));
  rmSync(s.dir, { recursive: true });
});

test('after a change of user: no SCOPE_*_FD left in the environment, and of ours only the pinned descriptors, high and close-on-exec', () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (setpriv --reuid)');
  const s = privateSession();
  const args = ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'env | grep -c "^SCOPE_[A-Z]*_FD="; ulimit -n; ls /proc/self/fd | tr "\\n" " "'];
  const r = run('setpriv', args, s.env);
  const plain = run('setpriv', args, stripScope());
  assert.is(r.status, plain.status);
  const [vars, limit, scopedFds] = r.stdout.toString().split('\n');
  const [, , plainFds] = plain.stdout.toString().split('\n');
  assert.is(vars, '0', 'no variable left in the environment');
  const have = new Set((plainFds ?? '').trim().split(' '));
  const extra = (scopedFds ?? '')
    .trim()
    .split(' ')
    .filter((f) => !have.has(f))
    .map(Number);
  assert.ok(extra.length <= 3, `at most the event, metric and log pins: ${extra.join(' ')}`);
  for (const fd of extra) assert.ok(fd >= Number(limit) - 64, `fd ${fd} is moved up out of the way`);
  assert.ok(
    s
      .events()
      .filter(isStart)
      .some((x) => x.info.process.procname === 'ls'),
    'ls reported',
  );
  rmSync(s.dir, { recursive: true });
});

test('proc.exit: every child the process reaps, by each of wait, waitpid, wait3, wait4 and waitid: its pid and exit status, a signal by name with 128+N; a WNOWAIT look records nothing', () => {
  const s = session();
  const r = run(prog('reaper'), [], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  const reaped = r.stdout
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string]);
  const exits = evts(s.events(), 'proc.exit').filter((e) => e.body.proc === 'reaper');
  assert.equal(
    exits.map((e) => [e.body.data.op, String(e.body.data.child_pid), e.body.data.exit_status, e.body.data.signal ?? null]),
    reaped.map(([fn, pid]) => [fn, pid, fn === 'wait4' ? 143 : { wait: 11, waitpid: 12, wait3: 13, waitid: 14 }[fn], fn === 'wait4' ? 'SIGTERM' : null]),
  );
  assert.is(exits.find((e) => e.body.data.op === 'wait4')?.body.data.core_dumped, false);
  assert.ok(exits.every((e) => e.body.sourcetype === 'proc'));
  rmSync(s.dir, { recursive: true });
});

test('proc.exit inside SCOPE_FILTER: event=proc.exit keeps only them, and a data filter on exit_status picks the one killed', () => {
  const all = session({ SCOPE_FILTER: '1:event=proc.exit' });
  assert.is(run(prog('reaper'), [], all.env).status, 0);
  const kept = all.events().filter((e) => (e as Evt).type === 'evt') as Evt[];
  assert.equal([...new Set(kept.map((e) => e.body.source))], ['proc.exit']);
  assert.is(kept.length, 5);
  const some = session({ SCOPE_FILTER: '1:proc.exit.data.exit_status>128' });
  assert.is(run(prog('reaper'), [], some.env).status, 0);
  const picked = evts(some.events(), 'proc.exit');
  assert.equal(
    picked.map((e) => e.body.data.signal),
    ['SIGTERM'],
  );
  rmSync(all.dir, { recursive: true });
  rmSync(some.dir, { recursive: true });
});

test("proc.exit: a shell's children, also one killed before it wrote a record of its own", () => {
  const s = session();
  const r = run('/bin/sh', ['-c', 'sh -c "exit 7"; sh -c "kill -KILL \\$\\$"; /bin/true'], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  const events = s.events();
  const shell = events.filter(isStart).find((x) => x.info.process.ppid === process.pid)?.info.process.pid;
  const exits = evts(events, 'proc.exit').filter((e) => e.body.pid === shell);
  assert.equal(
    exits.map((e) => [e.body.data.exit_status, e.body.data.signal ?? null]),
    [
      [7, null],
      [137, 'SIGKILL'],
      [0, null],
    ],
  );
  rmSync(s.dir, { recursive: true });
});

test.run();
