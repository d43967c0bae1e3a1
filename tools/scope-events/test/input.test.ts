/** Bad input, sessions, usage errors, the terminal defaults, and the pure helpers. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatValue } from '@scope/core';
import { parseShortId, shortId, sortItems } from '../src/events.js';
import { bin, fixtures, run, toolEnv } from './helpers.js';
import { tool } from '../src/command.js';
import { tempDir } from '@scope/core/testing';

const bad = `${fixtures}bad.ndjson`;
const events = `${fixtures}events.ndjson`;
const badLines = readFileSync(bad, 'utf8').split('\n');

// line 2 is a torn record (an event cut short): not a bad line, one warning at the end
const TORN = 'scope-events: stdin: 1 torn record skipped (a writer killed in the middle of writing it)';
const expectedMessages = [
  `scope-events: stdin:4: Unexpected token 'h', "this is not json" is not valid JSON`,
  'scope-events: stdin:5: event without a "body" object',
  'scope-events: stdin:6: not a JSON object',
  'scope-events: stdin:9: not a scope record (no "type", and not a process-start record)',
];

/** The first line of each message (the second shows the start of the bad text). */
const messages = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('scope-events:'));

test('bad lines: each named with its line on stderr, every good record still written, status 1 (NDJSON)', () => {
  const r = run(['--json'], { stdin: bad });
  assert.is(r.status, 1);
  assert.equal(messages(r.stderr), [...expectedMessages, TORN]);
  assert.ok(r.stderr.includes('\n  this is not json\n'), 'the bad text is shown');
  assert.is(r.stdout, [badLines[0], badLines[2], badLines[7], badLines[9]].join('\n') + '\n');
});

test('bad lines in the people format: the good events shown with their own ids', () => {
  const r = run(['--pretty'], { stdin: bad });
  assert.is(r.status, 1);
  assert.equal(messages(r.stderr), [...expectedMessages, TORN]);
  assert.equal(
    r.stdout.split('\n').map((l) => l.slice(0, 3)),
    ['[1]', '[3]', '[8]', ''],
  );
});

test('torn records only (writers killed mid-line, inside and at the end): skipped with one counted warning, status 0', () => {
  const dir = tempDir('scope-events-torn-');
  const file = join(dir, 'events.json');
  const good = [badLines[0], badLines[2]];
  writeFileSync(file, `${good[0]}\n${badLines[1]}\n${good[1]}\n${badLines[0]!.slice(0, 33)}`);
  const r = run(['--json'], { stdin: file });
  assert.is(r.status, 0, r.stderr);
  assert.equal(messages(r.stderr), [TORN.replace('1 torn record', '2 torn records')]);
  assert.is(r.stdout, good.join('\n') + '\n');
});

test('--strict stops at the first bad line', () => {
  const r = run(['--pretty', '--strict'], { stdin: bad });
  assert.is(r.status, 1);
  assert.equal(messages(r.stderr), [expectedMessages[0], TORN], 'the torn record before it skipped');
  assert.is(r.stdout.split('\n').length, 3);
});

test('with --match, lines without the text are not parsed but torn and non-JSON ones are still reported', () => {
  const r = run(['--pretty', '-m', 'dns'], { stdin: bad });
  assert.is(r.status, 1);
  assert.equal(messages(r.stderr), [expectedMessages[0], expectedMessages[2], TORN]);
  assert.match(r.stdout, /^\[8\] .* dns\.req /);
});

test('an event id that names a bad line', () => {
  const r = run(['--json', '5'], { stdin: bad });
  assert.is(r.status, 1);
  assert.equal(messages(r.stderr), [expectedMessages[1], 'scope-events: no event 5 in stdin']);
});

// ---------------------------------------------------------------------------------------------
// Sessions

function makeHome(): { home: string; dir: string } {
  const home = tempDir('scope-events-home-');
  const dir = join(home, 'history', 'curl_1_4242_1763890000000000000');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'session.json'), JSON.stringify({ id: 1, cmd: 'curl', args: ['curl'], pid: 4242 }));
  copyFileSync(events, join(dir, 'events.json'));
  writeFileSync(join(home, 'count'), '1\n');
  return { home, dir };
}

test('a session: the last one, --id N and --session DIR all read its events.json', () => {
  const { home, dir } = makeHome();
  const want = run(['--pretty', '-t', 'net'], { stdin: events }).stdout;
  assert.ok(want.length > 0);
  for (const flags of [[], ['--id', '1'], ['-i', '1'], ['--session', dir]]) {
    const r = run(['--pretty', '-t', 'net', ...flags], { env: { SCOPE_HOME: home } });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, want);
  }
  const one = run(['c', '--json', '--id', '1'], { env: { SCOPE_HOME: home } });
  assert.is(one.stdout, readFileSync(events, 'utf8').split('\n')[11] + '\n');
  const none = run(['zz', '--id', '1'], { env: { SCOPE_HOME: home } });
  assert.is(none.status, 1);
  assert.is(none.stderr, `scope-events: no event zz in ${dir}\n`);
});

test('a missing session, an unknown --id, no session at all: a message naming it, status 1', () => {
  const { home } = makeHome();
  const missing = run(['--session', '/nonexistent/session'], { env: { SCOPE_HOME: home } });
  assert.is(missing.status, 1);
  assert.is(missing.stderr, 'scope-events: /nonexistent/session: not a scope session (no readable session.json)\n');
  const unknown = run(['--id', '7'], { env: { SCOPE_HOME: home } });
  assert.is(unknown.status, 1);
  assert.is(unknown.stderr, `scope-events: no session with id 7 in ${join(home, 'history')}\n`);
  const empty = tempDir('scope-events-empty-');
  const nothing = run([], { env: { SCOPE_HOME: empty } });
  assert.is(nothing.status, 1);
  assert.match(nothing.stderr, /^scope-events: no session in .*history: run a command with "scope run" first\n$/);
});

test('usage errors: status 2 and a message naming the flag or value', () => {
  const cases: Array<[string[], string]> = [
    [['--bogus'], 'unknown option "--bogus"'],
    [['-x'], 'unknown option "-x"'],
    [['--last', 'many'], '--last: "many" is not a number of events'],
    [['not-an-id!'], '"not-an-id!" is neither a file, a session directory nor an event id'],
    [['2s', '3s'], 'one event id at most (got 2s 3s)'],
    [['-', '/dev/null'], 'one input at most'],
    [['--json', '--pretty'], '--json and --pretty cannot be used together'],
    [['-f', '--sort', '_time'], '--sort cannot be used with --follow'],
    [['--source', ','], '--source: give at least one name'],
    [['--id', 'abc'], '--id: "abc" is not a session id'],
  ];
  const { home } = makeHome();
  for (const [args, message] of cases) {
    const r = run(args, { env: { SCOPE_HOME: home } });
    assert.is(r.status, 2, args.join(' '));
    assert.ok(r.stderr.startsWith(`scope-events: ${message}`), `${args.join(' ')}: ${r.stderr}`);
  }
  const help = run(['--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /--sourcetype/);
});

// ---------------------------------------------------------------------------------------------
// On a terminal (a pty made by script(1))

function onTerminal(args: string[], env: Record<string, string>): { status: number | null; stdout: string } {
  const cmd = [process.execPath, bin, ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: toolEnv(env), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout.replace(/\r\n/g, '\n') };
}

test('on a terminal: people format in colour, the last 20 events by default, --all for every one', () => {
  const { home } = makeHome();
  const r = onTerminal([], { SCOPE_HOME: home });
  assert.is(r.status, 0);
  const lines = r.stdout.split('\n').filter((l) => l.includes('\u001b[2m['));
  assert.is(lines.length, 20);
  assert.ok(lines[0]!.startsWith('\u001b[2m[5]\u001b[22m \u001b[2mNov 23 09:26:41\u001b[22m curl \u001b[36mdns\u001b[39m'), JSON.stringify(lines[0]));
  assert.match(r.stdout, /scope-events: showing the last 20 of 23 events \(--all for every one\)/);
  const all = onTerminal(['-a'], { SCOPE_HOME: home });
  assert.is(all.stdout.split('\n').filter((l) => l.startsWith('\u001b[2m[')).length, 23);
  const filtered = onTerminal(['-t', 'fs'], { SCOPE_HOME: home });
  assert.is(filtered.stdout.split('\n').filter((l) => l.startsWith('\u001b[2m[')).length, 6, 'a filter lifts the default limit');
});

test('NO_COLOR turns colour off on a terminal; --json on a terminal writes NDJSON', () => {
  const { home } = makeHome();
  const r = onTerminal(['-a'], { SCOPE_HOME: home, NO_COLOR: '1' });
  assert.not.match(r.stdout, /\u001b\[/);
  assert.match(r.stdout, /^\[2\] Nov 23 09:26:40 curl fs {6}fs\.open {3}file:\/etc\/hosts op:openat fd:3\n/);
  const j = onTerminal(['--json', '-t', 'dns'], { SCOPE_HOME: home });
  assert.is(j.stdout.split('\n').filter((l) => l.startsWith('{"type":"evt"')).length, 2);
});

// ---------------------------------------------------------------------------------------------
// Helpers

test('ids are base-36 line numbers', () => {
  assert.is(shortId(1), '1');
  assert.is(shortId(35), 'z');
  assert.is(shortId(36), '10');
  assert.is(parseShortId('10'), 36);
  assert.is(parseShortId('Z'), 35);
  assert.is(parseShortId('0'), null);
  assert.is(parseShortId('a-b'), null);
});

test('values: strings bare, others compact JSON, control characters escaped, cut at 40 with …', () => {
  assert.is(formatValue('abc'), 'abc');
  assert.is(formatValue({ a: [1, 2] }), '{"a":[1,2]}');
  assert.is(formatValue('a\nb'), 'a\\nb');
  const cut = formatValue('x'.repeat(41));
  assert.is(cut.length, 40);
  assert.is(cut, 'x'.repeat(39) + '…');
  assert.is(formatValue('y'.repeat(40)), 'y'.repeat(40));
});

test('sorting: numbers numerically, strings lexicographically, records lacking the field last either way', () => {
  const rec = (d: unknown) => ({ rec: { type: 'evt', body: { data: d === undefined ? {} : { d } } } });
  const items = [rec(10), rec(undefined), rec(9), rec('b'), rec(100), rec('a')];
  const ds = (xs: typeof items) => xs.map((x) => (x.rec.body.data as { d?: unknown }).d);
  assert.equal(ds(sortItems(items, 'data.d', false)), [9, 10, 100, 'a', 'b', undefined]);
  assert.equal(ds(sortItems(items, 'data.d', true)), ['b', 'a', 100, 10, 9, undefined]);
});

test('the tool the umbrella imports', () => {
  assert.is(tool.name, 'scope-events');
  assert.is(tool.keepRunningOnEpipe, undefined);
  assert.type(tool.main, 'function');
});

test.run();

test('a 32 MB line is refused as a bad line (its length and the limit said), a 3 MB one is read, both around good lines', () => {
  const dir = tempDir('scope-events-long-');
  {
    // whole events of the fixture (it also holds a process-start record and a torn line)
    const good = readFileSync(events, 'utf8')
      .split('\n')
      .filter((l) => {
        try {
          return (JSON.parse(l) as { body?: { data?: unknown } }).body?.data !== undefined;
        } catch {
          return false;
        }
      });
    const event = JSON.parse(good[0] as string) as { body: { data: Record<string, unknown> } };
    const long = (size: number) => {
      event.body.data['pad'] = 'x'.repeat(size);
      return JSON.stringify(event);
    };
    const big = long(32 * 1024 * 1024);
    const fits = long(3 * 1024 * 1024);
    const path = join(dir, 'long.ndjson');
    writeFileSync(path, [good[0], big, fits, good[1]].join('\n') + '\n');
    const r = run(['--json'], { stdin: path });
    assert.is(r.status, 1, r.stderr);
    assert.equal(
      r.stderr.split('\n').filter((l) => l !== ''),
      [`scope-events: stdin:2: line of ${big.length} characters is longer than the limit (4194304); skipped`],
    );
    assert.is(r.stdout, [good[0], fits, good[1]].join('\n') + '\n');
  }
});
