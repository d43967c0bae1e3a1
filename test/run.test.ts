/**
 * `scope run` end to end: the real bin, the real libscope, real programs; assertions on the session
 * directory and on the stream.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, openSync, closeSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { lastSession } from '@scope/core';
import { testProgramDir } from '@scope/libscope';
import { join } from 'node:path';
import { assertValidSession, envFor, events, metrics, newHome, repoRoot, parseLines, readLast, runBin, scopeBin, scopeRunBin, startRecords } from './lib/harness.js';

const hostFile = '/etc/hostname';
const hostText = readFileSync(hostFile, 'utf8');

test('scope run -- cat /etc/hostname: prints the host name, and the session holds what cat did', async () => {
  const home = newHome();
  // stdout a file, as at a shell with a redirect: the app keeps its stdout.
  const outFile = join(home, 'out.txt');
  const fd = openSync(outFile, 'w');
  const ran = await runBin(scopeBin, ['run', '--', 'cat', hostFile], envFor(home), { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  assert.is(ran.status, 0, ran.stderr);
  assert.is(readFileSync(outFile, 'utf8'), hostText);

  const { session, events: evs, metrics: mets } = await readLast(home);
  assert.is(session.manifest.exitStatus, 0);
  assert.is(session.manifest.cmd, 'cat');
  assert.equal(session.manifest.args, ['cat', hostFile]);
  assert.ok(session.manifest.pid !== null && session.manifest.pid > 0);
  assert.ok(session.manifest.records.events > 0 && session.manifest.records.metrics > 0);

  const opens = events(evs, 'fs.open').filter((e) => e.body.data.file === hostFile);
  const closes = events(evs, 'fs.close').filter((e) => e.body.data.file === hostFile);
  assert.is(opens.length, 1, 'one fs.open of /etc/hostname');
  assert.is(closes.length, 1, 'one fs.close of /etc/hostname');
  assert.is(closes[0]?.body.data.file_read_bytes, statSync(hostFile).size);
  assert.is(closes[0]?._channel, opens[0]?._channel);
  assert.is(opens[0]?.body.proc, 'cat');
  assert.is(opens[0]?.body.pid, session.manifest.pid);

  // stdout is a file here, not the console: cat's writes are that file's (its fs.close), no stdout event
  assert.is(events(evs, 'stdout').length, 0);
  const outClose = events(evs, 'fs.close').find((e) => e.body.data.file === realpathSync(outFile) && e.body.proc === 'cat');
  assert.is(outClose?.body.data.file_write_bytes, hostText.length);

  assert.is(startRecords(evs).length, 1, 'one process-start record');
  assert.is(startRecords(evs)[0]?.info.process.pid, session.manifest.pid);
  for (const name of ['proc.start', 'proc.cpu', 'proc.mem', 'proc.thread', 'proc.fd']) {
    assert.ok(metrics(mets, name).length > 0, `${name} in metrics.json`);
  }
  assert.is(metrics(mets, 'proc.start')[0]?.body.host, hostname());
  await assertValidSession(session);
});

test('the session directory holds the config in force: scope.yml, scope.env, args.json, 0700', async () => {
  const home = newHome();
  const ran = await runBin(scopeBin, ['run', '--no-stream', '-v', '7', '--', 'true'], envFor(home, { SCOPE_TAG_team: 'core' }));
  assert.is(ran.status, 0, ran.stderr);
  const { session } = await readLast(home);
  assert.is(statSync(session.dir).mode & 0o777, 0o700);
  const env = readFileSync(session.paths.env, 'utf8');
  assert.match(env, /^SCOPE_METRIC_VERBOSITY=7$/m);
  assert.match(env, /^SCOPE_TAG_team=core$/m);
  assert.match(env, new RegExp(`^SCOPE_EVENT_DEST=file://${session.paths.events}$`, 'm'));
  assert.match(readFileSync(session.paths.config, 'utf8'), /verbosity: 7/);
  assert.equal(JSON.parse(readFileSync(session.paths.args, 'utf8')), ['true']);
  assert.is(readFileSync(join(home, 'count'), 'utf8').trim(), String(session.id));
});

test('into a pipe: records stream while the command runs, children report under their own pid and proc', async () => {
  const home = newHome();
  const mark = join(home, 'second-phase');
  const script = `cat ${hostFile}; sleep 2; touch ${mark}; ls / >/dev/null`;
  const child = spawn(process.execPath, [scopeRunBin, '--', 'sh', '-c', script], { env: envFor(home), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const firstLine = new Promise<void>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await firstLine;
  assert.not.ok(existsSync(mark), 'the first record arrived before the command reached its second phase');
  const status = await exited;
  assert.is(status, 0, err);
  assert.is(err, hostText, "the command's stdout went to stderr");

  const recs = parseLines(out);
  const byProc = new Map<string, Set<number>>();
  for (const r of recs.filter((x) => x.type === 'evt')) {
    const set = byProc.get(r.body.proc) ?? new Set<number>();
    set.add(r.body.pid);
    byProc.set(r.body.proc, set);
  }
  for (const proc of ['sh', 'cat', 'ls']) assert.ok(byProc.has(proc), `events from ${proc}: ${[...byProc.keys()].join(',')}`);
  const pids = ['sh', 'cat', 'ls'].map((p) => [...(byProc.get(p) ?? [])][0]);
  assert.is(new Set(pids).size, 3, 'three processes, three pids');
  const catOpen = events(recs, 'fs.open').find((e) => e.body.data.file === hostFile);
  assert.is(catOpen?.body.proc, 'cat');
  assert.ok(startRecords(recs).length >= 3, 'a process-start record per process');

  // The stream is exactly what the session holds.
  const { session, events: evs, metrics: mets } = await readLast(home);
  assert.is(recs.length, evs.length + mets.length);
  await assertValidSession(session);
});

test("exit status: the command's code, 128+N for signal N, 127 for a missing command", async () => {
  const home = newHome();
  const env = envFor(home);
  assert.is((await runBin(scopeBin, ['sh', '-c', 'exit 3'], env)).status, 3);
  const killed = await runBin(scopeBin, ['run', '--', 'sh', '-c', 'kill -TERM $$'], env);
  assert.is(killed.status, 143);
  const { session } = await readLast(home);
  assert.is(session.manifest.exitStatus, 143);
  assert.is(session.manifest.signal, 'SIGTERM');
  const missing = await runBin(scopeBin, ['run', '--', 'no-such-command-here'], env);
  assert.is(missing.status, 127);
  assert.is(missing.stderr, 'scope-run: command not found: no-such-command-here\n');
});

test('a broken scope.yml: status 2 and file:line:col', async () => {
  const home = newHome();
  const yml = join(home, 'scope.yml');
  writeFileSync(yml, 'metric:\n  enable: true\n  format:\n    type: xml\n');
  const ran = await runBin(scopeBin, ['run', '-u', yml, '--', 'true'], envFor(home));
  assert.is(ran.status, 2);
  assert.is(ran.stderr, `scope-run: ${yml}:4:11: metric.format.type: expected statsd or ndjson\n`);
  writeFileSync(yml, 'event: [a\n');
  const syntax = await runBin(scopeBin, ['run', '-u', yml, '--', 'true'], envFor(home));
  assert.is(syntax.status, 2);
  assert.match(syntax.stderr, new RegExp(`^scope-run: ${yml}:\\d+:\\d+: `));
});

test('a 10 MB scope.yml (and one from a pipe) is refused at once: status 2, file:1:1, its size and the limit', async () => {
  const home = newHome();
  const yml = join(home, 'scope.yml');
  let text = 'tags:\n';
  for (let i = 0; text.length < 10 * 1024 * 1024; i++) text += `  tag${i}: value${i}\n`;
  writeFileSync(yml, text);
  const ran = await runBin(scopeBin, ['run', '-u', yml, '--', 'true'], envFor(home));
  assert.is(ran.status, 2);
  assert.is(ran.stderr, `scope-run: ${yml}:1:1: ${text.length} bytes is larger than a scope.yml may be (65536 bytes)\n`);
  const piped = spawnSync('/bin/sh', ['-c', 'head -c 100000 "$0" | "$1" "$2" run -u /dev/stdin -- true', yml, process.execPath, scopeBin], { env: envFor(home), encoding: 'utf8' });
  assert.is(piped.status, 2);
  assert.match(piped.stderr, /^scope-run: \/dev\/stdin:1:1: 65537 bytes is larger than a scope.yml may be \(65536 bytes\)\n$/);
});

test('an unknown flag: status 2 with the usage', async () => {
  const ran = await runBin(scopeBin, ['run', '--frobnicate', '--', 'true'], envFor(newHome()));
  assert.is(ran.status, 2);
  assert.match(ran.stderr, /^scope-run: unknown option "--frobnicate"\n/);
  assert.match(ran.stderr, /--userconfig/);
});

test('a scope.yml given with -u is honoured and kept in the session', async () => {
  const home = newHome();
  const yml = join(home, 'scope.yml');
  writeFileSync(yml, 'metric:\n  format:\n    type: statsd\n    statsdprefix: "app."\ntags:\n  service: web\n');
  const ran = await runBin(scopeBin, ['run', '-u', yml, '--no-stream', '--', 'cat', hostFile], envFor(home));
  assert.is(ran.status, 0, ran.stderr);
  const session = await lastSession(home);
  assert.ok(session);
  const evs = parseLines(readFileSync(session.paths.events, 'utf8'));
  assert.is(readFileSync(session.paths.config, 'utf8'), readFileSync(yml, 'utf8'));
  const statsd = readFileSync(session.paths.metrics, 'utf8').trim().split('\n');
  assert.ok(statsd.length > 0);
  for (const line of statsd) assert.match(line, /^app\.(proc|fs)\.[a-z_]+:\d+(\.\d+)?\|(c|g|ms|h)\|#.*service:web/);
  assert.ok(
    statsd.some((l) => l.startsWith('app.fs.read:')),
    'fs.read summary',
  );
  assert.ok(
    evs.every((e) => e.type !== 'evt' || e.body.service === 'web'),
    'the tag is on every event',
  );
});

test('a static executable is followed from outside (scope-supervise), a setuid one runs unscoped; each with one clear notice', async () => {
  const home = newHome();
  const src = join(home, 'hello.c');
  const bin = join(home, 'hello-static');
  writeFileSync(src, `#include <fcntl.h>\n#include <stdio.h>\n#include <unistd.h>\nint main(void){int fd=open("${hostFile}",O_RDONLY);if(fd>=0)close(fd);puts("static hello");return 4;}\n`);
  execFileSync('cc', ['-static', '-o', bin, src]);
  const ran = await runBin(scopeBin, ['run', '--no-stream', '--', bin], envFor(home));
  assert.is(ran.status, 4);
  assert.is(ran.stdout, 'static hello\n');
  assert.is(
    ran.stderr,
    `scope-run: notice: ${bin} is a static executable, followed from outside (scope-supervise): its files, connections, DNS queries and processes are seen, not its reads and writes\n`,
  );
  const { session } = await readLast(home);
  assert.is(session.manifest.scoped, true);
  const recs = parseLines(readFileSync(session.paths.events, 'utf8'));
  const start = recs.find((r) => r.format === 'ndjson');
  assert.is(start?.info.process.pid, session.manifest.pid, "the session's pid is the program's, and its process-start record is there");
  const open = events(recs, 'fs.open').find((e) => e.body.data.file === hostFile);
  assert.ok(open && open.body.pid === session.manifest.pid && open.body.proc === 'hello-static', 'its open, as its own');

  // without a way to follow it (here: a supervisor that cannot begin), it runs unscoped, said so
  const broken = join(home, 'broken-supervise');
  writeFileSync(broken, '#!/bin/sh\necho "scope-supervise: ptrace: Operation not permitted" >&2\nexit 125\n');
  chmodSync(broken, 0o755);
  const ran1 = await runBin(scopeBin, ['run', '--no-stream', '--', bin], envFor(home, { SCOPE_SUPERVISE_PATH: broken }));
  assert.is(ran1.status, 4, ran1.stderr);
  assert.is(ran1.stdout, 'static hello\n', 'the program ran once');
  assert.match(ran1.stderr, /notice: .*hello-static could not be followed from outside: libscope cannot be loaded into it, so it runs unscoped/);

  const suid = join(home, 'cat-suid');
  copyFileSync('/bin/cat', suid);
  chmodSync(suid, 0o4755);
  const ran2 = await runBin(scopeBin, ['run', '--no-stream', '--', suid, hostFile], envFor(home));
  assert.is(ran2.status, 0);
  assert.is(ran2.stdout, hostText);
  assert.match(ran2.stderr, /notice: .*cat-suid is a setuid executable/);
});

test('--passthrough: no session, libscope honours SCOPE_* from the environment', async () => {
  const home = newHome();
  const dest = join(home, 'pass-events.json');
  const ran = await runBin(scopeBin, ['run', '--passthrough', '--', 'cat', hostFile], envFor(home, { SCOPE_EVENT_DEST: `file://${dest}` }));
  assert.is(ran.status, 0, ran.stderr);
  assert.is(ran.stdout, hostText);
  assert.not.ok(existsSync(join(home, 'history')), 'no session directory');
  const recs = parseLines(readFileSync(dest, 'utf8'));
  assert.ok(events(recs, 'fs.open').some((e) => e.body.data.file === hostFile));
});

test('the reader going away (EPIPE) with --app-stdout stops the stream quietly; the command and its session complete', async () => {
  const home = newHome();
  const appOut = join(home, 'app.txt');
  const script = `scope_bin='${scopeRunBin}'; node "$scope_bin" --app-stdout '${appOut}' -- sh -c 'sleep 1; for i in 1 2 3 4 5 6 7 8; do cat ${hostFile}; done; exit 5' | head -c 1 >/dev/null; echo "status:\${PIPESTATUS[0]}"`;
  const out = execFileSync('bash', ['-c', script], { env: envFor(home), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.is(out.trim(), 'status:5');
  assert.is(readFileSync(appOut, 'utf8'), hostText.repeat(8));
  const { session } = await readLast(home);
  assert.is(session.manifest.exitStatus, 5);
});

test('scope run -- yes | head -3 ends as a pipeline would: yes gets SIGPIPE, scope run exits 141, the session says so', async () => {
  const home = newHome();
  // yes writes to our stderr while streaming: only the stream's reader going away can end it
  const script = `timeout 60 '${process.execPath}' '${scopeBin}' run -- yes 2>/dev/null | head -3 | wc -l; echo "status:\${PIPESTATUS[0]}"`;
  const out = execFileSync('bash', ['-c', script], { env: envFor(home), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out.trim().split('\n'), ['3', 'status:141']);
  // only session.json: yes killed in the middle of a record may leave its last line torn (issue 17.3)
  const session = await lastSession(home);
  assert.ok(session);
  assert.is(session.manifest.exitStatus, 141);
  assert.is(session.manifest.signal, 'SIGPIPE');
  assert.ok(session.manifest.end, 'the session is complete');
  // --no-stream: stdout is the command's own, and yes meets head itself
  const home2 = newHome();
  const plain = execFileSync('bash', ['-c', `timeout 60 '${process.execPath}' '${scopeBin}' run --no-stream -- yes | head -3 | wc -l; echo "status:\${PIPESTATUS[0]}"`], {
    env: envFor(home2),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(plain.trim().split('\n'), ['3', 'status:141']);
});

test('flags: -l picks the library, -e sends events elsewhere, --metricformat statsd, bad -l refused', async () => {
  const home = newHome();
  const libDir = join(repoRoot, 'libscope/build/Release');
  const dest = join(home, 'elsewhere.json');
  const ran = await runBin(scopeBin, ['run', '--no-stream', '-l', libDir, '-e', `file://${dest}`, '--metricformat', 'statsd', '--', 'cat', hostFile], envFor(home));
  assert.is(ran.status, 0, ran.stderr);
  assert.is(ran.stdout, hostText);
  assert.ok(events(parseLines(readFileSync(dest, 'utf8')), 'fs.open').some((e) => e.body.data.file === hostFile));
  const session = await lastSession(home);
  assert.ok(session);
  assert.is(readFileSync(session.paths.events, 'utf8'), '', 'events went to -e, not the session');
  assert.match(readFileSync(session.paths.metrics, 'utf8'), /^proc\.start:1\|c\|#/m);
  const bad = await runBin(scopeBin, ['run', '-l', join(home, 'nowhere'), '--', 'true'], envFor(home));
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--librarypath: .*nowhere.*: no such file/);
  const badDest = await runBin(scopeBin, ['run', '-e', 'events.json', '--', 'true'], envFor(home));
  assert.is(badDest.status, 2);
  assert.match(badDest.stderr, /^scope-run: --eventdest: "events.json" is not a destination URL/);
});

test('a file destination scope cannot write: status 2 with what is wrong, the command not started, no session', async () => {
  const home = newHome();
  const marker = join(home, 'ran');
  const missing = await runBin(scopeBin, ['run', '--no-stream', '-e', 'file:///nonexistent/dir/x', '--', 'touch', marker], envFor(home));
  assert.is(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /^scope-run: SCOPE_EVENT_DEST \(events\): file:\/\/\/nonexistent\/dir\/x: directory \/nonexistent\/dir does not exist/);
  writeFileSync(join(home, 'plain'), '');
  const notDir = await runBin(scopeBin, ['run', '--no-stream', '-m', `file://${join(home, 'plain', 'm.json')}`, '--', 'touch', marker], envFor(home));
  assert.is(notDir.status, 2, notDir.stderr);
  assert.match(notDir.stderr, /SCOPE_METRIC_DEST \(metrics\): .*plain is not a directory/);
  const badUrl = await runBin(scopeBin, ['run', '--no-stream', '--', 'touch', marker], envFor(home, { SCOPE_LOG_DEST: 'file://relative/x' }));
  assert.is(badUrl.status, 2, badUrl.stderr);
  assert.match(badUrl.stderr, /SCOPE_LOG_DEST \(the log\): file destination "file:\/\/relative\/x" needs an absolute path/);
  assert.not.ok(existsSync(marker), 'the command never ran');
  assert.not.ok(existsSync(join(home, 'history')), 'no session was made');
});

test('--maxfilesize: the session files stop at their cap with a notice; what did not fit is counted in session.json', async () => {
  const home = newHome();
  const cap = 64 * 1024;
  const ran = await runBin(scopeBin, ['run', '--no-stream', '--maxfilesize', '64K', '--', 'sh', '-c', 'for i in $(seq 150); do cat /etc/hostname >/dev/null; done; exit 4'], envFor(home));
  assert.is(ran.status, 4, ran.stderr);
  assert.match(ran.stderr, /scope-run: notice: event file \S+events\.json reached its size cap of 65536 bytes/);
  assert.match(ran.stderr, /scope-run: warning: libscope dropped \d+ records/);
  const session = await lastSession(home);
  assert.ok(session);
  const ev = readFileSync(session.paths.events, 'utf8');
  const last = ev.trimEnd().split('\n').pop() ?? '';
  // every record under the cap; past it, cap notices only, one per process whose write reached it
  // (usually one; more when several processes' writes reached it at the same moment: libscope/README.md)
  const lines = ev.split('\n').filter((l) => l !== '');
  let size = 0;
  const past: string[] = [];
  for (const l of lines) {
    size += Buffer.byteLength(l) + 1;
    if (size <= cap) continue;
    assert.match(l, /"source":"notice".*reached its size cap/, `a record past the cap: ${l.slice(0, 200)}`);
    past.push(l);
  }
  const noticePids = past.map((l) => /"pid":(\d+)/.exec(l)?.[1]);
  assert.is(new Set(noticePids).size, noticePids.length, `a process with two notices past the cap: ${noticePids.join(', ')} (events.json ${size} bytes; ${Buffer.byteLength(last)} the last line)`);
  assert.ok(statSync(session.paths.metrics).size <= cap + 1024, 'metrics.json held at its cap');
  assert.ok(session.manifest.drops > 0, `drops counted: ${session.manifest.drops}`);
  assert.ok(
    session.manifest.notices.some((n: string) => /events\.json reached its size cap/.test(n)),
    JSON.stringify(session.manifest.notices),
  );
  assert.match(readFileSync(session.paths.log, 'utf8'), /event destination file:\/\/\S+events\.json: \d+ lines delivered, [1-9]\d* dropped/);
  const bad = await runBin(scopeBin, ['run', '--maxfilesize', '10 MB', '--', 'true'], envFor(home));
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--maxfilesize: "10 MB" is not a size of at least 4096 bytes/);
});

test('a file destination that cannot be written (a read-only file system, a directory) is refused before the command starts', async () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (mount)');
  const home = newHome();
  const ro = join(home, 'ro');
  execFileSync('mkdir', ['-p', ro]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]);
  try {
    const marker = join(home, 'ran');
    const r = await runBin(scopeBin, ['run', '--no-stream', '-e', `file://${ro}/events.json`, '--', 'touch', marker], envFor(home));
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`SCOPE_EVENT_DEST \\(events\\): file://${ro}/events\\.json: ${ro} is not writable \\(EROFS\\)`));
    assert.not.ok(existsSync(marker), 'the command never ran');
  } finally {
    execFileSync('umount', [ro]);
  }
  const dirDest = await runBin(scopeBin, ['run', '--no-stream', '-m', `file://${home}`, '--', 'true'], envFor(home));
  assert.is(dirDest.status, 2, dirDest.stderr);
  assert.match(dirDest.stderr, /SCOPE_METRIC_DEST \(metrics\): file:\/\/\S+: \S+ is a directory/);
});

test("a full SCOPE_HOME (a 64 KB tmpfs): the command's status kept, what is full said, the session marked cut short", async () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (mount)');
  const home = newHome();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', home]);
  try {
    const ran = await runBin(scopeBin, ['run', '--no-stream', '--', 'sh', '-c', 'for i in $(seq 300); do cat /etc/hostname >/dev/null; done; exit 3'], envFor(home));
    assert.is(ran.status, 3, ran.stderr);
    assert.not.match(ran.stderr, /internal error|\n\s+at /);
    assert.match(ran.stderr, /scope-run: error: session cut short: writing \S+session\.json failed \(ENOSPC: \S+ is on a full file system\)/);
    const session = await lastSession(home);
    assert.ok(session);
    assert.ok(session.manifest.end, 'the session is ended');
    assert.is(session.manifest.exitStatus, 3);
    assert.ok(
      session.manifest.notices.some((n: string) => n.startsWith('session cut short') && n.includes('ENOSPC')),
      JSON.stringify(session.manifest.notices),
    );
    // full before anything starts: said plainly, and the command is not run
    try {
      writeFileSync(join(home, 'fill'), Buffer.alloc(64 * 1024));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
    const marker = join(home, 'ran');
    const full = await runBin(scopeBin, ['run', '--no-stream', '--', 'touch', marker], envFor(home));
    assert.is(full.status, 1, full.stderr);
    assert.match(full.stderr, /^scope-run: cannot make a session in \S+: ENOSPC.*: the file system is full; the command was not started\n$/);
    assert.not.ok(existsSync(marker));
  } finally {
    execFileSync('umount', [home]);
  }
});

test("--app-stdout: while streaming, the command's stdout goes to the file", async () => {
  const home = newHome();
  const appOut = join(home, 'app.txt');
  const ran = await runBin(scopeRunBin, ['--app-stdout', appOut, '--', 'cat', hostFile], envFor(home));
  assert.is(ran.status, 0, ran.stderr);
  assert.is(readFileSync(appOut, 'utf8'), hostText);
  assert.is(ran.stderr, '');
  assert.ok(events(parseLines(ran.stdout), 'fs.open').some((e) => e.body.data.file === hostFile));
});

test('drops libscope reports reach session.json and a warning; the output is untouched', async () => {
  const home = newHome();
  // a log file: each write to it is a file event (a plain file on fd 1 would make none: not the console)
  const outFile = join(realpathSync(home), 'out.log');
  const fd = openSync(outFile, 'w');
  const prog = join(testProgramDir, 'manywrites');
  const ran = await runBin(scopeBin, ['run', '--', prog, '200000'], envFor(home, { SCOPE_QUEUE_LENGTH: '64' }), { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  assert.is(ran.status, 0, ran.stderr);
  assert.is(statSync(outFile).size, 200000);
  const { session, events: evs } = await readLast(home);
  const reported = events(evs, 'notice')
    .map((e) => /libscope dropped (\d+) records/.exec(e.body.data.message)?.[1])
    .reduce((sum, n) => sum + Number(n ?? 0), 0);
  assert.ok(reported > 0, 'the queue overflowed');
  assert.is(session.manifest.drops, reported);
  const fileEvents = events(evs, outFile).length;
  assert.is(fileEvents + reported, 200000, 'every write is either an event or a counted drop');
  assert.match(ran.stderr, new RegExp(`scope-run: warning: libscope dropped ${reported} records`));
});

test('streaming with statsd metrics: the stream stays NDJSON, the StatsD lines stay in the session', async () => {
  const home = newHome();
  const ran = await runBin(scopeRunBin, ['--metricformat', 'statsd', '--', 'cat', hostFile], envFor(home));
  assert.is(ran.status, 0, ran.stderr);
  const recs = parseLines(ran.stdout);
  assert.ok(recs.length > 0 && recs.every((r) => r.type === 'evt' || r.format === 'ndjson'));
  const session = await lastSession(home);
  assert.ok(session);
  assert.match(readFileSync(session.paths.metrics, 'utf8'), /^proc\.cpu:\d+\|c\|#/m);
});

test('scope run across a change of user: setpriv and runuser to nobody keep their status and output, and what runs as nobody is in the session', async () => {
  assert.is(process.getuid?.(), 0, 'this test needs root (setpriv, runuser)');
  for (const cmd of [
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '/bin/cat', hostFile],
    ['runuser', '-u', 'nobody', '--', 'sh', '-c', `cat ${hostFile}; ls / >/dev/null`],
  ]) {
    const home = newHome();
    const outFile = join(home, 'out.txt');
    const fd = openSync(outFile, 'w');
    const ran = await runBin(scopeBin, ['run', '--', ...cmd], envFor(home), { stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    assert.is(ran.status, 0, `${cmd[0]}: ${ran.stderr}`);
    assert.is(readFileSync(outFile, 'utf8'), hostText);
    const { session, events: evs } = await readLast(home);
    assert.is(session.manifest.exitStatus, 0);
    const cat = startRecords(evs).find((r) => r.info.process.procname === 'cat');
    assert.ok(cat, `${cmd[0]}: cat, running as nobody, is in the session`);
    assert.is(cat?.info.process.uid, 65534);
    assert.ok(events(evs, 'fs.open').some((e) => e.body.proc === 'cat' && e.body.data.file === hostFile));
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
