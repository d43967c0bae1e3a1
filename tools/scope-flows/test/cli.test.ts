import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, matchGolden, run, start, umbrella, waitFor } from './helpers.js';
import { tempDir } from '@scope/core/testing';

const flowsFile = `${fixtures}flows.ndjson`;
const flowsText = readFileSync(flowsFile, 'utf8');
const session = `${fixtures}session`;
const lines = (s: string) => s.split('\n').filter((l) => l !== '');
const parse = (s: string) => lines(s).map((l) => JSON.parse(l) as Record<string, unknown>);

// ---- golden: the two formats and every listing option ----

const cases: [string, string[]][] = [
  ['table.txt', ['--pretty']],
  ['flows.ndjson', []],
  ['json-forced.ndjson', ['--json']],
  ['sort-peer.txt', ['--pretty', '--sort', 'peer']],
  ['sort-in-reverse.txt', ['--pretty', '--sort', 'in', '--reverse']],
  ['sort-duration-r.txt', ['--pretty', '-s', 'duration', '-r']],
  ['sort-pid.ndjson', ['--sort', 'pid', '--reverse']],
  ['sort-local.txt', ['--pretty', '--sort=local']],
  ['peer-v4.txt', ['--pretty', '--peer', '10.0.0.0/8']],
  ['peer-v6.txt', ['--pretty', '--peer', '2001:db8::/32']],
  ['peer-list.ndjson', ['--peer', '127.0.0.1,2001:db8::17']],
  ['peer-none.txt', ['--pretty', '--peer', '203.0.113.0/24']],
];

for (const [name, args] of cases) {
  test(`golden ${name}: scope-flows ${args.join(' ')} < flows.ndjson`, () => {
    const r = run(args, { input: flowsText });
    assert.is(r.stderr, '');
    assert.is(r.status, 0);
    matchGolden(name, r.stdout);
  });
}

test('stdin from a file gives the same records as from a pipe', () => {
  const r = run([], { stdinFile: flowsFile });
  assert.is(r.status, 0);
  matchGolden('flows.ndjson', r.stdout);
});

test('the NDJSON records: one per flow, TCP v4/v6, UDP, unix, open, protocols, two pids on one channel', () => {
  const recs = parse(run([], { input: flowsText }).stdout);
  assert.equal(
    recs.map((r) => r['type']),
    Array(6).fill('flow'),
  );
  assert.equal(
    recs.map((r) => r['protocol']),
    ['IP.TCP HTTP', 'IP.TCP TLS', 'Unix.TCP HTTP', 'IP.UDP', 'IP.TCP TLS HTTP/2', 'IP.TCP HTTP'],
  );
  assert.equal(
    recs.map((r) => r['close']),
    ['local', 'open', 'local', 'local', 'remote', 'remote'],
  );
  assert.equal(
    recs.map((r) => r['pid']),
    [4500, 4500, 4710, 5120, 9002, 9003],
  );
  assert.equal(recs[4]!['channel'], recs[5]!['channel']);
  assert.equal([recs[0]!['bytes_in'], recs[0]!['bytes_out']], [912, 78]);
  assert.equal([recs[1]!['bytes_in'], recs[1]!['duration']], [null, 40190]);
  assert.is(recs[2]!['peer'], 'unix:28911');
  assert.is(recs[4]!['peer'], '[2001:db8::17]:51544');
  assert.not.ok('payload_in' in recs[0]!, 'no payload paths without a session');
});

test('the umbrella runs it: scope flows', () => {
  const r = run(['flows', '--pretty'], { input: flowsText, command: [umbrella] });
  assert.is(r.status, 0, r.stderr);
  matchGolden('table.txt', r.stdout);
});

// ---- sessions and payloads ----

test('golden session.ndjson: a session with payload files adds payload_in/payload_out', () => {
  const r = run(['--session', session]);
  assert.is(r.status, 0, r.stderr);
  matchGolden('session.ndjson', r.stdout.split(session).join('<SESSION>'));
});

test('--in / --out dump the payload bytes raw', () => {
  const out = run(['--session', session, '--out', '1']);
  assert.is(out.status, 0, out.stderr);
  assert.ok(out.raw.equals(readFileSync(`${session}/payloads/4500_127.0.0.1:8080_127.0.0.1:40112.out`)));
  assert.ok(out.stdout.startsWith('GET / HTTP/1.1\r\n'));
  const inn = run(['--session', session, '--in', '1']);
  assert.ok(inn.raw.equals(readFileSync(`${session}/payloads/4500_127.0.0.1:8080_127.0.0.1:40112.in`)));
  const unix = run(['--session', session, '--in', '3']);
  assert.is(unix.stdout, 'HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\n\r\n[]\n');
  const udp = run(['--session', session, '--out', '4']);
  assert.is(udp.stdout, '<14>Nov 23 09:26:44 host app: hello\n', 'UDP file with an empty local address');
});

test('--in/--out: no payload file, unknown id, stdin input, both at once', () => {
  const none = run(['--session', session, '--out', '2']);
  assert.is(none.status, 1);
  assert.is(none.stdout, '');
  assert.is(none.stderr, 'scope-flows: flow 2 has no captured payload (run with scope run -p)\n');
  const unknown = run(['--session', session, '--in', 'zz']);
  assert.is(unknown.status, 1);
  assert.match(unknown.stderr, 'scope-flows: no flow with id "zz"');
  const stdin = run(['--in', '1'], { input: flowsText });
  assert.is(stdin.status, 2);
  assert.match(stdin.stderr, 'scope-flows: --in reads payload files from a session');
  const both = run(['--session', session, '--in', '1', '--out', '1']);
  assert.is(both.status, 2);
  assert.match(both.stderr, 'use one of --in and --out');
});

test('--id N and the last session under SCOPE_HOME', () => {
  const home = tempDir('scope-flows-home-');
  cpSync(session, join(home, 'history', 'curl_7_100_1763890002000000000'), { recursive: true });
  const byId = run(['--id', '7', '--json'], { env: { SCOPE_HOME: home } });
  assert.is(byId.status, 0, byId.stderr);
  assert.is(parse(byId.stdout).length, 6);
  const last = run(['--pretty'], { env: { SCOPE_HOME: home } });
  assert.is(last.status, 0, last.stderr);
  matchGolden('table.txt', last.stdout);
  const dump = run(['--in', '3'], { env: { SCOPE_HOME: home } });
  assert.match(dump.stdout, 'Api-Version');
  const missing = run(['--id', '99'], { env: { SCOPE_HOME: home } });
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /^scope-flows: no session with id 99 in /);
  const empty = tempDir('scope-flows-empty-');
  const none = run([], { env: { SCOPE_HOME: empty } });
  assert.is(none.status, 1);
  assert.match(none.stderr, /^scope-flows: no session in /);
});

test('a missing session directory', () => {
  const r = run(['--session', '/nonexistent/scope-session']);
  assert.is(r.status, 1);
  assert.is(r.stderr, 'scope-flows: /nonexistent/scope-session: not a scope session (no readable session.json)\n');
});

// ---- bad input ----

test('bad lines are named; every good flow is still printed; status 1', () => {
  const r = run([], { input: readFileSync(`${fixtures}bad.ndjson`, 'utf8') });
  assert.is(r.status, 1);
  matchGolden('bad.stdout.ndjson', r.stdout);
  matchGolden('bad.stderr.txt', r.stderr);
  assert.match(r.stderr, 'scope-flows: stdin: 1 torn record skipped'); // line 2, an event cut short
  assert.match(r.stderr, 'scope-flows: stdin:3: ');
  assert.match(r.stderr, 'scope-flows: stdin:5: not a scope record');
  assert.match(r.stderr, 'scope-flows: stdin:7: net.close event without an integer body.pid');
});

test('a wrong-shaped record after blank lines is named by its own line', () => {
  const r = run([], { input: '\n\n{"type":"evt","body":{"source":"net.close","pid":"x"}}\n' });
  assert.is(r.status, 1);
  assert.match(r.stderr, /^scope-flows: stdin:3: /);
});

test('--strict stops at the first bad line', () => {
  const r = run(['--strict'], { input: readFileSync(`${fixtures}bad.ndjson`, 'utf8') });
  assert.is(r.status, 1);
  assert.equal(
    parse(r.stdout).map((f) => [f['id'], f['close']]),
    [['1', 'open']],
    'what came before the bad line',
  );
  // the bad line 3, and the torn record of line 2 counted at the end
  assert.is(lines(r.stderr).filter((l) => l.startsWith('scope-flows:')).length, 2);
  assert.match(r.stderr, 'scope-flows: stdin: 1 torn record skipped');
  // a wrong-shaped record also stops it
  const shape = `${lines(flowsText).slice(0, 3).join('\n')}\n{"x":1}\n${flowsText}`;
  const s = run(['--strict'], { input: shape });
  assert.is(s.status, 1);
  assert.match(s.stderr, 'scope-flows: stdin:4: not a scope record');
  assert.is(parse(s.stdout).length, 1, 'only what came before it');
});

test('bad lines in a session file name the file and line', () => {
  const home = tempDir('scope-flows-bad-');
  const dir = join(home, 'history', 'curl_1_1_1');
  cpSync(session, dir, { recursive: true });
  rmSync(join(dir, 'payloads'), { recursive: true });
  writeFileSync(join(dir, 'events.json'), readFileSync(`${fixtures}bad.ndjson`));
  const r = run(['--json'], { env: { SCOPE_HOME: home } });
  assert.is(r.status, 1);
  assert.match(r.stderr, `scope-flows: ${join(dir, 'events.json')}: 1 torn record skipped`);
  assert.match(r.stderr, `scope-flows: ${join(dir, 'events.json')}:7: net.close`);
  assert.is(r.stdout, readFileSync(`${fixtures}../golden/bad.stdout.ndjson`, 'utf8'));
});

// ---- usage errors ----

const usage: [string[], string][] = [
  [['--peer', '10.0.0.300/8'], '--peer: "10.0.0.300/8" is not an IPv4 or IPv6 address or CIDR network'],
  [['--peer', '::1/200'], '--peer: "::1/200"'],
  [['--sort', 'colour'], '--sort: "colour" is not a field'],
  [['--bogus'], 'unknown option "--bogus"'],
  [['a.json', 'b.json'], 'one input at most (a file, a session directory or -), not "b.json" too'],
  [['--follow', '--sort', 'in'], '--sort cannot be used with --follow'],
  [['--follow', '--in', '1'], '--in cannot be used with --follow'],
  [['--json', '--pretty'], 'use one of --json and --pretty'],
  [['--id', 'abc'], '--id: "abc" is not a session id'],
  [['--out', '1/2'], '--out: "1/2" is not a flow id'],
  [['--peer'], '--peer: "" is not an IPv4 or IPv6 address'],
];
for (const [args, message] of usage) {
  test(`usage error: ${args.join(' ')}`, () => {
    const r = run(args, { input: flowsText });
    assert.is(r.status, 2);
    assert.is(r.stdout, '');
    assert.ok(r.stderr.startsWith(`scope-flows: ${message}`), r.stderr);
    assert.match(r.stderr, 'USAGE');
  });
}

test('--help', () => {
  const r = run(['--help']);
  assert.is(r.status, 0);
  assert.match(r.stdout, '--peer');
  assert.match(r.stdout, '--out');
});

// ---- --follow ----

test('--follow writes each flow when it closes, and the open ones when stopped', async () => {
  const home = tempDir('scope-flows-follow-');
  const dir = join(home, 'history', 'curl_1_1_1');
  cpSync(session, dir, { recursive: true });
  const all = lines(flowsText);
  const events = join(dir, 'events.json');
  writeFileSync(events, all.slice(0, 7).join('\n') + '\n'); // curl's first flow closes at line 7
  const p = start(['--follow', '--json'], { SCOPE_HOME: home });
  try {
    await waitFor(() => p.out().includes('\n'), 'the first closed flow');
    assert.equal(
      parse(p.out()).map((r) => r['id']),
      ['1'],
    );
    appendFileSync(events, all.slice(7).join('\n') + '\n');
    await waitFor(() => lines(p.out()).length >= 4, 'the other closed flows');
    assert.equal(
      parse(p.out()).map((r) => r['id']),
      ['1', '3', '4', '6', '5'].slice(0, lines(p.out()).length),
    );
    await waitFor(() => lines(p.out()).length >= 5, 'flow 5');
  } finally {
    p.child.kill('SIGINT');
  }
  assert.is(await p.done, 0, p.err());
  const recs = parse(p.out());
  assert.equal(
    recs.map((r) => r['id']),
    ['1', '3', '4', '6', '5', '2'],
    'in closing order, then the open flow',
  );
  assert.is(recs[5]!['close'], 'open');
  assert.is(recs[0]!['payload_out'], join(dir, 'payloads', '4500_127.0.0.1:8080_127.0.0.1:40112.out'));
});

test('--follow --pretty prints a header and rows as flows close', async () => {
  const home = tempDir('scope-flows-follow-');
  const dir = join(home, 'history', 'curl_1_1_1');
  cpSync(session, dir, { recursive: true });
  const p = start(['--follow', '--pretty', '--peer', '10.0.0.0/8'], { SCOPE_HOME: home });
  try {
    await waitFor(() => lines(p.out()).length >= 3, 'two rows');
  } finally {
    p.child.kill('SIGINT');
  }
  assert.is(await p.done, 0, p.err());
  matchGolden('follow-peer.txt', p.out());
});

test.run();

test('a record nested 100 000 deep is a bad line (stdin:N, counted, status 1), not a RangeError', () => {
  const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
  const r = run(['--json'], { input: deep + '\n' });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /^scope-flows: stdin:1: .*\n {2}\(nested too deeply to show\)\n/);
  assert.not.match(r.stderr, /RangeError|internal error|\n {4}at /);
});
