// SCOPE_FILTER in libscope (tools/scope-filter/README.md): real programs under the library with
// filters in their environment; the records they leave, and their matchedScopes / matchedPolicies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { evts, isEvt, isMetric, isStart, prog, run, session } from './lib.js';
import type { Evt, Session, Start } from './lib.js';
import { runAsync, startHttp } from './servers.js';

const sh = (script: string, env: NodeJS.ProcessEnv) => run('sh', ['-c', script], env);
const filtered = (filter: string, names?: string): Session => session(names === undefined ? { SCOPE_FILTER: filter } : { SCOPE_FILTER: filter, SCOPE_FILTER_NAMES: names });
const procs = (es: Evt[]): string[] => [...new Set(es.map((e) => e.body.proc))].sort();
const scopesOf = (es: Evt[]): string[] => [...new Set(es.map((e) => String(e.body.matchedScopes)))].sort();

test('a process no scope can match writes no events, but its process-start record and its metrics', () => {
  const s = filtered('1:comm!=cat');
  assert.is(run('cat', ['/etc/hostname'], s.env).status, 0);
  const events = s.events();
  assert.is(evts(events).length, 0, 'no event records');
  const starts = events.filter(isStart);
  assert.is(starts.length, 1);
  assert.is(starts[0]?.info.process.procname, 'cat');
  assert.not.ok('matchedScopes' in (starts[0] as object), 'no scope names start.msg: the start record is as always');
  const names = new Set(
    s
      .metrics()
      .filter(isMetric)
      .map((m) => m.body._metric),
  );
  for (const n of ['proc.start', 'proc.cpu', 'fs.open', 'fs.read']) assert.ok(names.has(n), `metric ${n}`);
  assert.is(s.log(), '', 'nothing to complain about');
  rmSync(s.dir, { recursive: true });
});

test('1:event=fs.open keeps only fs.open, each with matchedScopes "1" and matchedPolicies ["1"]', () => {
  const s = filtered('1:event=fs.open');
  assert.is(sh('cat /etc/hostname; ls / >/dev/null', s.env).status, 0);
  const es = evts(s.events());
  assert.ok(
    es.some((e) => e.body.data.file === '/etc/hostname'),
    'cat opened /etc/hostname',
  );
  assert.equal([...new Set(es.map((e) => e.body.source))], ['fs.open']);
  for (const e of es) {
    assert.is(e.body.matchedScopes, '1');
    assert.equal(e.body.matchedPolicies, ['1']);
  }
  rmSync(s.dir, { recursive: true });
});

test('scopes 3 and 9 both matching give "260" and ["3","9"]; one alone its own bit; names from SCOPE_FILTER_NAMES', () => {
  const s = filtered('3:comm=cat;9:event=fs.*');
  assert.is(run('cat', ['/etc/hostname'], s.env).status, 0);
  const es = evts(s.events());
  const open = evts(es, 'fs.open').find((e) => e.body.data.file === '/etc/hostname');
  assert.is(open?.body.matchedScopes, '260');
  assert.equal(open?.body.matchedPolicies, ['3', '9']);
  const out = evts(es, 'stdout');
  assert.ok(out.length > 0);
  for (const e of out) assert.equal([e.body.matchedScopes, e.body.matchedPolicies], ['4', ['3']]);

  const named = filtered('3:comm=cat;9:event=fs.*', '9=fs-all;3=the\\;cats');
  assert.is(run('cat', ['/etc/hostname'], named.env).status, 0);
  const nes = evts(named.events());
  assert.equal(evts(nes, 'fs.open').find((e) => e.body.data.file === '/etc/hostname')?.body.matchedPolicies, ['the;cats', 'fs-all']);
  assert.equal(evts(nes, 'stdout')[0]?.body.matchedPolicies, ['the;cats']);
  rmSync(s.dir, { recursive: true });
  rmSync(named.dir, { recursive: true });
});

test('scope 64 is the top bit: "9223372036854775808"', () => {
  const s = filtered('64:comm=cat');
  assert.is(run('cat', ['/etc/hostname'], s.env).status, 0);
  const es = evts(s.events());
  assert.ok(es.length > 0);
  assert.equal(scopesOf(es), ['9223372036854775808']);
  assert.equal(es[0]?.body.matchedPolicies, ['64']);
  rmSync(s.dir, { recursive: true });
});

test('fs.open.data.file=/etc/* constrains fs.open only: other opens go, other events stay', () => {
  const s = filtered('1:fs.open.data.file=/etc/*');
  assert.is(run('cat', ['/etc/hostname', '/proc/version'], s.env).status, 0);
  const es = evts(s.events());
  const opens = evts(es, 'fs.open').map((e) => String(e.body.data.file));
  assert.ok(opens.includes('/etc/hostname'), opens.join(','));
  assert.ok(
    opens.every((f) => f.startsWith('/etc/')),
    opens.join(','),
  );
  assert.ok(
    evts(es, 'fs.close').some((e) => e.body.data.file === '/proc/version'),
    'fs.close is not constrained',
  );
  assert.ok(evts(es, 'stdout').length > 0, 'stdout is not constrained');
  rmSync(s.dir, { recursive: true });
});

test('event=start.msg with comm=ls: only ls writes its process-start record, with matchedScopes at the top level', () => {
  const s = filtered('1:event=start.msg;1:comm=ls', '1=ls-starts');
  assert.is(sh('ls / >/dev/null; cat /etc/hostname', s.env).status, 0);
  const events = s.events();
  assert.is(evts(events).length, 0, 'no event records: the scope selects start records only');
  const starts = events.filter(isStart) as (Start & { matchedScopes?: string; matchedPolicies?: string[] })[];
  assert.equal(
    starts.map((x) => x.info.process.procname),
    ['ls'],
  );
  assert.is(starts[0]?.matchedScopes, '1');
  assert.equal(starts[0]?.matchedPolicies, ['ls-starts']);
  assert.ok(
    s
      .metrics()
      .filter(isMetric)
      .some((m) => m.body.proc === 'sh'),
    'metrics are not filtered',
  );
  rmSync(s.dir, { recursive: true });
});

test('follow: the children of a matching shell match too, whatever SCOPE_FILTER_FOLLOW the shell inherited', () => {
  const script = 'ls / >/dev/null; cat /etc/hostname >/dev/null; true';
  const on = session({ SCOPE_FILTER: '1:comm=sh;1:follow', SCOPE_FILTER_FOLLOW: '0' });
  assert.is(sh(script, on.env).status, 0);
  const followed = evts(on.events());
  assert.equal(procs(followed), ['cat', 'ls', 'sh']);
  assert.equal(scopesOf(followed), ['1']);

  const off = filtered('1:comm=sh');
  assert.is(sh(script, off.env).status, 0);
  const alone = evts(off.events());
  assert.equal(procs(alone), ['sh']);
  assert.equal(
    off
      .events()
      .filter(isStart)
      .map((x) => x.info.process.procname)
      .sort(),
    ['cat', 'ls', 'sh'],
  );
  rmSync(on.dir, { recursive: true });
  rmSync(off.dir, { recursive: true });
});

test('follow through vfork: a vfork child that execs is a child of the process it shares memory with', () => {
  const on = filtered('1:comm=vforkexec;1:follow');
  assert.is(run(prog('vforkexec'), [on.dir], on.env).status, 0);
  assert.equal(procs(evts(on.events(), 'stdout')), ['echo', 'sh', 'vforkexec']);
  const off = filtered('1:comm=vforkexec');
  assert.is(run(prog('vforkexec'), [off.dir], off.env).status, 0);
  assert.equal(procs(evts(off.events())), ['vforkexec']);
  rmSync(on.dir, { recursive: true });
  rmSync(off.dir, { recursive: true });
});

test('tree: every process under a pid (its /proc ancestry), and tree!= excludes them', () => {
  const s = filtered(`1:tree=${process.pid};2:tree=${process.pid},999999999;3:tree!=${process.pid}`);
  assert.is(sh('ls / >/dev/null; cat /etc/hostname', s.env).status, 0);
  const es = evts(s.events());
  assert.equal(procs(es), ['cat', 'ls', 'sh']);
  assert.equal(scopesOf(es), ['3']);
  const other = filtered('1:tree=1;1:tree!=999999999'); /* pid 1 is everyone's ancestor */
  assert.is(sh('cat /etc/hostname', other.env).status, 0);
  assert.ok(evts(other.events()).length > 0);
  rmSync(s.dir, { recursive: true });
  rmSync(other.dir, { recursive: true });
});

test('uid, gid, pid=new, binary, mntns, container: the process kinds against what the process is', () => {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const cat = realpathSync('/bin/cat');
  const mnt = statSync('/proc/self/ns/mnt').ino;
  const inContainer = /(?<![A-Za-z0-9])[0-9a-f]{64}(?![A-Za-z0-9])/.test(readFileSync('/proc/self/cgroup', 'utf8'));
  const cases: [string, boolean][] = [
    [`uid=${uid}`, true],
    [`uid!=${uid}`, false],
    [`uid>${uid}`, false],
    [`uid>=${uid}`, true],
    [`uid<${uid + 1}`, true],
    [`gid=${gid}`, true],
    [`gid!=${gid},${gid + 1}`, false],
    ['pid=new', true],
    ['pid!=new', false],
    [`binary=${cat}`, true],
    [`binary=host:${cat}`, true],
    [`binary=${mnt}:${cat}`, true],
    [`binary=${mnt + 1}:${cat}`, false],
    ['binary=*/cat', true],
    ['binary!=/usr/bin/ls', true],
    [`mntns=${mnt}`, true],
    [`mntns!=${mnt}`, false],
    ['container', inContainer],
    ['not-container', !inContainer],
    ['comm=ca*', true],
    ['comm=*at', true],
    ['comm=*a*', true],
    ['comm=cat,ls', true],
    ['comm=ls', false],
  ];
  for (const [filter, matches] of cases) {
    const s = filtered(`7:${filter}`);
    assert.is(run('cat', ['/etc/hostname'], s.env).status, 0);
    const es = evts(s.events());
    assert.is(es.length > 0, matches, `${filter}: ${matches ? 'events' : 'no events'}`);
    if (matches) assert.equal(scopesOf(es), ['64']);
    assert.is(s.log(), '', filter);
    rmSync(s.dir, { recursive: true });
  }
});

test('fs.error.error keeps failures, not-fs.error.error none; sourcetype selects by sourcetype', () => {
  const fail = filtered('1:event=fs.error;1:fs.error.error;2:event=fs.error;2:not-fs.error.error;3:sourcetype=console');
  assert.is(sh('ls /nonexistent-here 2>/dev/null; echo out', fail.env).status, 0);
  const es = evts(fail.events());
  const errors = evts(es, 'fs.error');
  assert.ok(errors.length > 0);
  for (const e of errors) assert.is(e.body.matchedScopes, '1');
  assert.ok(evts(es, 'stdout').length > 0);
  for (const e of es.filter((x) => x.body.sourcetype === 'console')) assert.is(e.body.matchedScopes, '4');
  assert.equal([...new Set(es.map((e) => e.body.sourcetype))].sort(), ['console', 'fs']);
  rmSync(fail.dir, { recursive: true });
});

test('a bad SCOPE_FILTER logs one error naming the filter and filters nothing', () => {
  const s = filtered('1:comm=cat;2:uid>abc');
  assert.is(run('cat', ['/etc/hostname'], s.env).status, 0);
  const es = evts(s.events());
  assert.ok(evts(es, 'fs.open').length > 0 && evts(es, 'stdout').length > 0, 'every event, as without a filter');
  assert.ok(es.every((e) => !('matchedScopes' in e.body) && !('matchedPolicies' in e.body)));
  const lines = s
    .log()
    .split('\n')
    .filter((l) => l.includes('SCOPE_FILTER'));
  assert.is(lines.length, 1, s.log());
  assert.match(lines[0] ?? '', /error: SCOPE_FILTER: bad filter "2:uid>abc": "abc" is not a number/);
  for (const bad of [
    '65:comm=cat',
    'comm',
    'nope=1',
    'comm=',
    'comm=a,,b',
    'comm=*',
    'event=fs.nope',
    'event>fs.open',
    'follow=1',
    'container;not-container',
    'fs.*.data.file=x',
    'start.msg.data.x=1',
    'uid>1.5x',
    'comm!x',
  ]) {
    const b = filtered(bad);
    assert.is(run('cat', ['/etc/hostname'], b.env).status, 0);
    assert.match(b.log(), /error: SCOPE_FILTER: bad filter/, bad);
    assert.ok(evts(b.events()).length > 0, bad);
    rmSync(b.dir, { recursive: true });
  }
  rmSync(s.dir, { recursive: true });
});

test('the rate limit counts only the events that pass the filter', () => {
  const s = session({ SCOPE_FILTER: '1:event=fs.*,notice', SCOPE_EVENT_MAXEPS: '50' });
  assert.is(sh('i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done', s.env).status, 0);
  const es = evts(s.events());
  assert.is(evts(es, 'stdout').length, 0);
  assert.is(evts(es, 'notice').length, 0, 'no event was over the limit: the 300 lines were filtered, not dropped');
  rmSync(s.dir, { recursive: true });
});

test('http.resp.data.http_status_code>=500 keeps the failing response only', async () => {
  const bad = await startHttp({ status: 503 });
  const good = await startHttp({ status: 200 });
  try {
    const s = filtered('1:event=http.resp;1:http.resp.data.http_status_code>=500;2:event=http.resp;2:http.resp.error');
    const r = await runAsync('curl', ['-s', '--noproxy', '*', '-o', '/dev/null', good.url, bad.url], s.env);
    assert.is(r.status, 0, r.stderr);
    const es = s.events().filter(isEvt);
    assert.equal(
      es.map((e) => [e.body.source, e.body.data.http_status_code, e.body.matchedScopes]),
      [['http.resp', 503, '3']],
    );
    rmSync(s.dir, { recursive: true });
  } finally {
    await bad.close();
    await good.close();
  }
});

test('a forked child is decided again: pid and ppid filters follow it', () => {
  // forkthreads forks 100 children: ppid=<this test> is true of it, and of none of them
  const f = filtered(`1:ppid=${process.pid}`);
  const r = run(prog('forkthreads'), [f.dir], f.env);
  assert.is(r.status, 3);
  const es = evts(f.events());
  assert.ok(es.length > 0);
  assert.equal([...new Set(es.map((e) => e.body.pid))], [r.pid], 'only the process whose parent is this test');
  assert.is(f.events().filter(isStart).length, 101, 'every child still starts');
  rmSync(f.dir, { recursive: true });
});

test.run();
