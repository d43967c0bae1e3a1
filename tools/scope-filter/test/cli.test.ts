/** The tool in real pipes: output formats, bad lines, policies, --explain, a closed pipe. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureFile, LINES, tagOf } from './fixture.js';
import { bin, run } from './helpers.js';
import { noForcedColour, tempDir } from '@scope/core/testing';

const input = fixtureFile();
const scopeBin = fileURLToPath(new URL('../../../scope/bin/scope.js', import.meta.url));
const tmp = () => tempDir('scope-filter-cli-');
const sh = (script: string) => spawnSync('bash', ['-o', 'pipefail', '-c', script], { encoding: 'utf8', env: { ...noForcedColour(), TZ: 'UTC' } });

test('in a pipe: NDJSON with matchedScopes and matchedPolicies in the body, the rest of the line as it came', () => {
  const r = sh(`cat ${input} | node ${bin} -f 3:comm=ls -f 9:event=fs.open | cat`);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const lsOpen = lines.find((l) => l.includes('"ls-open"')) as string;
  const original = LINES.find((l) => l.includes('"ls-open"')) as string;
  assert.is(lsOpen, original.replace('"body":{', '"body":{"matchedScopes":"260","matchedPolicies":["3","9"],'));
  assert.equal(
    lines.map(tagOf).filter((t) => !t.startsWith('start-')),
    ['sh-open:256', 'ls-open:260', 'ls-close:4', 'ls-error:4', 'ls-stdout:4', 'curl-open:256', 'long-open:256', 'notice:4', 'ghost-open:256', 'proc.cpu:pass'],
  );
});

test('--format table: SCOPES as 16 lowercase hex digits', () => {
  const r = run(['--format', 'table', '-f', '3:comm=ls', '-f', '9:event=fs.open', '-f', '64:pid=104'], { stdin: input });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0] as string, /^SCOPES +TIME +PID PROC +SOURCE +DATA$/);
  const row = lines.find((l) => l.includes('/etc/passwd') && l.includes('fs.open')) as string;
  assert.match(row, /^0000000000000104 \w{3} \d\d \d\d:\d\d:\d\d +101 ls +fs\.open +file:\/etc\/passwd/);
  const long = lines.find((l) => l.includes('/etc/hosts')) as string;
  assert.ok(long.startsWith('8000000000000100 '), long);
});

test('bad lines are named by line, the rest still filtered, exit 1; --strict stops at the first', () => {
  const dir = tmp();
  const file = join(dir, 'bad.json');
  writeFileSync(file, [LINES[5], '{"type":"evt","body":', 'not json', '{"type":"evt","body":{"source":"fs.open"}}', LINES[6]].join('\n') + '\n');
  const r = run(['-f', 'event=fs.open'], { stdin: file });
  assert.is(r.status, 1);
  assert.match(r.stderr, /scope-filter: stdin:2: /);
  assert.match(r.stderr, /scope-filter: stdin:3: /);
  assert.match(r.stderr, /scope-filter: stdin:4: event body without a "sourcetype" string/);
  assert.match(r.stderr, /3 bad input lines in stdin/);
  assert.equal(r.stdout.trim().split('\n').map(tagOf), ['sh-open:1', 'ls-open:1']);
  const strict = run(['--strict', '-f', 'event=fs.open'], { stdin: file });
  assert.is(strict.status, 1);
  assert.match(strict.stderr, /stdin:2: /);
  assert.not.match(strict.stderr, /stdin:3: /);
  assert.equal(strict.stdout.trim().split('\n').map(tagOf), ['sh-open:1']);
});

test('--policy: names in matchedPolicies, rules constrain their event, Tracee layout read too', () => {
  const dir = tmp();
  writeFileSync(join(dir, '1-web.yml'), ['name: web-errors', 'scope: [comm=nginx]', 'rules:', '  - event: http.resp', '    filters: [data.http_status_code>=500]'].join('\n'));
  writeFileSync(
    join(dir, '2-dns.yaml'),
    [
      'apiVersion: tracee.aquasec.com/v1beta1',
      'kind: Policy',
      'metadata: {name: example-dns}',
      'spec:',
      '  scope: [global]',
      '  rules:',
      '    - event: dns.req',
      '      filters: ["data.domain=*.example.com"]',
    ].join('\n'),
  );
  const r = run(['--policy', dir], { stdin: input });
  assert.is(r.status, 0, r.stderr);
  const recs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((x) => x.type === 'evt');
  assert.equal(
    recs.map((x) => [x.body.tag, x.body.matchedScopes, x.body.matchedPolicies]),
    [
      ['curl-dns1', '2', ['example-dns']],
      ['nginx-503', '1', ['web-errors']],
    ],
  );
  const ex = run(['--explain', '--policy', dir]);
  assert.is(ex.status, 0, ex.stderr);
  assert.ok(ex.stdout.includes('scope 1 (policy "web-errors")'), ex.stdout);
  assert.ok(ex.stdout.includes('http.resp records only where data.http_status_code is 500, or is above 500'), ex.stdout);
});

test('--explain: each scope in plain words, and the SCOPE_FILTER for libscope; reads nothing', () => {
  const r = run(['--explain', '-f', 'comm=ls,curl', '-f', 'event=fs.*', '-f', '2:tree=100', '-f', '2:follow', '-f', '2:pid!=101', '-f', '3:dns.req.data.domain=*.example.com']);
  assert.is(r.status, 0, r.stderr);
  for (const words of [
    'scope 1:',
    'records: anything starting with "fs."',
    'from processes where the process name is "ls" or "curl"',
    'scope 2:',
    'in the process tree of pid 100',
    'the pid is not 101',
    'and their descendants',
    'scope 3:',
    'dns.req records only where data.domain is anything ending with ".example.com"',
    'SCOPE_FILTER): 1:comm=ls,curl;1:event=fs.*;2:tree=100;2:follow;2:pid!=101;3:dns.req.data.domain=*.example.com',
  ])
    assert.ok(r.stdout.includes(words), `${words}\n---\n${r.stdout}`);
});

test('a reader that goes away ends the tool quietly with status 0', () => {
  const dir = tmp();
  const big = join(dir, 'big.json');
  writeFileSync(big, Array.from({ length: 4000 }, () => LINES.join('\n')).join('\n') + '\n');
  const r = sh(`node ${bin} -f event=* < ${big} | head -1 >/dev/null; echo "status \${PIPESTATUS[0]}"`);
  assert.ok(r.stdout.includes('status 0'), r.stdout + r.stderr);
  assert.is(r.stderr, '');
});

test('the umbrella runs it as `scope filter`', () => {
  const r = sh(`node ${scopeBin} filter -f pid=102 -f event=dns.req < ${input}`);
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    r.stdout
      .trim()
      .split('\n')
      .map(tagOf)
      .filter((t) => !t.startsWith('start-')),
    ['curl-dns1:1', 'curl-dns2:1', 'proc.cpu:pass'],
  );
});

test('reading stdin, a live pid without a start record is looked up in /proc', () => {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const dir = tmp();
    const file = join(dir, 'live.json');
    const rec = {
      type: 'evt',
      id: 'x',
      _channel: '0',
      body: { sourcetype: 'fs', _time: 1796000000, source: 'fs.open', host: hostname(), proc: 'sleep', cmd: 'sleep 30', pid: sleeper.pid, data: { file: '/x', op: 'open', fd: 3 } },
    };
    writeFileSync(file, JSON.stringify(rec) + '\n');
    const exe = realpathSync('/usr/bin/sleep');
    const hit = run(['-f', `ppid=${process.pid}`, '-f', `binary=${exe}`], { stdin: file });
    assert.is(hit.status, 0, hit.stderr);
    assert.is(JSON.parse(hit.stdout).body.matchedScopes, '1');
    const miss = run(['-f', 'ppid=1'], { stdin: file });
    assert.is(miss.stdout, '');
  } finally {
    sleeper.kill();
  }
});

test('a stray argument is a usage error', () => {
  const r = run(['comm=ls'], { stdin: input });
  assert.is(r.status, 2);
  assert.match(r.stderr, /unexpected argument "comm=ls" \(a filter is given with -f\)/);
});

test.run();
