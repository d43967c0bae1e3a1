/**
 * scope report, profile and diff on real runs: a shell job (files, a failing open, curl against a
 * server started here with 200, 404 and 500 answers, a child killed by a signal) is run with
 * `scope run`, and the report's sections are checked against the session's own records, counted
 * here independently. Then profiles of two runs of one job compare equal, a third run that reaches
 * a new host fails `scope diff` unless an allow-list accepts it, and --deps names each command's
 * inputs and outputs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chownSync, cpSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '@scope/core/testing';
import { envFor, events, metrics, newHome, parseLines, readLast, runBin, scopeBin, startRecords } from './lib/harness.js';
import type { Rec } from './lib/harness.js';

interface Server {
  port: number;
  close: () => Promise<void>;
}

async function server(): Promise<Server> {
  const srv = createServer((req, res) => {
    const code = req.url === '/missing' ? 404 : req.url === '/boom' ? 500 : 200;
    res.statusCode = code;
    res.end(`answer ${code}\n`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as AddressInfo).port,
    close: async () => {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    },
  };
}

/** The job: known files, requests and failures; its work directory is a mktemp one (random name). */
function job(port: number, extra = '', kill = true): string {
  return [
    'W=$(mktemp -d)',
    'printf "twelve bytes" > $W/in.txt',
    'cp $W/in.txt $W/copy.txt',
    'touch $W/gone && rm $W/gone',
    'cat $W/nonexistent 2>/dev/null',
    // a child killed before it writes anything: only its parent's wait says it was there
    kill ? "sh -c 'kill -TERM $$'" : '',
    `curl -s --noproxy '*' http://127.0.0.1:${port}/users/17 >/dev/null`,
    `curl -s --noproxy '*' http://127.0.0.1:${port}/users/18 >/dev/null`,
    `curl -s --noproxy '*' http://127.0.0.1:${port}/missing >/dev/null`,
    `curl -s --noproxy '*' http://127.0.0.1:${port}/boom >/dev/null`,
    extra,
    'rm -r $W',
    'exit 3',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

async function scoped(home: string, script: string) {
  const ran = await runBin(scopeBin, ['run', '--no-stream', '--', 'sh', '-c', script], envFor(home, { TMPDIR: '/tmp' }));
  assert.is(ran.status, 3, ran.stderr);
  return readLast(home);
}

let srv: Server;
let home: string;
let recs: { events: Rec[]; metrics: Rec[]; dir: string };
let report: Rec;

test.before(async () => {
  srv = await server();
  home = newHome();
  const s = await scoped(home, job(srv.port));
  recs = { events: s.events, metrics: s.metrics, dir: s.session.dir };
  const r = await runBin(scopeBin, ['report', '--json'], envFor(home));
  assert.is(r.status, 0, r.stderr);
  report = JSON.parse(r.stdout) as Rec;
});

test.after(async () => {
  await srv.close();
});

test('report --json: the session, its exit status and its record counts', () => {
  assert.is(report['type'], 'report');
  assert.is(report['session'].exit_status, 3);
  assert.is(report['session'].dir, recs.dir);
  assert.is(report['session'].records.events, recs.events.filter((r) => r['type'] === 'evt').length);
  assert.is(report['session'].records.metrics, recs.metrics.filter((r) => r['type'] === 'metric').length);
});

test('report: the process tree has every process that started, under the shell, with its command', () => {
  const starts = startRecords([...recs.events, ...recs.metrics]);
  // Every process that wrote a start record, and every child a parent was seen reaping.
  const pids = new Set(starts.map((s) => s['info'].process.pid as number));
  for (const e of events(recs.events, 'proc.exit')) pids.add(e.body.data.child_pid as number);
  assert.is(report['process_count'], pids.size);
  assert.is(report['processes'].length, 1, JSON.stringify(report['processes']));
  const root = report['processes'][0];
  assert.match(root.cmd, /^sh -c W=\$\(mktemp -d\)/);
  assert.is(root.exit_status, 3);
  const kids = (root.children as Rec[]).map((c) => c.cmd.split(' ')[0]);
  for (const cmd of ['mktemp', 'cp', 'touch', 'rm', 'cat', 'curl']) assert.ok(kids.includes(cmd), `no ${cmd} under the shell: ${kids.join(', ')}`);
  assert.is(kids.filter((k: string) => k === 'curl').length, 4);
  // Every child's exit status, from the shell's waits (proc.exit): cat of a missing file 1, the rest 0.
  const status = (cmd: RegExp) => (root.children as Rec[]).filter((c) => cmd.test(c.cmd)).map((c) => c.exit_status);
  assert.equal(status(/^cat .*nonexistent/), [1]);
  assert.equal([...new Set(status(/^curl /))], [0]);
  assert.equal(status(/^cp /), [0]);
  // The child killed by SIGTERM is in the tree under the shell, named by the signal.
  const killed = (root.children as Rec[]).filter((c) => c.signal === 'SIGTERM');
  assert.is(killed.length, 1, JSON.stringify(root.children));
  assert.is(killed[0]!.exit_status, 143);
  const exits = events(recs.events, 'proc.exit').filter((e) => e.body.pid === root.pid);
  assert.is(exits.length, (root.children as Rec[]).length, 'one proc.exit for each child the shell reaped');
});

test('report: files read, written and deleted, with the bytes the fs.close events counted', () => {
  const written = (report['files'].written as Rec[]).map((f) => f.path as string);
  const copy = written.find((p) => p.endsWith('/copy.txt'));
  assert.ok(copy, written.join(', '));
  assert.is((report['files'].written as Rec[]).find((f) => f.path === copy)!.bytes, 12);
  const read = (report['files'].read as Rec[]).find((f) => (f.path as string).endsWith('/in.txt'));
  assert.ok(read, 'in.txt not among the files read');
  assert.is(read!.bytes, 12);
  const deleted = (report['files'].deleted as Rec[]).map((f) => f.path as string);
  assert.ok(
    deleted.some((p) => p.endsWith('/gone')),
    deleted.join(', '),
  );
  // Every file the events say was deleted is in the report, and nothing else.
  const fromEvents = new Set(events(recs.events, 'fs.delete').map((e) => e.body.data.file as string));
  assert.equal(new Set(deleted), fromEvents);
});

test('report: connections by peer with the bytes of the net.close events; HTTP by route with status classes and percentiles', () => {
  const peer = `127.0.0.1:${srv.port}`;
  const conn = (report['connections'] as Rec[]).find((c) => c.peer === peer);
  assert.ok(conn, JSON.stringify(report['connections']));
  const closes = events(recs.events, 'net.close').filter((e) => e.body.data.net_peer_port === srv.port);
  assert.is(conn!.connections, 4);
  assert.is(
    conn!.sent,
    closes.reduce((n, e) => n + e.body.data.net_bytes_sent, 0),
  );
  assert.is(
    conn!.received,
    closes.reduce((n, e) => n + e.body.data.net_bytes_recv, 0),
  );
  const http = report['http'] as Rec[];
  const users = http.find((h) => h.route === '/users/:n');
  assert.ok(users, JSON.stringify(http));
  assert.is(users!.count, 2);
  assert.equal(users!.status, { '2xx': 2 });
  assert.ok(users!.p50_ms > 0 && users!.p99_ms >= users!.p50_ms, JSON.stringify(users));
  assert.equal(http.find((h) => h.route === '/missing')?.status, { '4xx': 1 });
  assert.equal(http.find((h) => h.route === '/boom')?.status, { '5xx': 1 });
});

test('report: failures grouped: the killed child and the non-zero exits first, HTTP 404 and 500, the failed open, with the file it named', () => {
  const failures = report['failures'] as Rec[];
  assert.equal(
    failures.slice(0, 2).map((f) => f.kind),
    ['crash', 'exit'],
  );
  assert.is(failures[0]!.why, 'SIGTERM');
  assert.match(failures[0]!.targets[0].target, /^\d+ \(no record of its own\)$|^\d+ sh -c kill -TERM/);
  const exitsOf = failures
    .filter((f) => f.kind === 'exit')
    .flatMap((f) => (f.targets as Rec[]).map((t) => `${f.why} ${t.target.replace(/^\d+ /, '')}`))
    .sort();
  assert.ok(
    exitsOf.some((e) => /^status 1 cat .*nonexistent$/.test(e)),
    exitsOf.join('\n'),
  );
  assert.ok(
    exitsOf.some((e) => /^status 3 sh -c /.test(e)),
    exitsOf.join('\n'),
  );
  const http = failures
    .filter((f) => f.kind === 'http')
    .map((f) => f.why as string)
    .sort();
  assert.equal(
    http.map((w) => w.slice(0, 3)),
    ['404', '500'],
  );
  const open = failures.find((f) => f.kind === 'fs.error' && (f.targets as Rec[]).some((t) => (t.target as string).endsWith('/nonexistent')));
  assert.ok(open, JSON.stringify(failures));
  assert.is(open!.why, 'ENOENT');
  // Every fs.error event is in exactly one group.
  const total = failures.filter((f) => f.kind === 'fs.error').reduce((n, f) => n + f.count, 0);
  assert.is(total, events(recs.events, 'fs.error').length);
});

test("report: the functions table's calls, errors and bytes are the fs metric summaries' sums", () => {
  const fns = new Map((report['functions'] as Rec[]).map((f) => [f.op as string, f]));
  const sum = (name: string, op: string, field = '_value') =>
    metrics(recs.metrics, name)
      .filter((m) => m.body.op === op)
      .reduce((n, m) => n + Number(m.body[field] ?? 0), 0);
  for (const op of ['open', 'close', 'read', 'write']) {
    const row = fns.get(op);
    if (!row) continue;
    const calls = op === 'read' || op === 'write' ? sum(`fs.${op}`, op, 'numops') : sum(`fs.${op}`, op);
    assert.is(row.calls, calls, `${op}: ${JSON.stringify(row)}`);
  }
  const read = fns.get('read');
  assert.ok(read && read.bytes === sum('fs.read', 'read') && read.bytes > 0, JSON.stringify(read));
  assert.ok(read!.max_us >= read!.avg_us, JSON.stringify(read));
  const errs = [...fns.values()].reduce((n, f) => n + f.errors, 0);
  assert.is(
    errs,
    metrics(recs.metrics, 'fs.error').reduce((n, m) => n + m.body._value, 0),
  );
});

test('report (text): every section, the exit status and the failures, for a terminal or a pipe', async () => {
  const r = await runBin(scopeBin, ['report', '--top', '3'], envFor(home));
  assert.is(r.status, 0, r.stderr);
  for (const h of ['Functions', 'Processes', 'Files read', 'Files written', 'Files deleted', 'Connections', 'HTTP', 'DNS', 'Failures']) assert.match(r.stdout, new RegExp(`^${h}`, 'm'));
  assert.match(r.stdout, /exit 3/);
  assert.match(r.stdout, /GET 127\.0\.0\.1:\d+\/users\/:n/);
  assert.match(r.stdout, /Functions .*\(top 3 of \d+\)/);
});

test('report -: the same report from the records on stdin (scope-run … | scope report -)', async () => {
  const stream = [...recs.events, ...recs.metrics].map((r) => JSON.stringify(r)).join('\n') + '\n';
  const input = join(tempDir('scope-report-'), 'records.ndjson');
  writeFileSync(input, stream);
  const { spawnSync } = await import('node:child_process');
  const piped = spawnSync('/bin/sh', ['-c', `exec "${process.execPath}" "${scopeBin}" report - --json < "${input}"`], { env: envFor(home), encoding: 'utf8' });
  assert.is(piped.status, 0);
  const fromStdin = JSON.parse(piped.stdout) as Rec;
  assert.is(fromStdin['process_count'], report['process_count']);
  assert.equal(fromStdin['http'], report['http']);
  assert.equal(fromStdin['files'], report['files']);
  assert.is(fromStdin['session'].dir, null);
});

test('report: a bad line is named (stdin:N) and counted, the report still made, status 1; no records at all is status 1', async () => {
  const dir = tempDir('scope-report-');
  const input = join(dir, 'bad.ndjson');
  writeFileSync(input, JSON.stringify(recs.events[1]) + '\nnot json\n');
  const { spawnSync } = await import('node:child_process');
  const bad = spawnSync('/bin/sh', ['-c', `exec "${process.execPath}" "${scopeBin}" report - < "${input}"`], { env: envFor(home), encoding: 'utf8' });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /scope-report: stdin:2: /);
  assert.match(bad.stdout, /^Processes/m);
  writeFileSync(input, '');
  const empty = spawnSync('/bin/sh', ['-c', `exec "${process.execPath}" "${scopeBin}" report - < "${input}"`], { env: envFor(home), encoding: 'utf8' });
  assert.is(empty.status, 1);
  assert.match(empty.stderr, /no records: the run recorded nothing/);
  assert.match(empty.stdout, /nothing was recorded/);
  const usage = await runBin(scopeBin, ['report', '--top', 'x'], envFor(home));
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /--top: "x" is not a positive number/);
  const missing = await runBin(scopeBin, ['report', '999'], envFor(home));
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /999/);
});

test('report --html: one file, no reference outside it, every section with the count of the JSON report', async () => {
  const dir = tempDir('scope-report-');
  const file = join(dir, 'report.html');
  const r = await runBin(scopeBin, ['report', '--html', file], envFor(home));
  assert.is(r.status, 0, r.stderr);
  const html = readFileSync(file, 'utf8');
  // Nothing to fetch: no element that loads, no stylesheet import or url(), a policy that forbids any.
  assert.not.match(html, /<(link|img|iframe|object|embed)\b|\b(src|href)\s*=|url\(|@import/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  const count = (id: string) => Number(new RegExp(`<section id="${id}" data-count="(\\d+)"`).exec(html)?.[1]);
  assert.is(count('processes'), report['process_count']);
  assert.is(count('files-written'), report['files'].written.length);
  assert.is(count('connections'), report['connections'].length);
  assert.is(count('http'), report['http'].length);
  assert.is(count('failures'), report['failures'].length);
  assert.is((html.match(/<li class="proc"/g) ?? []).length, report['process_count']);
  assert.ok(count('charts') >= 4, `charts: ${count('charts')}`);
  // A link in the way of the output is not followed.
  const link = join(dir, 'link.html');
  symlinkSync(join(dir, 'elsewhere'), link);
  const refused = await runBin(scopeBin, ['report', '--html', link], envFor(home));
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /symbolic link/);
  assert.throws(() => statSync(join(dir, 'elsewhere')));
  // Nor is another user's file filled (one left in /tmp for root's cron job); root can make one to try.
  if (process.getuid?.() === 0) {
    const theirs = join(dir, 'theirs.html');
    writeFileSync(theirs, 'theirs\n', { mode: 0o666 });
    chownSync(theirs, 65534, 65534);
    const other = await runBin(scopeBin, ['report', '--html', theirs], envFor(home));
    assert.is(other.status, 1);
    assert.match(other.stderr, /belongs to another user \(uid 65534\)/);
    assert.is(readFileSync(theirs, 'utf8'), 'theirs\n');
  }
});

test('report: a run whose main process was killed before it wrote a record: status 1 (nothing recorded), and the kill among the failures', async () => {
  const h = newHome();
  const ran = await runBin(scopeBin, ['run', '--no-stream', '--', 'sh', '-c', 'kill -KILL $$'], envFor(h));
  assert.is(ran.status, 137);
  const r = await runBin(scopeBin, ['report', '--json'], envFor(h));
  const rep = JSON.parse(r.stdout) as Rec;
  const crash = (rep['failures'] as Rec[]).find((f) => f.kind === 'crash');
  assert.ok(crash, r.stdout);
  assert.is(crash!.why, 'SIGKILL');
  assert.is(rep['processes'][0].signal, 'SIGKILL');
  if (rep['session'].records.events + rep['session'].records.metrics + rep['session'].records.starts === 0) {
    assert.is(r.status, 1);
    assert.match(r.stderr, /no records: the run recorded nothing/);
  } else assert.is(r.status, 0, r.stderr);
});

test('a session whose files are links or FIFOs (someone else made them): not followed, not waited on; every reading tool says so, status 1', async () => {
  const dir = tempDir('scope-report-');
  const secret = join(dir, 'secret');
  writeFileSync(secret, 'root:the-secret-line\n', { mode: 0o600 });
  const evil = join(dir, 'evil');
  cpSync(recs.dir, evil, { recursive: true });
  rmSync(join(evil, 'events.json'));
  symlinkSync(secret, join(evil, 'events.json'));
  for (const args of [
    ['report', evil],
    ['events', '--session', evil],
    ['flows', '--session', evil],
  ]) {
    const r = await runBin(scopeBin, args, envFor(home));
    assert.is(r.status, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /events\.json: a symbolic link, not followed/);
    assert.not.match(r.stdout + r.stderr, /the-secret-line/);
  }
  rmSync(join(evil, 'events.json'));
  execFileSync('mkfifo', [join(evil, 'events.json')]);
  const fifo = await runBin(scopeBin, ['report', evil], envFor(home));
  assert.is(fifo.status, 1);
  assert.match(fifo.stderr, /events\.json: not a regular file/);
  rmSync(join(evil, 'events.json'));
  rmSync(join(evil, 'session.json'));
  symlinkSync(secret, join(evil, 'session.json'));
  const manifest = await runBin(scopeBin, ['report', evil], envFor(home));
  assert.is(manifest.status, 1);
  assert.match(manifest.stderr, /not a scope session \(.*session\.json: a symbolic link, not followed/);
  assert.not.match(manifest.stderr, /the-secret-line/);
  // A manifest with fields of the wrong types: those fields left out, the report made from the records.
  rmSync(join(evil, 'session.json'));
  cpSync(join(recs.dir, 'events.json'), join(evil, 'events.json'));
  writeFileSync(join(evil, 'session.json'), JSON.stringify({ id: 'x', cmd: 7, args: 5, pid: '1', notices: {}, exitStatus: 'no' }));
  const odd = await runBin(scopeBin, ['report', evil, '--json'], envFor(home));
  assert.is(odd.status, 0, odd.stderr);
  const rep = JSON.parse(odd.stdout) as Rec;
  assert.is(rep['session'].exit_status, null);
  assert.is(rep['process_count'], report['process_count']);
});

test('profile and diff: two runs of one job compare equal; a new host fails the diff unless allowed; bad input is status 2', async () => {
  const dir = tempDir('scope-report-');
  const base = join(dir, 'base.yml');
  // A child killed at once may or may not have written its start record (its command): runs that
  // compare equal leave it out.
  const h = newHome();
  await scoped(h, job(srv.port, '', false));
  const p1 = await runBin(scopeBin, ['profile', '-o', base], envFor(h));
  assert.is(p1.status, 0, p1.stderr);
  const profile = readFileSync(base, 'utf8');
  assert.match(profile, /^scope-profile: 1$/m);
  assert.match(profile, /\/tmp\/tmp\.\*\/copy\.txt/);
  await scoped(h, job(srv.port, '', false));
  const same = await runBin(scopeBin, ['diff', base, '2'], envFor(h));
  assert.is(same.status, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /^no change/);

  await scoped(h, job(srv.port, `curl -s --noproxy '*' http://localhost:${srv.port}/ >/dev/null; touch $W/extra`, false));
  const changed = await runBin(scopeBin, ['diff', base, '3', '--json'], envFor(h));
  assert.is(changed.status, 1, changed.stdout + changed.stderr);
  const d = JSON.parse(changed.stdout) as Rec;
  const added = (d['changes'] as Rec[]).filter((c) => c.change === 'added').map((c) => `${c.section} ${c.item}`);
  assert.ok(added.includes(`http GET localhost:${srv.port}`), added.join('\n'));
  assert.ok(
    added.some((a) => a.startsWith('arguments ') && a.includes('localhost')),
    added.join('\n'),
  );
  const allow = join(dir, 'allow.yml');
  writeFileSync(allow, 'http: ["GET localhost:*"]\narguments: ["**"]\nfiles.written: ["/tmp/**"]\nfiles.deleted: ["/tmp/**"]\npeers: ["**"]\ndns: ["localhost"]\n');
  const allowed = await runBin(scopeBin, ['diff', base, '3', '--allow', allow], envFor(h));
  assert.is(allowed.status, 0, allowed.stdout);
  assert.match(allowed.stdout, /\(allowed\)/);

  writeFileSync(allow, 'hosts: ["x"]\n');
  const badAllow = await runBin(scopeBin, ['diff', base, '3', '--allow', allow], envFor(h));
  assert.is(badAllow.status, 2);
  assert.match(badAllow.stderr, /allow\.yml: "hosts" is not a section/);
  const notProfile = join(dir, 'not.yml');
  writeFileSync(notProfile, 'a: [1\n');
  const badProfile = await runBin(scopeBin, ['diff', notProfile, '3'], envFor(h));
  assert.is(badProfile.status, 2);
  assert.match(badProfile.stderr, /not\.yml: not YAML or JSON/);
  const noSession = await runBin(scopeBin, ['diff', base, join(dir, 'nowhere')], envFor(h));
  assert.is(noSession.status, 2);
  assert.match(noSession.stderr, /nowhere: no such file or session directory/);
});

test('profile --deps: each command with the files it read and wrote; --make writes "outputs: inputs"', async () => {
  const deps = await runBin(scopeBin, ['profile', '1', '--deps'], envFor(home));
  assert.is(deps.status, 0, deps.stderr);
  const d = JSON.parse(deps.stdout) as Rec;
  const cp = (d['processes'] as Rec[]).find((p) => (p.cmd as string).startsWith('cp '));
  assert.ok(cp, deps.stdout);
  assert.equal(
    cp!.inputs.map((f: string) => f.replace(/.*\//, '')),
    ['in.txt'],
  );
  assert.equal(
    cp!.outputs.map((f: string) => f.replace(/.*\//, '')),
    ['copy.txt'],
  );
  const make = await runBin(scopeBin, ['profile', '1', '--deps', '--make'], envFor(home));
  assert.is(make.status, 0, make.stderr);
  assert.match(make.stdout, /^\/tmp\/tmp\.\w+\/copy\.txt: \/tmp\/tmp\.\w+\/in\.txt$/m);
  const parsedLines = parseLines(deps.stdout);
  assert.is(parsedLines.length, 1);
});

test.run();
