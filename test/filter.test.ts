/**
 * Pushdown parity: one scripted workload (sh running a local python3 HTTP server, curl against it,
 * ls, cat) run twice, once as `scope run -- … | scope filter -f …` and once as `scope run -f … -- …`,
 * must give the same records with the same matchedScopes (compared without times, ids, pids, ports
 * and durations, which differ between any two runs). And a process that no scope can match makes
 * no events at all.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFor, freePort, newHome, parseLines, readLast, repoRoot, scopeBin, assertValidSession } from './lib/harness.js';
import type { Rec } from './lib/harness.js';
import { validateRecord } from '@scope/schemas';
import { tempDir } from '@scope/core/testing';

const filterBin = join(repoRoot, 'tools/scope-filter/bin/scope-filter.js');

/** The served directory and the script; the server is ready when it has printed its first line. */
function workload(port: number): { dir: string; script: string } {
  const dir = tempDir('scope-parity-');
  writeFileSync(join(dir, 'hello.txt'), 'hello from the parity test\n');
  const script = join(dir, 'work.sh');
  writeFileSync(
    script,
    [
      'set -e',
      `cd ${dir}`,
      'rm -f ready',
      'mkfifo ready',
      // A server that answers exactly the two requests below and exits on its own, so its last
      // records are flushed at exit (a killed process may not get to write what it still holds).
      `python3 -u -c "import functools, http.server as h; s = h.HTTPServer(('127.0.0.1', ${port}), functools.partial(h.SimpleHTTPRequestHandler, directory='${dir}')); print('ready'); [s.handle_request() for _ in range(2)]" > ready 2>/dev/null &`,
      'srv=$!',
      'read line < ready',
      `curl -s --noproxy '*' -o /dev/null http://127.0.0.1:${port}/hello.txt`,
      `curl -s --noproxy '*' -o /dev/null http://127.0.0.1:${port}/missing.txt`,
      'wait $srv',
      'ls . > /dev/null',
      'cat hello.txt > /dev/null',
      '',
    ].join('\n'),
  );
  return { dir, script };
}

/** What stays the same between two runs of the workload. */
function stable(r: Rec): string {
  const top = r['matchedScopes'] !== undefined ? r : (r['body'] ?? {});
  const scopes = `${top['matchedScopes'] ?? '-'} ${JSON.stringify(top['matchedPolicies'] ?? [])}`;
  if (r['info']?.process) return `start ${r['info'].process.procname} ${r['info'].process.exe ?? ''} ${scopes}`;
  const b = r['body'];
  const d = b.data ?? {};
  const keep = ['file', 'op', 'http_method', 'http_target', 'http_status_code', 'errno_name', 'net_transport', 'net_protocol', 'message', 'domain'];
  const data = keep
    .filter((k) => d[k] !== undefined)
    .map((k) => `${k}=${typeof d[k] === 'string' ? d[k].replace(/\d{4,}/g, 'N') : d[k]}`)
    .join(' ');
  return `${b.source} ${b.proc} ${data} ${scopes}`;
}

const FILTERS = [
  '-f',
  '1:event=start.msg',
  '-f',
  '1:comm=ls,cat',
  '-f',
  '2:comm=curl',
  '-f',
  '2:event=http.*',
  '-f',
  '3:event=http.resp',
  '-f',
  '3:http.resp.data.http_status_code>=400',
  '-f',
  '9:comm=sh',
  '-f',
  '9:follow',
  '-f',
  '9:event=fs.open',
  '-f',
  '9:fs.open.data.file=/tmp/scope-parity-*',
  '-f',
  '64:event=http.req',
  '-f',
  '64:not-container',
];

test('scope run -f gives the same records and matchedScopes as scope run | scope filter', async () => {
  const port = await freePort('tcp');
  const { script } = workload(port);

  const home1 = newHome();
  const streamed = spawnSync('bash', ['-o', 'pipefail', '-c', `node ${scopeBin} run -- sh ${script} | node ${filterBin} ${FILTERS.map((f) => `'${f}'`).join(' ')}`], {
    env: envFor(home1),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(streamed.status, 0, streamed.stderr);
  const streamedRecords = parseLines(streamed.stdout);
  // What scope filter wrote (matchedScopes and all) is what schemas/ allows.
  for (const r of streamedRecords) {
    const v = validateRecord(r);
    if (!v.ok) assert.unreachable(`${JSON.stringify(r)}\n${v.errors.join('\n')}`);
  }
  const viaStream = streamedRecords.filter((r) => r['type'] !== 'metric');

  const home2 = newHome();
  const pushed = spawnSync(process.execPath, [scopeBin, 'run', '--no-stream', ...FILTERS, '--', 'sh', script], { env: envFor(home2), encoding: 'utf8', timeout: 60_000 });
  assert.is(pushed.status, 0, pushed.stderr);
  const { session, events } = await readLast(home2);
  await assertValidSession(session);
  const viaLib = events.filter((r) => r['type'] === 'evt' || r['matchedScopes'] !== undefined);

  const a = viaStream
    .filter((r) => r['type'] === 'evt' || r['matchedScopes'] !== undefined)
    .map(stable)
    .sort();
  const b = viaLib.map(stable).sort();
  assert.equal(b, a);

  // The comparison is about something: each scope matched, and scope 3 with scope 2 (curl's 404).
  const joined = a.join('\n');
  assert.match(joined, /^start ls .* 1 \["1"\]$/m);
  assert.match(joined, /^start cat .* 1 \["1"\]$/m);
  assert.match(joined, /^http\.req curl .* 9223372036854775810 \["2","64"\]$/m);
  assert.match(joined, /^http\.resp curl .*http_target=\/missing\.txt http_status_code=404 .* 6 \["2","3"\]$/m);
  assert.match(joined, /^http\.resp python3 .*http_status_code=404 .* 4 \["3"\]$/m);
  assert.match(joined, /^fs\.open python3 .*hello\.txt.* 256 \["9"\]$/m);
  assert.match(joined, /^fs\.open cat .*hello\.txt.* 256 \["9"\]$/m);
  // Every record libscope wrote for a scope carries matchedScopes; nothing else is an event.
  for (const r of events.filter((x) => x['type'] === 'evt')) assert.ok(r['body'].matchedScopes !== undefined, JSON.stringify(r));
});

test('a process excluded by comm makes no events at all (its start record and metrics still come)', async () => {
  const port = await freePort('tcp');
  const { script } = workload(port);
  const home = newHome();
  const ran = spawnSync(process.execPath, [scopeBin, 'run', '--no-stream', '-f', 'comm=curl', '--', 'sh', script], { env: envFor(home), encoding: 'utf8', timeout: 60_000 });
  assert.is(ran.status, 0, ran.stderr);
  const { session, events, metrics } = await readLast(home);
  await assertValidSession(session);
  const procs = new Set(events.filter((r) => r['type'] === 'evt').map((r) => r['body'].proc));
  assert.equal([...procs], ['curl']);
  const started = new Set(events.filter((r) => r['info']?.process).map((r) => r['info'].process.procname));
  for (const p of ['sh', 'python3', 'ls', 'cat', 'curl']) assert.ok(started.has(p), `start record of ${p}: ${[...started]}`);
  assert.ok(
    metrics.some((m) => m['body']?.proc === 'ls'),
    'ls still reports metrics',
  );
  const env = readFileSync(join(session.dir, 'scope.env'), 'utf8');
  assert.match(env, /^SCOPE_FILTER=1:comm=curl$/m);
});

test('scope run with a bad filter runs nothing and says why (status 2)', async () => {
  const home = newHome();
  const marker = join(home, 'ran');
  const ran = spawnSync(process.execPath, [scopeBin, 'run', '-f', 'fs.open.data.nope=1', '--', 'sh', '-c', `touch ${marker}`], { env: envFor(home), encoding: 'utf8' });
  assert.is(ran.status, 2);
  assert.match(ran.stderr, /scope-run: -f "fs\.open\.data\.nope=1": fs\.open has no data field "nope"/);
  assert.not.ok(spawnSync('test', ['-e', marker]).status === 0, 'the command did not run');
});

test.run();
