/**
 * Blind spots say so (elfkind.c): a program whose calls bypass libc (Go) and a static executable
 * exec'd by a scoped process each leave a notice in the session.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { evts, isStart, prog, run, session } from './lib.js';

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
  assert.equal((start[0]?.info as { notices?: string[] }).notices, [says]);
  assert.equal(messages(rs), [says]);
  // what it does through libc is still recorded
  assert.ok(evts(rs, 'fs.open').some((e) => e.body.data['file'] === '/etc/hostname'));
});

test('an ordinary dynamic program has no notice and no "notices" in its start record', () => {
  const s = session();
  run('/bin/cat', ['/etc/hostname'], s.env);
  const rs = s.events();
  assert.is(messages(rs).length, 0);
  assert.is((rs.filter(isStart)[0]?.info as { notices?: unknown }).notices, undefined);
});

test('a static executable exec\'d by a scoped sh (after a fork, and by exec) and by execvp (env) leaves a notice each time', () => {
  assert.ok(existsSync(prog('static_hello')), 'static_hello was not built: no static libc (libc.a, from libc6-dev)');
  const s = session();
  const stat = prog('static_hello');
  const r = run('/bin/sh', ['-c', `${stat}; env PATH=${dirname(stat)} static_hello; exec ${stat}`], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), 'static hello\n'.repeat(3));
  const rs = s.events();
  assert.equal(messages(rs), [stat + STATIC_SAYS, stat + STATIC_SAYS, stat + STATIC_SAYS]);
  // the notices come from the processes that exec'd: the forked sh, env, and the top sh
  const procs = evts(rs, 'notice').map((e) => e.body.proc).sort();
  assert.equal(procs, ['env', 'sh', 'sh']);
});

test('under scope-supervise (SCOPE_SUPERVISED): a Go program\'s preloaded libscope stays out, and an exec of a static one says nothing (the supervisor follows both)', () => {
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

test('exec of a dynamic program, a script, or a file that does not exist: no notice', () => {
  const s = session();
  const r = run('/bin/sh', ['-c', 'cat /etc/hostname >/dev/null; /no/such/file 2>/dev/null; exec /bin/true'], s.env);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(messages(s.events()).length, 0);
});

test.run();
