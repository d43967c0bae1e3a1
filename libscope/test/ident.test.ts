// Who a process is and what it used, as the records say: its name (comm) and command line even
// when it rewrites its argv, its CPU share, its namespaces (libscope/src/report/ident.c, metrics.c).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { availableParallelism } from 'node:os';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { SANITIZED, evts, isMetric, isStart, prog, run, session } from './lib.js';
import type { Metric, Start } from './lib.js';

const values = (ms: Metric[], name: string, proc?: string): number[] => ms.filter((m) => m.body._metric === name && (proc === undefined || m.body.proc === proc)).map((m) => m.body._value);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

test('a program that rewrites its argv: proc is its name (comm), cmd the command line it was started with', () => {
  const s = session();
  try {
    const r = run(prog('argvrewrite'), ['-g', 'daemon off;'], s.env);
    assert.is(r.status, 0, r.stderr.toString());
    const events = s.events();
    const start = events.find(isStart);
    assert.ok(start, 'process-start record');
    const cmd = `${prog('argvrewrite')} -g daemon off;`;
    assert.is(start.info.process.procname, 'argvrewrite');
    assert.is(start.info.process.cmd, cmd);
    const open = evts(events, 'fs.open').find((e) => e.body.data.file === '/etc/hostname');
    assert.ok(open, 'fs.open of /etc/hostname');
    assert.is(open.body.proc, 'argvrewrite');
    assert.is(open.body.cmd, cmd);
    assert.ok(open.id.startsWith(`${open.body.host}-argvrewrite-`), open.id);
    const mets = s.metrics().filter(isMetric);
    assert.ok(mets.length > 0 && mets.every((m) => m.body.proc === 'argvrewrite'), 'metrics name it too');
    assert.is(mets.find((m) => m.body._metric === 'proc.start')?.body.args, cmd);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('proc.cpu_perc: a busy program uses at most all the CPUs, a sleeping one little', () => {
  const max = 100 * availableParallelism();
  for (const [args, busy] of [
    [['300'], true],
    [['/bin/sleep', '0.3'], false],
  ] as const) {
    const s = session();
    try {
      const r = run(busy ? prog('cpuspin') : args[0], busy ? [...args] : args.slice(1), s.env);
      assert.is(r.status, 0, r.stderr.toString());
      const ms = s.metrics().filter(isMetric);
      const perc = values(ms, 'proc.cpu_perc');
      assert.ok(perc.length >= 1, 'proc.cpu_perc at exit');
      for (const p of perc) assert.ok(p >= 0 && p <= max, `proc.cpu_perc ${p} within 0…${max}`);
      const cpu = sum(values(ms, 'proc.cpu'));
      if (busy) {
        // CPU time since libscope's start, which is before main: at least what cpuspin spun from
        // main on (the loader's part before libscope's start, long under the sanitizer, is not in it)
        const spun = Number(/spun_us=(\d+)/.exec(r.stdout.toString())?.[1]);
        assert.ok(spun >= 150_000, `cpuspin spun ${spun} µs from main on, of its 300 ms`);
        assert.ok(cpu >= spun, `cpuspin's proc.cpu ${cpu} µs covers the ${spun} µs it spun from main on`);
        assert.ok(
          perc.some((p) => p > 0),
          'cpuspin used some CPU',
        );
      } else {
        for (const p of perc) assert.ok(p < 50, `sleep's proc.cpu_perc ${p}`);
      }
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
});

test("an exec'd image is not charged the CPU its predecessor used (getrusage counts it on)", () => {
  const s = session();
  try {
    // 300 ms of CPU in cpuspin, then the same process becomes sleep
    const r = run(prog('cpuspin'), ['300', '/bin/sleep', '0.3'], s.env);
    assert.is(r.status, 0, r.stderr.toString());
    const ms = s.metrics().filter(isMetric);
    const slept = sum(values(ms, 'proc.cpu', 'sleep'));
    assert.ok(values(ms, 'proc.cpu', 'sleep').length >= 1, "sleep's proc.cpu");
    assert.ok(slept < 150_000, `sleep's proc.cpu ${slept} µs is its own, not cpuspin's 300 ms`);
    for (const p of values(ms, 'proc.cpu_perc', 'sleep')) assert.ok(p < 50, `sleep's proc.cpu_perc ${p}`);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('the start record: network namespace, machine id, a new uuid per process, host_pid outside any pid namespace', () => {
  const s = session();
  try {
    const r = run('sh', ['-c', 'cat /etc/hostname >/dev/null; cat /etc/hostname >/dev/null'], s.env);
    assert.is(r.status, 0);
    const starts = s.events().filter(isStart);
    assert.is(starts.length, 3);
    const uuids = new Set(starts.map((x) => x.info.process.uuid));
    assert.is(uuids.size, 3, 'one uuid per process start');
    for (const x of starts) {
      const p = x.info.process;
      assert.is(p.netns, statSync('/proc/self/ns/net').ino);
      assert.is(p.host_pid, p.pid, 'in the initial pid namespace the host pid is the pid');
      assert.match(String(p.uuid), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      let machine: string | undefined;
      try {
        machine = /^[0-9a-f]{32}/.exec(readFileSync('/etc/machine-id', 'utf8'))?.[0];
      } catch {
        machine = undefined;
      }
      assert.is(p.machine_id, machine, 'machine_id is /etc/machine-id (absent without one)');
    }
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

/** The process-start records of two shells, each pid 1 of a pid namespace of its own made by
 * `unshare OPTS`, alive at the same time (a namespace's inode number is reused once it is gone). */
function twoPidNs(opts: string[]): Start['info']['process'][] {
  const s = session();
  try {
    const inner = 'cat /etc/hostname >/dev/null; sleep 1.5'; // long enough to overlap under the sanitizers' slowdown too
    const u = `unshare ${opts.join(' ')} sh -c '${inner}'`;
    // Sanitized (npm run test:sanitize): LeakSanitizer stops a process's threads by ptrace, and
    // the SIGSTOP that takes is ignored by a pid namespace's first process: no leak check there.
    const env = SANITIZED ? { ...s.env, ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:detect_leaks=0` } : s.env;
    const r = run('sh', ['-c', `${u} & ${u} & wait`], env);
    assert.is(r.status, 0, r.stderr.toString());
    const shells = s
      .events()
      .filter(isStart)
      .map((x) => x.info.process)
      .filter((p) => p.procname === 'sh' && p.pid === 1);
    assert.is(shells.length, 2, 'two shells, each pid 1 of its namespace');
    return shells;
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
}

test('in pid namespaces (root): pid as the namespace sees it, pidns and netns; host_pid for the first process of each', () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (unshare -p)');
  const ourPidns = statSync('/proc/self/ns/pid').ino;
  const ourNetns = statSync('/proc/self/ns/net').ino;
  // --mount-proc: both shells are pid 1; their pid namespaces tell them apart
  const [a, b] = twoPidNs(['-fp', '--mount-proc']) as [Start['info']['process'], Start['info']['process']];
  assert.is.not(a.pidns, ourPidns);
  assert.is.not(a.pidns, b.pidns);
  assert.is(a.netns, ourNetns);
  // the namespace's own /proc cannot show the outer pid; the first process of the namespace
  // read it at its fork, while the outer /proc was still mounted, and its exec was handed it
  assert.ok(typeof a.host_pid === 'number' && a.host_pid > 1, `host_pid ${String(a.host_pid)}`);
  assert.ok(typeof b.host_pid === 'number' && b.host_pid > 1 && b.host_pid !== a.host_pid, 'each its own host pid');
  // the host's /proc (no --mount-proc): NSpid gives each its host pid
  const [c, d] = twoPidNs(['-fp']) as [Start['info']['process'], Start['info']['process']];
  assert.ok(typeof c.host_pid === 'number' && c.host_pid > 1, `host_pid ${String(c.host_pid)}`);
  assert.ok(typeof d.host_pid === 'number' && d.host_pid > 1 && d.host_pid !== c.host_pid, 'each its own host pid');
  assert.is.not(c.pidns, d.pidns);
});

test.run();
