/**
 * Blind spots (elfkind.c): a program whose calls bypass libc (Go) and a static executable exec'd by
 * a scoped process are followed from outside (interpose/supexec.c, scope-supervise beside
 * libscope), or, where they cannot be, leave a notice in the session.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '@scope/core/testing';
import { LIB, evts, isStart, prog, run, session, traced } from './lib.js';

const GO_SAYS = ' is a Go program: its file and network calls bypass libc and are not seen';
const STATIC_SAYS = ' is a static executable: libscope cannot be loaded into it, so it runs unscoped';

const messages = (rs: unknown[]): string[] => evts(rs, 'notice').map((e) => String(e.body.data['message']));

test('a program with a .go.buildinfo section (the mark go build leaves; a C fixture): its start record and one notice event say its calls are not seen', () => {
  const s = session();
  const r = run(prog('gobuildinfo'), [], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  const rs = s.events();
  const start = rs.filter(isStart);
  assert.is(start.length, 1);
  const says = prog('gobuildinfo') + GO_SAYS;
  assert.equal((start[0]?.info as { notices?: string[] } | undefined)?.notices, [says]);
  assert.equal(messages(rs), [says]);
  // what it does through libc is still recorded
  assert.ok(evts(rs, 'fs.open').some((e) => e.body.data['file'] === '/etc/hostname'));
});

test('an ordinary dynamic program has no notice and no "notices" in its start record', () => {
  const s = session();
  run('/bin/cat', ['/etc/hostname'], s.env);
  const rs = s.events();
  assert.is(messages(rs).length, 0);
  assert.is((rs.filter(isStart)[0]?.info as { notices?: unknown } | undefined)?.notices, undefined);
});

test("a static executable exec'd by a scoped sh (after a fork, and by exec) and by execvp (env) is followed from outside, each as itself", () => {
  assert.ok(existsSync(prog('static_hello')), 'static_hello was not built: no static libc (libc.a, from libc6-dev)');
  const s = session();
  const stat = prog('static_hello');
  const r = run('/bin/sh', ['-c', `${stat}; echo $?; env PATH=${dirname(stat)} static_hello; exec ${stat}`], traced(s.env));
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), 'static hello\n0\nstatic hello\nstatic hello\n', 'each ran as alone, its status seen by sh');
  const rs = s.events();
  assert.equal(messages(rs), [], 'no notice: nothing went unseen');
  const starts = rs.filter(isStart).map((e) => e.info.process);
  const hellos = starts.filter((p) => p.procname === 'static_hello');
  assert.is(hellos.length, 3, `a process-start record for each run of static_hello: ${JSON.stringify(starts.map((p) => [p.pid, p.procname]))}`);
  const top = starts.find((p) => p.procname === 'sh' && starts.filter((q) => q.pid === p.pid).length > 1);
  assert.ok(top, 'the top sh');
  assert.ok(
    hellos.some((p) => p.pid === top!.pid),
    "exec kept the pid: static_hello is the top sh's process, as it is unscoped",
  );
  const env = starts.find((p) => p.procname === 'env');
  assert.ok(env && hellos.some((p) => p.pid === env.pid), "env (scoped) execvp'd it in its own process");
});

test("a static executable exec'd where scope-supervise is not beside libscope: the notice, as before", () => {
  const dir = tempDir('libscope-alone-');
  const alone = join(dir, 'libscope.so');
  copyFileSync(LIB, alone);
  const s = session();
  s.env['LD_PRELOAD'] = String(s.env['LD_PRELOAD']).replace(LIB, alone);
  const stat = prog('static_hello');
  const r = run('/bin/sh', ['-c', `${stat}; exec ${stat}`], s.env);
  rmSync(dir, { recursive: true, force: true });
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), 'static hello\n'.repeat(2));
  assert.equal(messages(s.events()), [stat + STATIC_SAYS, stat + STATIC_SAYS]);
});

test("a dynamic Go program (the C stand-in) exec'd by a scoped sh: followed from outside, its own libscope out", () => {
  const s = session();
  const go = prog('gobuildinfo');
  const r = run('/bin/sh', ['-c', `${go}; exec ${go}`], traced(s.env));
  assert.is(r.status, 0, r.stderr.toString());
  const rs = s.events();
  assert.equal(messages(rs), [], 'no notice');
  const starts = rs
    .filter(isStart)
    .map((e) => e.info.process)
    .filter((p) => p.procname === 'gobuildinfo');
  assert.is(starts.length, 2, 'its two runs, each once');
  for (const p of starts) {
    const opens = evts(rs, 'fs.open').filter((e) => e.body.pid === p.pid && e.body.data['file'] === '/etc/hostname');
    // openat: the system call seen from outside, where its libscope would have said open
    assert.equal(
      opens.map((e) => e.body.data['op']),
      ['openat'],
      `pid ${p.pid}: its open of /etc/hostname, once, from outside`,
    );
  }
});

test("posix_spawn and posix_spawnp of a static executable: scope-supervise is spawned in its place and runs it, its status the program's", () => {
  const s = session();
  const stat = prog('static_hello');
  const r = run(prog('spawnprog'), ['spawn', stat], traced(s.env));
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), 'static hello\nstatus 0\n');
  const bad = run(prog('spawnprog'), ['spawnp', 'static_dns'], traced({ ...s.env, PATH: `${dirname(stat)}:${s.env['PATH'] ?? ''}` }));
  assert.is(bad.stdout.toString(), 'status 2\n', "static_dns without arguments exits 2: the status that comes back is the program's");
  const rs = s.events();
  assert.equal(messages(rs), [], 'no notice');
  const starts = rs.filter(isStart).map((e) => e.info.process);
  const spawner = starts.filter((p) => p.procname === 'spawnprog').map((p) => p.pid);
  const hello = starts.find((p) => p.procname === 'static_hello');
  assert.ok(hello, "static_hello's process-start record");
  assert.not.ok(spawner.includes(Number(hello!.ppid)), 'its parent is the supervisor, not spawnprog (the documented difference)');
  assert.ok(
    starts.some((p) => p.procname === 'static_dns'),
    "and static_dns's, found on PATH",
  );
});

test("under scope-supervise (SCOPE_SUPERVISED): a Go program's preloaded libscope stays out, and an exec of a static one says nothing (the supervisor follows both)", () => {
  const s = session({ SCOPE_SUPERVISED: '1' });
  const go = run(prog('gobuildinfo'), [], s.env);
  assert.is(go.status, 0, go.stderr.toString());
  assert.equal(s.events(), [], 'no record at all: the supervisor reports for it');
  const r = run('/bin/sh', ['-c', `${prog('static_hello')}`], s.env);
  assert.is(r.stdout.toString(), 'static hello\n');
  const rs = s.events();
  assert.is(messages(rs).length, 0, 'no notice');
  assert.is(rs.filter(isStart).length, 1, 'while sh, an ordinary program, is scoped as always');
});

test('a setuid program in a followed tree, where no_new_privs kept it from its ids: its start record and a notice say so', () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (to become nobody, 65534)');
  const dir = tempDir('libscope-nnp-');
  chmodSync(dir, 0o777);
  const s = session({ SCOPE_SUPERVISED: '1', SCOPE_EVENT_DEST: `file://${join(dir, 'events.json')}`, SCOPE_METRIC_ENABLE: 'false', SCOPE_LOG_DEST: `file://${join(dir, 'log')}` });
  const r = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs', '/bin/su', '--version'], s.env);
  const text = existsSync(join(dir, 'events.json')) ? readFileSync(join(dir, 'events.json'), 'utf8') : '';
  rmSync(dir, { recursive: true, force: true });
  assert.is(r.status, 0, r.stderr.toString());
  const says = '/usr/bin/su is setuid or setgid, and ran without its privileges: it was followed from outside (scope-supervise, no_new_privs)';
  const rs = text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
  assert.equal(messages(rs), [says]);
  assert.equal(
    rs.filter(isStart).map((e) => [e.info.process.procname, (e.info as { notices?: string[] }).notices]),
    [
      ['setpriv', undefined],
      ['su', [says]],
    ],
  );
});

test('exec of a dynamic program, a script, or a file that does not exist: no notice', () => {
  const s = session();
  const r = run('/bin/sh', ['-c', 'cat /etc/hostname >/dev/null; /no/such/file 2>/dev/null; exec /bin/true'], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(messages(s.events()).length, 0);
});

test.run();
