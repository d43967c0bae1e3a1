/**
 * Scoping a process that already runs, through the real tools: scope attach / detach / ps / inspect /
 * update against real programs started here (python3's http.server, and the small C programs of
 * libscope/test blocked in read(), accept(), nanosleep, or busy in 8 threads).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { scopeSupervisePath, testProgramDir } from '@scope/libscope';
import { envFor, freePort, newHome, parseLines, scopeBin } from './lib/harness.js';
import type { Rec } from './lib/harness.js';
import { tempDir } from '@scope/core/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function scope(args: string[], env: NodeJS.ProcessEnv, user?: string): Ran {
  const cmd = user ? 'runuser' : process.execPath;
  const argv = user ? ['-u', user, '--', process.execPath, scopeBin, ...args] : [scopeBin, ...args];
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running program with its output collected; `waitFor` resolves once a line matches. */
class Program {
  readonly child: ChildProcess;
  out = '';
  err = '';
  constructor(file: string, args: string[], options: { cwd?: string; stdin?: 'pipe' | 'ignore' } = {}) {
    this.child = spawn(file, args, { cwd: options.cwd, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    this.child.stdout?.on('data', (c: Buffer) => (this.out += c.toString()));
    this.child.stderr?.on('data', (c: Buffer) => (this.err += c.toString()));
  }
  get pid(): number {
    return this.child.pid as number;
  }
  async waitFor(re: RegExp, what: 'out' | 'err' = 'out', ms = 10_000): Promise<RegExpMatchArray> {
    const until = Date.now() + ms;
    for (;;) {
      const m = (what === 'out' ? this.out : this.err).match(re);
      if (m) return m;
      if (Date.now() > until) throw new Error(`timed out waiting for ${re} in ${what}:\n${what === 'out' ? this.out : this.err}`);
      await sleep(20);
    }
  }
  state(): string {
    try {
      return /^State:\s*(\S)/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1] ?? '?';
    } catch {
      return 'gone';
    }
  }
  stop(): void {
    this.child.kill('SIGKILL');
  }
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const statusRecord = (r: Ran): Rec => {
  const lines = parseLines(r.stdout);
  assert.is(lines.length, 1, r.stdout + r.stderr);
  return lines[0] as Rec;
};

const eventsOf = (dir: string): Rec[] => (existsSync(join(dir, 'events.json')) ? parseLines(readFileSync(join(dir, 'events.json'), 'utf8')) : []);

async function waitForEvent(dir: string, pred: (r: Rec) => boolean, ms = 10_000): Promise<Rec> {
  const until = Date.now() + ms;
  for (;;) {
    const hit = eventsOf(dir).find(pred);
    if (hit) return hit;
    if (Date.now() > until) throw new Error(`no such event in ${dir}/events.json:\n${readFileSync(join(dir, 'events.json'), 'utf8').slice(-3000)}`);
    await sleep(50);
  }
}

const psRow = (env: NodeJS.ProcessEnv, pid: number): Rec | undefined => {
  const r = scope(['ps', '--json'], env);
  assert.is(r.status, 0, r.stderr);
  return parseLines(r.stdout).find((x) => x['pid'] === pid);
};

/** The attach config files in /tmp named after pid (a pid can be reused: compare with before). */
const confFiles = (pid: number): string[] => readdirSync('/tmp').filter((f) => f.startsWith(`.scope-attach-${pid}-`));

const isHttp = (target: string) => (r: Rec) => r['type'] === 'evt' && r['body'].source === 'http.req' && r['body'].data.http_target === target;

test('attach to a python3 http.server: events only for what it does after the attach; detach stops them; reattach brings them back; ps tells the truth', async () => {
  const home = newHome();
  const env = envFor(home, { SCOPE_SUMMARY_PERIOD: '1' });
  const site = tempDir('scope-attach-site-');
  for (const f of ['before', 'after', 'detached', 'again']) writeFileSync(join(site, `${f}.txt`), `${f}\n`);
  const port = await freePort('tcp');
  const server = new Program('python3', ['-u', '-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', site]);
  try {
    await server.waitFor(/Serving HTTP/, 'out', 30_000);
    assert.equal(await get(port, '/before.txt'), { status: 200, body: 'before\n' });
    assert.is(psRow(env, server.pid), undefined, 'not listed before the attach');

    const confsBefore = confFiles(server.pid);
    const attached = scope(['attach', String(server.pid)], env);
    assert.is(attached.status, 0, attached.stderr);
    const rec = statusRecord(attached);
    assert.is(rec['verb'], 'attach');
    assert.is(rec['ok'], true);
    const session = rec['session'] as string;
    assert.is(statSync(session).mode & 0o777, 0o700);
    assert.equal(JSON.parse(readFileSync(join(session, 'session.json'), 'utf8')).pid, server.pid);
    assert.equal(psRow(env, server.pid)?.['scoped'], true);
    assert.equal(psRow(env, server.pid)?.['mode'], 'attach');
    assert.equal(
      confFiles(server.pid).filter((f) => !confsBefore.includes(f)),
      [],
      'the config file was removed',
    );

    assert.equal(await get(port, '/after.txt'), { status: 200, body: 'after\n' });
    await waitForEvent(session, isHttp('/after.txt'));
    await waitForEvent(session, (r) => r['type'] === 'evt' && r['body'].source === 'fs.open' && String(r['body'].data.file).endsWith('/after.txt'));
    const evs = eventsOf(session);
    assert.ok(evs[0]?.['info']?.process?.pid === server.pid, 'the process-start record comes first');
    assert.not.ok(
      evs.some((r) => JSON.stringify(r).includes('before.txt')),
      'nothing from before the attach',
    );

    const detached = scope(['detach', String(server.pid)], env);
    assert.is(detached.status, 0, detached.stderr);
    assert.is(statusRecord(detached)['ok'], true);
    assert.equal(psRow(env, server.pid)?.['scoped'], false);
    assert.equal(await get(port, '/detached.txt'), { status: 200, body: 'detached\n' });
    await sleep(1500);
    assert.not.ok(
      eventsOf(session).some((r) => JSON.stringify(r).includes('detached.txt')),
      'no events after detach',
    );

    const again = scope(['attach', String(server.pid)], env);
    assert.is(again.status, 0, again.stderr);
    const rec2 = statusRecord(again);
    assert.is(rec2['verb'], 'reattach');
    assert.equal(psRow(env, server.pid)?.['scoped'], true);
    assert.equal(await get(port, '/again.txt'), { status: 200, body: 'again\n' });
    await waitForEvent(rec2['session'] as string, isHttp('/again.txt'));

    // The server's own output is what it would have been: one log line per request, in order.
    await server.waitFor(/GET \/again\.txt/, 'err');
    const logged = [...server.err.matchAll(/"GET (\/\S+) HTTP\/1\.1" 200/g)].map((m) => m[1]);
    assert.equal(logged, ['/before.txt', '/after.txt', '/detached.txt', '/again.txt']);
  } finally {
    server.stop();
  }
});

const prog = (name: string) => join(testProgramDir, name);

/**
 * A copy of a test program under a name no other process has (at most 15 characters, the kernel's
 * comm), for the tests that find processes by name while other tests run theirs.
 */
function uniquelyNamed(name: string): string {
  const dir = tempDir('scope-named-');
  const file = join(dir, `t${randomBytes(6).toString('hex')}`);
  copyFileSync(prog(name), file);
  chmodSync(file, 0o755);
  return file;
}

/**
 * Test program `name` started, `ready` awaited in its output, `before` run, scope attached (status
 * 0), then `after`; the program is stopped at the end whatever happened.
 */
async function attachedRun(
  name: string,
  args: string[],
  ready: RegExp,
  steps: { before?: (p: Program) => Promise<void>; after: (p: Program) => Promise<void> },
  options: { stdin?: 'pipe' | 'ignore' } = {},
): Promise<void> {
  const env = envFor(newHome());
  const p = new Program(prog(name), args, options);
  try {
    await p.waitFor(ready);
    await steps.before?.(p);
    const r = scope(['attach', String(p.pid)], env);
    assert.is(r.status, 0, r.stderr);
    await steps.after(p);
  } finally {
    p.stop();
  }
}

test('attach to a process blocked in read(): it goes on echoing', async () => {
  await attachedRun(
    'attach_read',
    [],
    /ready/,
    {
      before: async (p) => {
        p.child.stdin?.write('one\n');
        await p.waitFor(/echo: one/);
      },
      after: async (p) => {
        p.child.stdin?.write('two\n');
        await p.waitFor(/echo: two/);
        assert.is(p.state() === 'gone', false);
      },
    },
    { stdin: 'pipe' },
  );
});

test('attach to a process blocked in accept(): the next connection is served', async () => {
  const port = await freePort('tcp');
  const hello = () =>
    new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (c) => (got += c.toString()));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
  await attachedRun('attach_accept', [String(port)], /ready/, {
    before: async () => assert.is(await hello(), 'hello 1\n'),
    after: async () => assert.is(await hello(), 'hello 2\n'),
  });
});

test('attach to a process in nanosleep: ticks go on, numbered in order', async () => {
  await attachedRun('attach_sleep', [], /tick 3\n/, {
    after: async (p) => {
      const at = Number((p.out.match(/tick (\d+)\n/g) ?? []).length);
      await p.waitFor(new RegExp(`tick ${at + 5}\\n`));
      const ticks = [...p.out.matchAll(/tick (\d+)\n/g)].map((m) => Number(m[1]));
      ticks.forEach((t, i) => assert.is(t, ticks[0]! + i, 'consecutive ticks'));
    },
  });
});

test('attach to a process with 8 busy threads: the totals keep rising, the threads are all there', async () => {
  await attachedRun('attach_threads', [], /total \d+\n/, {
    after: async (p) => {
      const before = p.out.length;
      await sleep(600);
      const totals = [...p.out.slice(before).matchAll(/total (\d+)\n/g)].map((m) => Number(m[1]));
      assert.ok(totals.length >= 3, p.out.slice(before));
      for (let i = 1; i < totals.length; i++) assert.ok(totals[i]! > totals[i - 1]!, `rising: ${totals}`);
      const threads = readdirSync(`/proc/${p.pid}/task`).length;
      assert.ok(threads >= 9, `threads: ${threads}`);
    },
  });
});

test('inspect shows a destination that was down and then came up; update moves the events within a summary period', async () => {
  const home = newHome();
  const env = envFor(home, { SCOPE_SUMMARY_PERIOD: '1' });
  const missing = join(tempDir('scope-dest-'), 'later');
  const p = new Program(prog('attach_sleep'), []);
  try {
    await p.waitFor(/tick 1\n/);
    const r = scope(['attach', String(p.pid)], env);
    assert.is(r.status, 0, r.stderr);
    // An attach whose destination is down fails (below); a destination that goes down later is inspect's.
    assert.is(scope(['update', '-e', `file://${missing}/events.json`, String(p.pid)], env).status, 0);
    await sleep(1500);
    let ins = scope(['inspect', '--json', String(p.pid)], env);
    assert.is(ins.status, 0, ins.stderr);
    let dest = (statusRecord(ins)['destinations'] as Rec[]).find((d) => d['name'] === 'events') as Rec;
    assert.is(dest['state'], 'down', JSON.stringify(dest));
    assert.ok(Number(dest['attempts']) >= 1 && typeof dest['last_failure'] === 'string', JSON.stringify(dest));
    mkdirSync(missing);
    const until = Date.now() + 8000;
    do {
      await sleep(250);
      ins = scope(['inspect', '--json', String(p.pid)], env);
      dest = (statusRecord(ins)['destinations'] as Rec[]).find((d) => d['name'] === 'events') as Rec;
    } while (dest['state'] !== 'connected' && Date.now() < until);
    assert.is(dest['state'], 'connected', JSON.stringify(dest));
    const people = scope(['inspect', '--pretty', String(p.pid)], env);
    assert.match(people.stdout, /events\s+connected since .*last failure: /);

    const moved = join(tempDir('scope-moved-'), 'events.json');
    const u = scope(['update', '-e', `file://${moved}`, String(p.pid)], env);
    assert.is(u.status, 0, u.stderr);
    const t0 = Date.now();
    while (!(existsSync(moved) && readFileSync(moved, 'utf8').includes('"proc":"attach_sleep"')) && Date.now() - t0 < 5000) await sleep(50);
    assert.ok(existsSync(moved) && readFileSync(moved, 'utf8').length > 0, 'records in the new destination');
    assert.ok(Date.now() - t0 < 2500, `within a summary period (1 s) and a nap: ${Date.now() - t0} ms`);
  } finally {
    p.stop();
  }
});

/** The targets of a process's descriptors (what its own table holds). */
const fdTargets = (pid: number): string[] =>
  readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });

test('root attaches to a process running as nobody: its fs events reach the session, which stays root-only; detach and reattach too', async () => {
  assert.is(process.getuid?.(), 0, 'this test needs root: it attaches to a process of another user');
  const env = envFor(newHome());
  // Started unscoped, as nobody: setpriv execs the program, which keeps the pid.
  const p = new Program('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', prog('attach_fsloop'), '/etc/hostname']);
  try {
    await p.waitFor(/read 2\n/);
    assert.match(readFileSync(`/proc/${p.pid}/status`, 'utf8'), /^Uid:\s+65534\s/m);
    const r = scope(['attach', String(p.pid)], env);
    assert.is(r.status, 0, r.stderr);
    const session = statusRecord(r)['session'] as string;
    // Nothing loosened: the directory and every file in it are root's alone.
    assert.is(statSync(session).mode & 0o777, 0o700);
    for (const f of ['events.json', 'metrics.json', 'libscope.log']) {
      const st = statSync(join(session, f));
      assert.ok(st.uid === 0 && (st.mode & 0o777) === 0o600, `${f}: uid ${st.uid} mode ${(st.mode & 0o777).toString(8)}`);
    }
    const isRead = (e: Rec) => e['type'] === 'evt' && e['body'].source === 'fs.open' && e['body'].data.file === '/etc/hostname' && e['body'].pid === p.pid;
    await waitForEvent(session, isRead);
    assert.equal(eventsOf(session)[0]?.['info']?.process?.uid, 65534, 'its process-start record comes first');
    // The handed descriptors live in libscope's reporting thread, not in the app's table.
    assert.not.ok(
      fdTargets(p.pid).some((t) => t.startsWith(session)),
      fdTargets(p.pid).join(' '),
    );

    assert.is(scope(['detach', String(p.pid)], env).status, 0);
    const again = scope(['attach', String(p.pid)], env);
    assert.is(again.status, 0, again.stderr);
    assert.is(statusRecord(again)['verb'], 'reattach');
    const second = statusRecord(again)['session'] as string;
    assert.is.not(second, session);
    await waitForEvent(second, isRead);
    assert.is(scope(['detach', String(p.pid)], env).status, 0);
  } finally {
    p.stop();
  }
});

test("root attaches to a nobody process that forks a reader each time: the children's fs events reach the root-only session too", async () => {
  assert.is(process.getuid?.(), 0, 'this test needs root: it attaches to a process of another user');
  const env = envFor(newHome());
  const p = new Program('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', prog('attach_fsloop'), '/etc/hostname', 'fork']);
  try {
    await p.waitFor(/read 2\n/);
    const r = scope(['attach', String(p.pid)], env);
    assert.is(r.status, 0, r.stderr);
    const session = statusRecord(r)['session'] as string;
    const childRead = (e: Rec) => e['type'] === 'evt' && e['body'].source === 'fs.open' && e['body'].data.file === '/etc/hostname' && e['body'].pid !== p.pid;
    await waitForEvent(session, childRead);
    const child = eventsOf(session).find(childRead);
    assert.is(
      eventsOf(session).find((e) => e['info']?.process?.pid === child?.['body'].pid)?.['info']?.process?.ppid,
      p.pid,
      'a forked child of the attached process, with its own process-start record',
    );
    assert.is(statSync(session).mode & 0o777, 0o700);
    assert.is(scope(['detach', String(p.pid)], env).status, 0);
  } finally {
    p.stop();
  }
});

test('an attach that cannot record says so and fails: a destination down, or its session unwritable; the process is left unscoped and no session is left', async () => {
  const home = newHome();
  const env = envFor(home);
  const p = new Program(prog('attach_sleep'), []);
  try {
    await p.waitFor(/tick 1\n/);
    const port = await freePort('tcp'); // nothing listens there
    const down = scope(['attach', '-e', `tcp://127.0.0.1:${port}`, String(p.pid)], env);
    assert.is(down.status, 1, down.stdout + down.stderr);
    assert.is(down.stdout, '', 'no status record: it did not attach');
    assert.match(down.stderr, new RegExp(`scope-attach: pid ${p.pid} cannot record: its events destination tcp://127\\.0\\.0\\.1:${port} is down: .*refused.*; detached it again`));
    assert.equal(psRow(env, p.pid)?.['scoped'], false);
    const history = join(home, 'history');
    assert.equal(existsSync(history) ? readdirSync(history) : [], [], 'no session left behind');

    const missing = scope(['attach', '-m', 'file:///nonexistent-dir-scope/metrics.json', String(p.pid)], env);
    assert.is(missing.status, 1);
    assert.match(missing.stderr, /its metrics destination file:\/\/\/nonexistent-dir-scope\/metrics\.json is down: open .*No such file or directory/);

    // A SCOPE_HOME that cannot be made (under a regular file: even root cannot).
    const file = join(home, 'a-file');
    writeFileSync(file, '');
    const ro = scope(['attach', String(p.pid)], envFor(join(file, 'home')));
    assert.is(ro.status, 1);
    assert.match(ro.stderr, /scope-attach: cannot create the session history/);
    assert.not.equal(p.state(), 'gone');
  } finally {
    p.stop();
  }
});

test('after an attach the app may close and dup2 over every descriptor: its events still come', async () => {
  const env = envFor(newHome());
  const work = tempDir('scope-chaos-');
  const p = new Program(prog('attach_chaos'), [work], { stdin: 'pipe' });
  try {
    await p.waitFor(/ready/);
    const r = scope(['attach', String(p.pid)], env);
    assert.is(r.status, 0, r.stderr);
    const session = statusRecord(r)['session'] as string;
    p.child.stdin?.write('go\n');
    await p.waitFor(/done 1/);
    p.child.stdin?.write('go\n');
    await p.waitFor(/done 2/);
    // The last files of round 2 were opened after every descriptor had been closed and dup2'd over.
    await waitForEvent(session, (e) => e['type'] === 'evt' && e['body'].source === 'fs.open' && String(e['body'].data.file).endsWith('/after-dup-2-3'));
    await waitForEvent(session, (e) => e['type'] === 'evt' && e['body'].source === 'fs.open' && String(e['body'].data.file).endsWith('/done-2'));
    assert.is(readFileSync(join(work, 'done-2'), 'utf8'), 'files=18\n');
    const ins = scope(['inspect', '--json', String(p.pid)], env);
    assert.is(statusRecord(ins)['scoped'], true);
  } finally {
    p.stop();
  }
});

const USER = 'scope-e2e-other';

test('another user cannot inspect, update or detach a root-owned scoped process; root can', async () => {
  if (spawnSync('id', [USER]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { encoding: 'utf8' });
    assert.is(made.status, 0, made.stderr);
  }
  const home = newHome();
  const theirHome = tempDir('scope-other-home-');
  chmodSync(theirHome, 0o777);
  const env = envFor(home);
  const theirEnv = envFor(theirHome);
  const p = new Program(prog('attach_sleep'), []);
  try {
    await p.waitFor(/tick 1\n/);
    assert.is(scope(['attach', String(p.pid)], env).status, 0);
    for (const verb of [
      ['inspect', '--json'],
      ['update', '-e', 'file:///tmp/x.json'],
      ['detach', '--json'],
    ]) {
      const r = scope([...verb, String(p.pid)], theirEnv, USER);
      assert.is(r.status, 1, `${verb[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, /permission denied/, `${verb[0]}: ${r.stdout}${r.stderr}`);
    }
    const attachAsOther = scope(['attach', String(p.pid)], theirEnv, USER);
    assert.is(attachAsOther.status, 1);
    assert.match(attachAsOther.stderr, /runs as root; attaching to another user's process needs root/);
    const ins = scope(['inspect', '--json', String(p.pid)], env);
    assert.is(ins.status, 0, ins.stderr);
    assert.is(statusRecord(ins)['scoped'], true);
    assert.is(scope(['detach', String(p.pid)], env).status, 0);
    assert.not.equal(p.state(), 't', 'not left stopped');
  } finally {
    p.stop();
  }
});

/** As USER: binds "@scope/<pid>" (exact and padded) and answers every connection with a fake status. */
const SQUATTER = `
import json, socket, sys, threading
pid = int(sys.argv[1])
fake = (json.dumps({"ok": True, "pid": pid, "scoped": True, "mode": "attach", "version": "0.1.0",
                    "config": {"SCOPE_EVENT_DEST": "file:///fake/events.json"}, "destinations": []}) + "\\n").encode()
def serve(s):
    while True:
        c, _ = s.accept()
        c.settimeout(1)
        try:
            data = c.recv(65536)
        except OSError:
            data = b""
        print("got", data.decode(errors="replace").strip() or "(nothing)", flush=True)
        try:
            c.sendall(fake)
        except OSError:
            pass
        c.close()
socks = []
for padded in (False, True):
    name = ("\\0scope/%d" % pid).encode()
    s = socket.socket(socket.AF_UNIX)
    s.bind(name.ljust(108, b"\\0") if padded else name)
    s.listen(64)
    socks.append(s)
    threading.Thread(target=serve, args=(s,), daemon=True).start()
print("bound", flush=True)
threading.Event().wait()
`;

/** As USER: keeps connecting to "@name" for `seconds`, holding up to 16 connections, saying nothing. */
const FLOODER = `
import errno, socket, sys, time
name = b"\\0" + sys.argv[1].encode()
end = time.time() + float(sys.argv[2])
if len(sys.argv) > 3:
    f = socket.socket(socket.AF_UNIX)
    try:
        f.connect(sys.argv[3])
        print("file connected", flush=True)
    except OSError as e:
        print("file", errno.errorcode.get(e.errno, e.errno), flush=True)
    f.close()
held, made = [], 0
while time.time() < end:
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    try:
        s.connect(name)
        made += 1
        held.append(s)
    except OSError:
        s.close()
    if len(held) > 16:
        held.pop(0).close()
print("made", made, flush=True)
`;

test("another user squatting @scope/<pid> and flooding the real socket: root's tools talk only to the process itself, never to the squatter, and are not starved", async () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (runuser, attach to a process started here)');
  if (spawnSync('id', [USER]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { encoding: 'utf8' });
    assert.is(made.status, 0, made.stderr);
  }
  const home = newHome();
  const env = envFor(home);
  const dir = tempDir('scope-squat-');
  const p = new Program(prog('attach_sleep'), []);
  // setpriv execs: the pid is python's own, to be killed by the test
  const asOther = ['--reuid', USER, '--regid', spawnSync('id', ['-g', USER], { encoding: 'utf8' }).stdout.trim(), '--clear-groups', '/usr/bin/python3', '-c'];
  const squatter = new Program('setpriv', [...asOther, SQUATTER, String(p.pid)]);
  try {
    await p.waitFor(/tick 1\n/);
    await squatter.waitFor(/^bound\n/m, 'out', 10_000).catch((e: Error) => assert.unreachable(`${e.message}\n${squatter.err}`));

    // the name is bound, but not by the process: it is not scoped, and nothing is sent to the squatter
    assert.is(psRow(env, p.pid), undefined, 'ps leaves it out');
    const ins0 = scope(['inspect', '--json', String(p.pid)], env);
    assert.is(ins0.status, 1, ins0.stdout + ins0.stderr);
    assert.match(ins0.stdout + ins0.stderr, new RegExp(`held by pid \\d+ \\(uid \\d+\\), not by pid ${p.pid}`));

    // root attaches: libscope finds its name taken and listens on another one, which the tools find
    const att = scope(['attach', '--json', String(p.pid)], env);
    assert.is(att.status, 0, att.stdout + att.stderr);
    const session = statusRecord(att)['session'] as string;
    const log = () => (existsSync(join(session, 'libscope.log')) ? readFileSync(join(session, 'libscope.log'), 'utf8') : '');
    const names = readFileSync('/proc/net/unix', 'utf8').match(new RegExp(` @scope/${p.pid}\\.[0-9a-f]{16}$`, 'gm')) ?? [];
    assert.is(names.length, 1, `the library's own name in /proc/net/unix: ${names.join(',')}`);
    const realName = (names[0] as string).trim().slice(1);
    const ins = scope(['inspect', '--json', String(p.pid)], env);
    assert.is(ins.status, 0, ins.stderr);
    const st = statusRecord(ins);
    assert.is(st['scoped'], true);
    assert.ok(String(st['config']?.['SCOPE_EVENT_DEST'] ?? JSON.stringify(st)).startsWith(`file://${session}`), `the real config, not the squatter's: ${ins.stdout}`);
    const row = psRow(env, p.pid);
    assert.is(row?.['scoped'], true, JSON.stringify(row));

    // update reaches the process: its config in force changes
    const upd = scope(['update', '--json', '-e', `file://${dir}/moved.json`, String(p.pid)], env);
    assert.is(upd.status, 0, upd.stdout + upd.stderr);
    const st2 = statusRecord(scope(['inspect', '--json', String(p.pid)], env));
    assert.is(st2['config']?.['SCOPE_EVENT_DEST'], `file://${dir}/moved.json`, JSON.stringify(st2));

    // the socket file: 0600 in a directory closed to others, so only root and the process's uid
    // can even connect to it
    const files = readFileSync(`/proc/${p.pid}/net/unix`, 'utf8').match(new RegExp(` (/\\S+/ctl\\.${p.pid})$`, 'm'));
    assert.ok(files, 'the control socket file is listed');
    const file = (files as RegExpMatchArray)[1] as string;
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.ok(statSync(file).isSocket());
    assert.is(statSync(dirname(file)).mode & 0o077, 0, 'its directory is closed to others');

    // another user floods the real name as fast as it can, from two processes, keeping the backlog
    // full: root's requests all succeed (through the file the flood cannot reach)
    const flooders = [new Program('setpriv', [...asOther, FLOODER, realName, '4', file]), new Program('setpriv', [...asOther, FLOODER, realName, '4'])];
    await flooders[0]!.waitFor(/^file /m, 'out', 10_000);
    assert.match(flooders[0]!.out, /^file EACCES$/m, 'the other user cannot connect to the file');
    await sleep(300);
    for (let i = 0; i < 8; i++) {
      const r = scope(['inspect', '--json', String(p.pid)], env);
      assert.is(r.status, 0, `inspect ${i} during the flood: ${r.stdout}${r.stderr}`);
      assert.is(statusRecord(r)['scoped'], true);
    }
    let made = 0;
    for (const f of flooders) {
      await f.waitFor(/^made (\d+)\n/m, 'out', 15_000);
      made += Number(/^made (\d+)/m.exec(f.out)?.[1]);
    }
    assert.ok(made > 50, `the flood made ${made} connections`);
    const refusals = log().match(/control socket: refused/g) ?? [];
    assert.ok(refusals.length >= 1 && refusals.length <= 2, `refusals logged once a minute at most, with a count:\n${log()}`);
    assert.match(log(), new RegExp(`control socket @scope/${p.pid}: Address already in use \\(bound by another process\\); listening on @scope/${p.pid}\\.[0-9a-f]{16} instead`));

    // detach really detaches
    const det = scope(['detach', '--json', String(p.pid)], env);
    assert.is(det.status, 0, det.stdout + det.stderr);
    const st3 = statusRecord(scope(['inspect', '--json', String(p.pid)], env));
    assert.is(st3['scoped'], false, JSON.stringify(st3));
    // the tools connected to it to read who listens, and sent it nothing
    assert.not.match(squatter.out, /^got (?!\(nothing\)$)/m, `the squatter was sent nothing:\n${squatter.out}`);
  } finally {
    squatter.stop();
    p.stop();
  }
});

test('attach to a node https server: its TLS requests from then on, through SSL_read/SSL_write hooked at their entry; detach unhooks them', async () => {
  const home = newHome();
  const env = envFor(home);
  const dir = tempDir('scope-attach-tls-');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { encoding: 'utf8' },
  );
  assert.is(made.status, 0, `openssl req (the libscope suite's TLS tests need it too): ${made.stderr}`);
  const ca = readFileSync(join(dir, 'cert.pem'));
  const script = `const https = require('https'), fs = require('fs');
const srv = https.createServer({ key: fs.readFileSync(${JSON.stringify(join(dir, 'key.pem'))}), cert: fs.readFileSync(${JSON.stringify(join(dir, 'cert.pem'))}) },
  (q, res) => res.end('node tls ' + q.url + '\\n'));
srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));`;
  const p = new Program(process.execPath, ['-e', script]);
  const fetch = (port: number, path: string) =>
    new Promise<string>((resolve, reject) => {
      const q = httpsRequest({ host: '127.0.0.1', port, path, ca, agent: false }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(b));
      });
      q.on('error', reject);
      q.end();
    });
  try {
    const port = Number((await p.waitFor(/port (\d+)\n/))[1]);
    assert.is(await fetch(port, '/before'), 'node tls /before\n');
    // SSL_read's first bytes in node's memory, when node carries OpenSSL itself (exports SSL_read)
    const nm = spawnSync('nm', ['-D', '--defined-only', `/proc/${p.pid}/exe`], { encoding: 'utf8' });
    const off = /^([0-9a-f]+) T SSL_read$/m.exec(nm.stdout ?? '')?.[1];
    const own = off !== undefined && !readFileSync(`/proc/${p.pid}/maps`, 'utf8').includes('libssl.so');
    const exe = readlinkSync(`/proc/${p.pid}/exe`);
    // a position-independent executable (ELF type 3) is where its first mapping is; another at its own addresses
    const head = Buffer.alloc(18);
    const efd = openSync(exe, 'r');
    readSync(efd, head, 0, 18, 0);
    closeSync(efd);
    const pie = head.readUInt16LE(16) === 3;
    const base = pie
      ? parseInt(
          readFileSync(`/proc/${p.pid}/maps`, 'utf8')
            .split('\n')
            .find((l) => l.endsWith(exe) && / 00000000 /.test(l))!
            .split('-')[0]!,
          16,
        )
      : 0;
    const code = () => {
      const fd = openSync(`/proc/${p.pid}/mem`, 'r');
      try {
        const b = Buffer.alloc(8);
        readSync(fd, b, 0, 8, base + parseInt(off!, 16));
        return b.toString('hex');
      } finally {
        closeSync(fd);
      }
    };
    const before = own ? code() : '';
    const r = scope(['attach', String(p.pid)], env);
    assert.is(r.status, 0, r.stderr);
    const dirOf = String((JSON.parse(r.stdout) as Rec)['session']);
    assert.is(await fetch(port, '/during'), 'node tls /during\n');
    const seen = await waitForEvent(dirOf, isHttp('/during'));
    assert.is(seen['body'].data.http_scheme, 'https');
    if (own) assert.is(code().slice(0, 2), 'e9', "SSL_read starts with the hook's jmp");
    const d = scope(['detach', String(p.pid)], env);
    assert.is(d.status, 0, d.stderr);
    if (own) assert.is(code(), before, 'and is as it was after the detach');
    assert.is(await fetch(port, '/after'), 'node tls /after\n', 'it serves on after the detach');
    await sleep(500);
    assert.equal(
      eventsOf(dirOf)
        .filter((e) => e['body']?.source === 'http.req')
        .map((e) => e['body'].data.http_target),
      ['/during'],
      'the request during the attach only',
    );
  } finally {
    p.stop();
  }
});

test('attach to a running static program with threads: followed from outside, its opens its own; detach ends the reporting, not the program; it ends as it would', async () => {
  const home = newHome();
  const env = envFor(home);
  const work = tempDir('scope-outside-');
  const file = join(work, 'touched');
  writeFileSync(file, 'x');
  const p = new Program(prog('static_loop'), [file]);
  try {
    await p.waitFor(/tick 2\n/);
    const r = scope(['attach', String(p.pid)], env);
    assert.is(r.status, 0, r.stderr);
    const rec = JSON.parse(r.stdout) as Rec;
    assert.equal([rec['verb'], rec['ok'], rec['pid']], ['attach', true, p.pid]);
    const said = new RegExp(`pid ${p.pid} \\(.*static_loop\\) is a static executable, followed from outside \\(scope-supervise, pid (\\d+)\\)`).exec(r.stderr);
    assert.ok(said, r.stderr);
    const supervisor = Number(said![1]);
    assert.is(Number(/^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1]), supervisor, 'the supervisor traces it');
    const events = join(String(rec['session']), 'events.json');
    const opens = () => parseLines(readFileSync(events, 'utf8')).filter((e) => e['body']?.source === 'fs.open' && e['body'].data.file === file);
    for (let i = 0; i < 100 && opens().length < 10; i++) await sleep(50);
    const seen = opens();
    assert.ok(seen.length >= 10, `its threads' opens: ${seen.length}`);
    assert.ok(seen.every((e) => e['body'].pid === p.pid && e['body'].proc === 'static_loop' && e['body'].data.op === 'openat'));
    const starts = parseLines(readFileSync(events, 'utf8')).filter((e) => e['format'] === 'ndjson');
    assert.equal(
      starts.map((e) => e['info'].process.pid),
      [p.pid],
      'one process-start record, its own',
    );
    const ticks = Number(/tick (\d+)\n$/.exec(p.out)?.[1]);
    await p.waitFor(new RegExp(`tick ${ticks + 3}\n`));

    const d = scope(['detach', String(p.pid)], env);
    assert.is(d.status, 0, d.stderr);
    await sleep(300);
    const after = opens().length;
    await sleep(500);
    assert.is(opens().length, after, 'nothing more after the detach');
    const again = scope(['attach', String(p.pid)], env);
    assert.is(again.status, 1);
    assert.match(again.stderr, /cannot be attached again until it restarts/);
    const more = Number(/tick (\d+)\n$/.exec(p.out)?.[1]);
    await p.waitFor(new RegExp(`tick ${more + 2}\n`));

    const exited = new Promise<number | null>((res) => p.child.once('exit', (code) => res(code)));
    p.child.kill('SIGTERM');
    assert.is(await exited, 0, 'its own SIGTERM handler ended it, as without scope');
    for (let i = 0; i < 100 && existsSync(`/proc/${supervisor}`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${supervisor}/status`, 'utf8')); i++) await sleep(50);
    assert.ok(!existsSync(`/proc/${supervisor}/exe`) || /^State:\s*Z/m.test(readFileSync(`/proc/${supervisor}/status`, 'utf8')), 'the supervisor ended with it');
  } finally {
    p.stop();
  }
});

test('refusals: no such pid, a program already followed from outside, already scoped, a process that dies during the attach, a name with several processes', async () => {
  const env = envFor(newHome());
  const none = scope(['attach', '4194000'], env);
  assert.is(none.status, 1);
  assert.match(none.stderr, /scope-attach: no process with pid 4194000/);

  const work = tempDir('scope-refuse-');
  // a static program under scope-supervise already (as scope run leaves it): its tracer cannot change
  const followed = new Program(scopeSupervisePath(), ['--', prog('static_loop'), join(work, 'x')]);
  try {
    await followed.waitFor(/tick 1\n/);
    const target = Number(readFileSync(`/proc/${followed.pid}/task/${followed.pid}/children`, 'utf8').trim());
    const r = scope(['attach', String(target)], env);
    assert.is(r.status, 1);
    assert.match(r.stderr, new RegExp(`pid ${target} is followed by scope-supervise \\(pid ${followed.pid}\\) already`));
  } finally {
    followed.stop();
  }

  const named = uniquelyNamed('attach_sleep');
  const p = new Program(named, []);
  const q = new Program(named, []);
  try {
    await p.waitFor(/tick 1\n/);
    await q.waitFor(/tick 1\n/);
    const many = scope(['attach', basename(named)], env);
    assert.is(many.status, 2, many.stderr);
    assert.match(many.stderr, new RegExp(`2 processes are named "${basename(named)}"`));
    assert.ok(many.stderr.includes(String(p.pid)) && many.stderr.includes(String(q.pid)), many.stderr);
    assert.match(many.stderr, /ID\s+PID\s+USER\s+SCOPED\s+COMMAND/);

    assert.is(scope(['attach', String(p.pid)], env).status, 0);
    const twice = scope(['attach', String(p.pid)], env);
    assert.is(twice.status, 1);
    assert.match(twice.stderr, /is already scoped/);
  } finally {
    p.stop();
    q.stop();
  }

  // A library whose constructor ends the process: the target dies inside the injected dlopen.
  writeFileSync(join(work, 'die.c'), '#include <unistd.h>\n__attribute__((constructor)) static void die(void){_exit(7);}\n');
  const so = spawnSync('cc', ['-shared', '-fPIC', '-o', join(work, 'libscope.so'), join(work, 'die.c')], { encoding: 'utf8' });
  assert.is(so.status, 0, so.stderr);
  const d = new Program(prog('attach_sleep'), []);
  try {
    await d.waitFor(/tick 1\n/);
    const confsBefore = confFiles(d.pid);
    const r = scope(['attach', '--librarypath', join(work, 'libscope.so'), String(d.pid)], env);
    assert.is(r.status, 1);
    assert.match(r.stderr, new RegExp(`pid ${d.pid} exited while scope was attaching`));
    assert.equal(
      confFiles(d.pid).filter((f) => !confsBefore.includes(f)),
      [],
      'its config file was removed though the target is gone',
    );
    await sleep(100);
    assert.ok(d.child.exitCode === 7 || d.state() === 'gone' || d.state() === 'Z', `state ${d.state()}`);
  } finally {
    d.stop();
  }
});

test('a name with several processes, on a terminal: the numbered list and a prompt; the ID chosen is attached', async () => {
  const env = envFor(newHome());
  const named = uniquelyNamed('attach_sleep');
  const p = new Program(named, []);
  const q = new Program(named, []);
  try {
    await p.waitFor(/tick 1\n/);
    await q.waitFor(/tick 1\n/);
    // script(1) gives the tool a terminal; the answer is typed once the prompt is there.
    const cmd = `node ${scopeBin} attach ${basename(named)}`;
    const r = spawnSync('bash', ['-c', `(sleep 1.5; echo 2) | script -qec '${cmd}' /dev/null`], { env, encoding: 'utf8', timeout: 30_000 });
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ID\s+PID\s+USER\s+SCOPED\s+COMMAND/);
    assert.match(r.stdout, /Select an ID from the list/);
    const second = Math.max(p.pid, q.pid) === q.pid ? q : p; // the list is in pid order
    assert.match(r.stdout, new RegExp(`attached to pid ${second.pid} `));
    assert.equal(psRow(env, second.pid)?.['scoped'], true);
    assert.equal(psRow(env, (second === p ? q : p).pid), undefined);
  } finally {
    p.stop();
    q.stop();
  }
});

test.run();
