// Attach, detach and the control socket, inside libscope (issue 7). The selfattach program loads
// libscope.so by dlopen (no LD_PRELOAD) and calls scope_attach on its main thread, as the injector
// makes a running process do, while it keeps doing file I/O; the test then talks to the library
// through its control socket "@scope/<pid>" and asserts on the records that come out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { LIB, PRELOAD, loadable, preloadList, evts, isMetric, isStart, prog, readNdjson, stripScope } from './lib.js';
import type { Evt, Start } from './lib.js';
import { tempDir } from '@scope/core/testing';

type Answer = { ok: boolean; error?: string; [k: string]: unknown };
interface Dest {
  name: string;
  url: string;
  state: string;
  attempts: number;
  failures: number;
  last_failure: string | null;
  last_failure_time: number | null;
  connected_since: number | null;
}
interface Status extends Answer {
  pid: number;
  scoped: boolean;
  mode: string;
  version: string;
  config: Record<string, string>;
  destinations: Dest[];
  counters: { events: number; metrics: number; drops: number };
  got_slots: number;
}

const ROOT = process.getuid?.() === 0;
const EALREADY = -114,
  ELOOP = -40,
  EPERM = -1,
  EINVAL = -22,
  ENOENT = -2;

/** One request on "@scope/<pid>" (node spells the abstract name with a leading NUL). */
function ask(pid: number, request: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path: `\0scope/${pid}` });
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`pid ${pid}: no answer within 3 s`));
    }, 3000);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(request + '\n'));
    sock.on('data', (d: string) => (buf += d));
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as Answer);
      } catch (e) {
        reject(new Error(`not one JSON line: ${JSON.stringify(buf)} (${String(e)})`));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
const NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
/**
 * A client running as nobody (root only) that connects and reads: a refused peer is sent why and
 * closed at once, before it says anything. `request`, when given, is written right after the connect
 * (whatever comes back, an answer or EPIPE). Returns what came and how long the connection lasted.
 */
function askAsNobody(pid: number, request?: string): { text: string; ms: number } {
  const client = `const t0 = Date.now(); const s = require('net').createConnection({ path: '\\0scope/${pid}' });
    let b = ''; s.on('connect', () => { if (${JSON.stringify(request ?? '')}) s.write(${JSON.stringify((request ?? '') + '\n')}); });
    s.on('data', (d) => (b += d));
    s.on('close', () => process.stdout.write(JSON.stringify({ text: b, ms: Date.now() - t0 }))); s.on('error', (e) => (b += 'error ' + e.code));`;
  const r = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, '-e', client], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { text: string; ms: number };
}
const status = async (pid: number): Promise<Status> => (await ask(pid, '{"req":"status"}')) as Status;
const refused = (pid: number): Promise<string> =>
  ask(pid, '{"req":"status"}').then(
    () => 'answered',
    (e: NodeJS.ErrnoException) => e.code ?? String(e),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, ms: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    // a file read while the process writes it may end in the middle of a line (a record longer
    // than one write): not yet, look again (a line still torn at the end fails as "not within")
    let v: T | undefined | false;
    try {
      v = await probe();
    } catch (e) {
      if (!String((e as Error).message).includes('last line is not complete')) throw e;
      v = undefined;
    }
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** selfattach, driven one command line at a time. */
class Target {
  readonly proc: ChildProcess;
  readonly pid: number;
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  /** as: a command (setpriv …) the program is run under, which execs it with the same pid */
  constructor(
    env: NodeJS.ProcessEnv,
    readonly dir: string,
    as: string[] = [],
  ) {
    const argv = [...as, prog('selfattach'), LIB, dir];
    this.proc = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.pid = this.proc.pid ?? 0;
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.wake?.();
    });
  }
  async next(prefix: string): Promise<string> {
    const end = Date.now() + 10_000;
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(prefix + ' '));
      if (i >= 0) return this.lines.splice(i, 1)[0]!.slice(prefix.length + 1);
      if (Date.now() > end) throw new Error(`selfattach: no "${prefix}" line`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
  }
  async cmd(line: string): Promise<string> {
    this.proc.stdin!.write(line + '\n');
    return this.next(line.split(' ')[0]!);
  }
  async attach(conf: string): Promise<number> {
    return Number(await this.cmd(`attach ${conf}`));
  }
  quit(): void {
    this.proc.stdin!.end('quit\n');
  }
}

function conf(path: string, pairs: Record<string, string>, mode = 0o600): string {
  writeFileSync(
    path,
    '# written by the test, as the injector would\n' +
      Object.entries(pairs)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') +
      '\n',
    { mode },
  );
  chmodSync(path, mode);
  return path;
}
const fileEvents = (es: unknown[], name: string): Evt[] => evts(es, 'fs.open').filter((e) => String(e.body.data.file).endsWith('/' + name));

// One target for the attach story, test after test.
const dir = tempDir('libscope-control-');
const envEvents = join(dir, 'env-events.json');
const target = new Target({ ...loadable(), SCOPE_EVENT_DEST: `file://${envEvents}`, SCOPE_METRIC_DEST: `file://${envEvents}` }, dir);
const events = (name = 'events.json') => readNdjson(join(dir, name));
let fdsBefore = '';

test('loaded by dlopen (even with LD_PRELOAD naming it in the environment) libscope does nothing until scope_attach', async () => {
  assert.is(Number(await target.next('ready')), target.pid);
  fdsBefore = await target.cmd('fds');
  // the app set LD_PRELOAD for children of its own: still a dlopen, not a preloaded start
  assert.is(await target.cmd('load setenv'), 'ok');
  await sleep(300);
  assert.is(await target.cmd('tasks'), '1', 'no reporting thread');
  assert.is(await target.cmd('fds'), fdsBefore, 'no descriptor of ours');
  assert.is(await refused(target.pid), 'ECONNREFUSED', 'no control socket');
  assert.equal(readdirSync(dir).sort(), ['loop.txt', 'pointer.txt'], 'no records anywhere');
});

test('scope_attach refuses a symlink, a file of another owner, one others may write, a directory, and writes nothing', async () => {
  const good = { SCOPE_EVENT_DEST: `file://${dir}/events.json`, SCOPE_LOG_DEST: `file://${dir}/libscope.log` };
  const real = conf(join(dir, 'real.conf'), good);
  symlinkSync(real, join(dir, 'link.conf'));
  assert.is(await target.attach(join(dir, 'link.conf')), ELOOP, 'a symlink');
  assert.is(await target.attach(conf(join(dir, 'open.conf'), good, 0o620)), EPERM, 'group-writable');
  assert.is(await target.attach(conf(join(dir, 'world.conf'), good, 0o602)), EPERM, 'world-writable');
  if (ROOT) {
    const theirs = conf(join(dir, 'theirs.conf'), good);
    chownSync(theirs, 65534, 65534);
    assert.is(await target.attach(theirs), EPERM, "another user's file");
    assert.ok(existsSync(theirs), 'a refused file is left alone');
  }
  mkdirSync(join(dir, 'a-dir.conf'));
  assert.is(await target.attach(join(dir, 'a-dir.conf')), EINVAL, 'a directory');
  assert.is(await target.attach(join(dir, 'none.conf')), ENOENT, 'no such file');
  assert.ok(existsSync(real) && existsSync(join(dir, 'open.conf')), 'refused files stay');
  await sleep(200);
  assert.ok(!existsSync(join(dir, 'events.json')) && !existsSync(join(dir, 'libscope.log')), 'nothing written');
  assert.is(await target.cmd('tasks'), '1');
  assert.is(await refused(target.pid), 'ECONNREFUSED');
  for (const f of ['real.conf', 'link.conf', 'open.conf', 'world.conf', 'theirs.conf', 'a-dir.conf']) rmSync(join(dir, f), { recursive: true, force: true });
});

test('scope_attach: the process-start record first, then fs events of calls through the PLT, a GOT pointer and a library loaded later; the file removed; the environment ignored', async () => {
  const path = conf(join(dir, 'attach.conf'), {
    SCOPE_EVENT_DEST: `file://${dir}/events.json`,
    SCOPE_METRIC_DEST: `file://${dir}/metrics.json`,
    SCOPE_LOG_DEST: `file://${dir}/libscope.log`,
    SCOPE_LOG_LEVEL: 'info',
    SCOPE_SUMMARY_PERIOD: '1',
  });
  assert.is(await target.attach(path), 0);
  assert.not.ok(existsSync(path), 'the config file is removed once read');
  const es = await waitFor('loop.txt and pointer.txt opens', 3000, () => {
    const r = events();
    return fileEvents(r, 'loop.txt').length > 0 && fileEvents(r, 'pointer.txt').length > 0 && r;
  });
  const first = es[0] as Start;
  assert.ok(isStart(first), 'the process-start record comes first');
  assert.is(first.info.process.pid, target.pid);
  assert.is(first.info.process.procname, 'selfattach');
  assert.is(first.info.configuration.current.SCOPE_EVENT_DEST, `file://${dir}/events.json`);
  assert.is(es.filter(isStart).length, 1);
  for (const e of fileEvents(es, 'loop.txt').slice(0, 3)) {
    assert.is(e.body.pid, target.pid);
    assert.ok(['open', 'open64', '__open_2', '__open64_2'].includes(String(e.body.data.op)), String(e.body.data.op));
  }
  assert.ok(
    evts(es, 'fs.close').some((e) => String(e.body.data.file).endsWith('/loop.txt')),
    'fs.close too',
  );
  assert.not.ok(existsSync(envEvents), "the target's own SCOPE_* are not read");
  assert.is(await target.cmd('tasks'), '2', 'the reporting thread');
  assert.is(await target.cmd('fds'), fdsBefore, "no descriptor of ours in the app's table");
  assert.is(await target.attach(conf(join(dir, 'again.conf'), { SCOPE_EVENT_DEST: `file://${dir}/x.json` })), EALREADY);

  // a library the app loads after the attach is patched before dlopen returns
  assert.is(await target.cmd(`zlib ${dir}/z.gz`), 'ok');
  await waitFor('libz opening z.gz', 3000, () => fileEvents(events(), 'z.gz').length > 0);
  await waitFor(
    'metrics',
    3000,
    () =>
      existsSync(join(dir, 'metrics.json')) &&
      readNdjson(join(dir, 'metrics.json'))
        .filter(isMetric)
        .some((m) => m.body._metric === 'fs.open'),
  );
});

test('status tells the truth: attach mode, scoped, the config in force, destinations connected, counters, patched slots', async () => {
  const s = await status(target.pid);
  assert.is(s.ok, true);
  assert.is(s.pid, target.pid);
  assert.is(s.scoped, true);
  assert.is(s.mode, 'attach');
  assert.is(s.version, '0.1.0');
  assert.is(s.config.SCOPE_EVENT_DEST, `file://${dir}/events.json`);
  assert.is(s.config.SCOPE_SUMMARY_PERIOD, '1');
  assert.is(s.config.SCOPE_EVENT_FS, 'true', 'defaults are part of the config in force');
  assert.equal(
    s.destinations.map((d) => d.name),
    ['events', 'metrics', 'log'],
  );
  for (const d of s.destinations) {
    assert.is(d.state, 'connected', d.name);
    assert.is(d.attempts, 1, `${d.name}: one open`);
    assert.is(d.failures, 0);
    assert.is(d.last_failure, null);
    assert.ok(typeof d.connected_since === 'number' && Math.abs(d.connected_since - Date.now() / 1000) < 60);
  }
  assert.ok(s.counters.events > 0 && s.counters.metrics > 0, JSON.stringify(s.counters));
  assert.is(s.counters.drops, 0);
  assert.ok(s.got_slots > 0, `got_slots ${s.got_slots}`);
});

test('a peer with another uid is told why and closed at once, before it asks anything', async () => {
  if (!ROOT) return;
  const a = askAsNobody(target.pid);
  assert.equal(JSON.parse(a.text), { ok: false, error: `permission denied: uid 65534 may not control pid ${target.pid} (its uid is 0)` });
  assert.ok(a.ms < 1500, `closed at once, not held for the request (${a.ms} ms)`);
  const b = askAsNobody(target.pid, '{"req":"detach"}');
  assert.ok(/permission denied|EPIPE|ECONNRESET/.test(b.text), b.text);
  assert.is((await status(target.pid)).scoped, true, 'still scoped: the request was not carried out');
});

test("the control socket file: 0600 in a directory of ours closed to others; a killed process's is swept, an exiting one removes its own", async () => {
  const env = { ...stripScope(), LD_PRELOAD: PRELOAD, SCOPE_EVENT_DEST: '', SCOPE_METRIC_DEST: '' };
  const fileOf = (pid: number): string | undefined => {
    try {
      return new RegExp(` (/\\S+/ctl\\.${pid})$`, 'm').exec(readFileSync(`/proc/${pid}/net/unix`, 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  };
  const started = async (): Promise<[ChildProcess, string]> => {
    const kid = spawn('sleep', ['30'], { env, stdio: 'ignore' });
    for (let i = 0; i < 200 && !fileOf(kid.pid as number); i++) await sleep(10);
    const f = fileOf(kid.pid as number);
    assert.ok(f, 'listed in /proc/<pid>/net/unix');
    return [kid, f as string];
  };
  const [a, fa] = await started();
  const st = statSync(fa);
  assert.ok(st.isSocket());
  assert.is(st.mode & 0o777, 0o600);
  assert.is(st.uid, process.geteuid?.());
  const d = statSync(dirname(fa));
  assert.is(d.mode & 0o077, 0, 'the directory is closed to group and others');
  assert.is(d.uid, process.geteuid?.());
  // killed: its file stays until the next process sweeps it
  const gone = new Promise((r) => a.once('exit', r));
  a.kill('SIGKILL');
  await gone;
  assert.ok(existsSync(fa), 'a killed process cannot remove it');
  const ran = spawnSync('sh', ['-c', 'sleep 0.3'], { env });
  assert.is(ran.status, 0);
  assert.not.ok(existsSync(fa), 'swept by the next process');
  // an exiting process removes its own; the directory goes with the last one (someone else's may stay)
  const [b, fb] = await started();
  const over = new Promise((r) => b.once('exit', r));
  b.kill('SIGTERM'); // sleep dies at once: its file stays for the next sweep
  await over;
  const bye = spawnSync('sh', ['-c', 'echo $$; sleep 0.2'], { env, encoding: 'utf8' });
  const shFile = join(dirname(fb), `ctl.${bye.stdout.trim()}`);
  assert.not.ok(existsSync(shFile), 'the exiting process removed its file');
  assert.not.ok(existsSync(fb), 'the killed one swept');
  assert.ok(!existsSync(dirname(fb)) || readdirSync(dirname(fb)).length > 0, 'no empty directory left behind');
});

test('bad requests are answered with an error', async () => {
  assert.match(String((await ask(target.pid, '{"req":"nonsense"}')).error), /^unknown request "nonsense"/);
  assert.match(String((await ask(target.pid, 'not json')).error), /^bad JSON at byte 0/);
  assert.match(String((await ask(target.pid, '{"req":"status"')).error), /^bad JSON/);
  assert.match(String((await ask(target.pid, '{"req":"update"}')).error), /needs a "config" object/);
  assert.match(String((await ask(target.pid, '{"req":"update","config":{"PATH":"/"}}')).error), /not a SCOPE_\* setting: PATH/);
  assert.match(String((await ask(target.pid, '{}')).error), /no "req"/);
});

test('update: another event file within one summary period; a metric file in a missing directory is down, retried, and up once it exists', async () => {
  const t0 = Date.now();
  const a = await ask(target.pid, JSON.stringify({ req: 'update', config: { SCOPE_EVENT_DEST: `file://${dir}/events2.json`, SCOPE_METRIC_DEST: `file://${dir}/missing/metrics.json` } }));
  assert.equal(a, { ok: true });
  const es = await waitFor('loop.txt in events2.json', 3000, () => {
    const r = existsSync(join(dir, 'events2.json')) ? events('events2.json') : [];
    return fileEvents(r, 'loop.txt').length > 0 && r;
  });
  assert.ok(Date.now() - t0 < 1500, `within a summary period of 1 s (took ${Date.now() - t0} ms)`);
  assert.ok(isStart(es[0]), 'a new event destination starts with a process-start record');
  assert.is((es[0] as Start).info.configuration.current.SCOPE_EVENT_DEST, `file://${dir}/events2.json`);
  await sleep(200);
  const n = fileEvents(events(), 'loop.txt').length;
  await sleep(400);
  assert.is(fileEvents(events(), 'loop.txt').length, n, 'the old event file gets nothing more');

  let s = await status(target.pid);
  assert.is(s.config.SCOPE_LOG_LEVEL, 'info', 'an update merges into the config in force');
  const met = s.destinations.find((d) => d.name === 'metrics')!;
  assert.is(met.state, 'down');
  assert.ok(met.attempts > 0 && met.failures > 0, JSON.stringify(met));
  assert.match(String(met.last_failure), /No such file or directory/);
  assert.ok(typeof met.last_failure_time === 'number');
  assert.is(met.connected_since, null);
  mkdirSync(join(dir, 'missing'));
  s = await waitFor('metrics connected', 8000, async () => {
    const st = await status(target.pid);
    return st.destinations.find((d) => d.name === 'metrics')?.state === 'connected' && st;
  });
  assert.ok(s.destinations.find((d) => d.name === 'metrics')!.connected_since !== null);
  await waitFor('metrics in the new directory', 3000, () => existsSync(join(dir, 'missing/metrics.json')) && readNdjson(join(dir, 'missing/metrics.json')).filter(isMetric).length > 0);
});

test('an image the attached process execs is scoped too, with the settings in force', async () => {
  const pid = Number(await target.cmd('exec /etc/hostname'));
  const es = await waitFor("cat's records", 5000, () => {
    const r = events('events2.json');
    return evts(r, 'fs.open').some((e) => e.body.pid === pid && e.body.data.file === '/etc/hostname') && r;
  });
  // the forked child writes one as selfattach, then the image it execs one as cat
  const start = es.filter(isStart).find((r) => r.info.process.pid === pid && r.info.process.procname === 'cat');
  assert.ok(start, "cat's process-start record");
  assert.is(start.info.configuration.current.SCOPE_EVENT_DEST, `file://${dir}/events2.json`, 'the updated destination');
  assert.is(start.info.configuration.current.SCOPE_LOG_LEVEL, 'info');
});

test('a library that dlopens a bare name from its RUNPATH or RPATH ($ORIGIN) finds it as without libscope, and what it loads is patched', async () => {
  const cc = (args: string[]) => {
    const r = spawnSync('cc', args, { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  };
  mkdirSync(join(dir, 'plugins'));
  writeFileSync(
    join(dir, 'plugin.c'),
    `#include <fcntl.h>
#include <unistd.h>
int plugin_write(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  int ok = write(fd, "plugged\\n", 8) == 8;
  close(fd);
  return ok;
}
`,
  );
  writeFileSync(
    join(dir, 'caller.c'),
    `#include <dlfcn.h>
int load(const char *path) {
  void *h = dlopen("libplugin.so", RTLD_NOW);
  if (!h) return -2;
  int (*f)(const char *) = (int (*)(const char *))dlsym(h, "plugin_write");
  return f ? f(path) : -3;
}
`,
  );
  cc(['-shared', '-fPIC', '-o', join(dir, 'plugins/libplugin.so'), join(dir, 'plugin.c')]);
  cc(['-shared', '-fPIC', '-Wl,--enable-new-dtags', '-Wl,-rpath,$ORIGIN/plugins', '-o', join(dir, 'runpath.so'), join(dir, 'caller.c'), '-ldl']);
  cc(['-shared', '-fPIC', '-Wl,--disable-new-dtags', '-Wl,-rpath,$ORIGIN/plugins', '-o', join(dir, 'rpath.so'), join(dir, 'caller.c'), '-ldl']);
  assert.is(await target.cmd(`call ${dir}/runpath.so load ${dir}/plugged-runpath.txt`), '1');
  assert.is(await target.cmd(`call ${dir}/rpath.so load ${dir}/plugged-rpath.txt`), '1');
  await waitFor('the plugin opening its files', 3000, () => {
    const r = events('events2.json');
    return fileEvents(r, 'plugged-runpath.txt').length > 0 && fileEvents(r, 'plugged-rpath.txt').length > 0;
  });
});

test('fork after an attach: the child reports under its own pid, with its own start record and control socket', async () => {
  const child = Number(await target.cmd('fork 1000'));
  assert.ok(child > 0);
  const s = await waitFor('the child answers', 3000, () => status(child).catch(() => undefined));
  assert.is(s.pid, child);
  assert.is(s.mode, 'attach');
  assert.is(s.scoped, true);
  const es = await waitFor('child.txt opened by the child', 3000, () => {
    const r = events('events2.json');
    return fileEvents(r, 'child.txt').length > 0 && r;
  });
  assert.ok(fileEvents(es, 'child.txt').every((e) => e.body.pid === child));
  assert.ok(
    es.filter(isStart).some((r) => r.info.process.pid === child),
    "the child's process-start record",
  );
  assert.is(await target.cmd('fds'), fdsBefore, 'nothing of ours left in the parent by the fork');
  await waitFor('the child to end', 5000, async () => (await refused(child)) === 'ECONNREFUSED');
});

test('detach: nothing more is recorded (the GOT restored), the socket still answers; reattach brings events back', async () => {
  assert.equal(await ask(target.pid, '{"req":"detach"}'), { ok: true });
  let s = await status(target.pid);
  assert.is(s.scoped, false);
  assert.is(s.got_slots, 0);
  assert.ok(
    s.destinations.every((d) => d.state === 'off'),
    JSON.stringify(s.destinations),
  );
  await sleep(300);
  const n = fileEvents(events('events2.json'), 'loop.txt').length;
  const m = readNdjson(join(dir, 'missing/metrics.json')).length;
  await sleep(1200);
  assert.is(fileEvents(events('events2.json'), 'loop.txt').length, n, 'no events after the detach');
  assert.is(readNdjson(join(dir, 'missing/metrics.json')).length, m, 'no metrics after the detach');
  assert.is(await target.cmd('tasks'), '2', 'the library stays, with its thread');
  assert.equal(await ask(target.pid, '{"req":"detach"}'), { ok: true }, 'detaching twice is fine');

  assert.equal(await ask(target.pid, JSON.stringify({ req: 'reattach', config: { SCOPE_EVENT_DEST: `file://${dir}/events3.json`, SCOPE_SUMMARY_PERIOD: '1' } })), { ok: true });
  const es = await waitFor('loop.txt in events3.json', 3000, () => {
    const r = existsSync(join(dir, 'events3.json')) ? events('events3.json') : [];
    return fileEvents(r, 'loop.txt').length > 0 && r;
  });
  assert.ok(isStart(es[0]), 'a new process-start record first');
  assert.is(es.filter(isStart).length, 1);
  s = await status(target.pid);
  assert.is(s.scoped, true);
  assert.ok(s.got_slots > 0);
  assert.is(s.config.SCOPE_METRIC_DEST, undefined, 'reattach replaces the config');
  assert.equal(
    s.destinations.map((d) => d.state),
    ['connected', 'off', 'off'],
  );
  assert.is(fileEvents(events('events2.json'), 'loop.txt').length, n, 'the old destination stays closed');
  target.quit();
});

test('a preloaded process (several libraries in LD_PRELOAD, as under scope run) answers in preload mode; detach and reattach work there too', async () => {
  const pdir = tempDir('libscope-control-pre-');
  const libz = spawnSync('sh', ['-c', 'ls /lib/*/libz.so.1 /usr/lib/*/libz.so.1 2>/dev/null | head -1'], { encoding: 'utf8' }).stdout.trim();
  const env = {
    ...stripScope(),
    LD_PRELOAD: preloadList(...[libz, LIB].filter(Boolean)),
    SCOPE_EVENT_DEST: `file://${pdir}/events.json`,
    SCOPE_SUMMARY_PERIOD: '1',
  };
  const t = new Target(env, pdir);
  await t.next('ready');
  const s = await waitFor('status', 3000, () => status(t.pid).catch(() => undefined));
  assert.is(s.mode, 'preload');
  assert.is(s.scoped, true);
  assert.is(s.got_slots, 0);
  assert.is(s.config.SCOPE_EVENT_DEST, `file://${pdir}/events.json`);
  assert.is(await t.cmd('load'), 'ok');
  assert.is(await t.attach(conf(join(pdir, 'a.conf'), { SCOPE_EVENT_DEST: `file://${pdir}/x.json` })), EALREADY, 'already scoped');
  const ev = () => readNdjson(join(pdir, 'events.json'));
  await waitFor('loop.txt', 3000, () => fileEvents(ev(), 'loop.txt').length > 0);
  assert.equal(await ask(t.pid, '{"req":"detach"}'), { ok: true });
  await sleep(300);
  const n = fileEvents(ev(), 'loop.txt').length;
  await sleep(500);
  assert.is(fileEvents(ev(), 'loop.txt').length, n, 'the wrappers pass through');
  assert.equal(await ask(t.pid, '{"req":"reattach"}'), { ok: true }, 'no config: the one in force');
  await waitFor('loop.txt again', 3000, () => fileEvents(ev(), 'loop.txt').length > n);
  assert.is(ev().filter(isStart).length, 2, 'a second process-start record');
  t.quit();
  rmSync(pdir, { recursive: true, force: true });
});

test('attached in a process of another user: that uid may control it, until it changes credentials (not dumpable): then root only', async () => {
  if (!ROOT) return;
  const ndir = tempDir('libscope-control-nobody-');
  chownSync(ndir, 65534, 65534);
  const t = new Target(loadable(), ndir, NOBODY);
  await t.next('ready');
  assert.is(await t.cmd('load'), 'ok');
  const path = conf(join(ndir, 'attach.conf'), { SCOPE_EVENT_DEST: `file://${ndir}/events.json` });
  chownSync(path, 65534, 65534); // the file of the target's own user
  assert.is(await t.attach(path), 0);
  const s = JSON.parse(askAsNobody(t.pid, '{"req":"status"}').text) as Status;
  assert.is(s.ok, true, JSON.stringify(s));
  assert.is(s.pid, t.pid);
  assert.is(s.mode, 'attach');
  assert.is(await t.cmd('undump'), '0');
  assert.equal(JSON.parse(askAsNobody(t.pid).text), {
    ok: false,
    error: `permission denied: pid ${t.pid} changed its credentials (its uid is 65534, not dumpable or set-uid); only root may control it`,
  });
  assert.is((await status(t.pid)).ok, true, 'root still may');
  t.quit();
  rmSync(ndir, { recursive: true, force: true });
});

test.after(() => {
  target.proc.kill();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
