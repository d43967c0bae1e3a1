import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createSession, namedInput, openInput, openLines } from '../src/index.js';
import type { JsonObject } from '../src/index.js';
import { tempDir } from '../src/testing.js';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

const newHome = () => tempDir('scope-input-');
const tty = Object.assign(Readable.from([]), { fd: openSync('/dev/null', 'r') }); // not a pipe or a file

async function all(it: AsyncIterable<JsonObject>): Promise<JsonObject[]> {
  const out: JsonObject[] = [];
  for await (const r of it) out.push(r);
  return out;
}

test('the last session, --id and --session; events, metrics or both; bad lines named by file and line', async () => {
  const home = newHome();
  const one = await createSession({ home, args: ['a'], scopeVersion: '0' });
  const two = await createSession({ home, args: ['b'], scopeVersion: '0' });
  writeFileSync(one.paths.events, '{"n":1}\n');
  writeFileSync(two.paths.events, '{"n":2}\nnot json\n{"n":3}\n');
  writeFileSync(two.paths.metrics, '{"m":1}\n');
  const warned: string[] = [];
  const base = { tool: 'scope-x', stdin: tty, env: { SCOPE_HOME: home }, warn: (m: string) => warned.push(m) };
  const last = await openInput({ ...base, files: 'both' });
  assert.equal(await all(last.records), [{ n: 2 }, { n: 3 }, { m: 1 }]);
  assert.is(last.bad(), 1);
  assert.match(warned[0]!, new RegExp(`^scope-x: ${two.paths.events}:2: `));
  assert.equal(await all((await openInput({ ...base, files: 'events', id: '1' })).records), [{ n: 1 }]);
  assert.equal(await all((await openInput({ ...base, files: 'metrics', session: two.dir })).records), [{ m: 1 }]);
  const where: string[] = [];
  for await (const e of (await openInput({ ...base, files: 'events' })).entries) where.push(`${e.where}:${e.line}:${JSON.stringify(e.record)}`);
  assert.equal(where, [`${two.paths.events}:1:{"n":2}`, `${two.paths.events}:3:{"n":3}`], 'entries carry file and line');
  const strict = await openInput({ ...base, files: 'events', strict: true });
  assert.equal(await all(strict.records), [{ n: 2 }], '--strict stops at the bad line');
  await rejects(openInput({ ...base, files: 'events', id: '9' }), /no session with id 9/);
  await rejects(openInput({ ...base, files: 'events', id: 'x' }), /--id: "x" is not a session id/);
  await rejects(openInput({ ...base, env: { SCOPE_HOME: newHome() }, files: 'events' }), /no session in .*scope run/);
});

test('torn records (a writer killed mid-line): skipped, counted, one warning per file; other bad lines still bad', async () => {
  const home = newHome();
  const s = await createSession({ home, args: ['a'], scopeVersion: '0' });
  // what libscope leaves: a dead writer's half line ended by the next writer, and one at the very end
  const torn = ['{"type":"evt","id":"x","body":{"data":{"message":"ab', '{"type":"evt","body":{"n":1}', '{"type":"evt","body":{"s":"\\u12', '{"a":-'];
  writeFileSync(s.paths.events, `{"n":1}\n${torn[0]}\n{"n":2}\n${torn[1]}\n\n${torn[2]}\n{"n":3}x\n{"n":4}\n${torn[3]}`);
  const warned: string[] = [];
  const base = { tool: 'scope-x', stdin: tty, env: { SCOPE_HOME: home }, warn: (m: string) => warned.push(m) };
  const input = await openInput({ ...base, files: 'events' });
  assert.equal(await all(input.records), [{ n: 1 }, { n: 2 }, { n: 4 }]);
  assert.is(input.torn(), 4);
  assert.is(input.bad(), 1, 'a complete record followed by junk is a bad line, not a torn one');
  assert.equal(warned.length, 2, warned.join('\n'));
  assert.match(warned[0]!, new RegExp(`^scope-x: ${s.paths.events}:7: Unexpected non-whitespace`));
  assert.is(warned[1], `scope-x: ${s.paths.events}: 4 torn records skipped (a writer killed in the middle of writing it)`);
  // the same from a pipe
  const dir = tempDir('scope-input-');
  const file = join(dir, 'in.json');
  writeFileSync(file, `{"n":1}\n${torn[0]}\n{"n":2}\n`);
  const stdin = Object.assign(Readable.from([`{"n":1}\n${torn[0]}\n{"n":2}\n`]), { fd: openSync(file, 'r') });
  const w2: string[] = [];
  const piped = await openInput({ tool: 'scope-x', stdin, env: { SCOPE_HOME: home }, files: 'events', warn: (m: string) => w2.push(m) });
  assert.equal(await all(piped.records), [{ n: 1 }, { n: 2 }]);
  assert.equal([piped.bad(), piped.torn()], [0, 1]);
  assert.equal(w2, ['scope-x: stdin: 1 torn record skipped (a writer killed in the middle of writing it)']);
});

test('NDJSON on stdin when stdin is a pipe or a file', async () => {
  const dir = tempDir('scope-input-');
  const file = join(dir, 'in.json');
  writeFileSync(file, '{"a":1}\n[1]\n{"a":2}\n');
  const fd = openSync(file, 'r');
  const stdin = Object.assign(Readable.from(['{"a":1}\n[1]\n{"a":2}\n']), { fd });
  const warned: string[] = [];
  const input = await openInput({ tool: 'scope-x', stdin, env: {}, files: 'events', warn: (m) => warned.push(m) });
  assert.is(input.source, 'stdin');
  assert.equal(await all(input.records), [{ a: 1 }, { a: 2 }]);
  assert.equal(warned, ['scope-x: stdin:2: not a JSON object\n  [1]']);
  const lines = Object.assign(Readable.from(['{"a":1}\n\n{"a":2}\n']), { fd });
  const got: number[] = [];
  for await (const e of (await openInput({ tool: 'scope-x', stdin: lines, env: {}, files: 'events', warn: () => undefined })).entries) got.push(e.line);
  assert.equal(got, [1, 3], 'stdin entries carry their line');
});

test('--follow yields records appended later, from both files, until aborted', async () => {
  const home = newHome();
  const s = await createSession({ home, args: ['f'], scopeVersion: '0' });
  writeFileSync(s.paths.events, '{"e":1}\n');
  const stop = new AbortController();
  const input = await openInput({ tool: 'scope-x', stdin: tty, env: { SCOPE_HOME: home }, files: 'both', follow: true, signal: stop.signal, warn: () => undefined });
  const seen: JsonObject[] = [];
  const done = (async () => {
    for await (const r of input.records) {
      seen.push(r);
      if (seen.length === 3) stop.abort();
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  appendFileSync(s.paths.metrics, '{"m":1}\n');
  appendFileSync(s.paths.events, '{"e":2}\n');
  await done;
  assert.equal(seen.map((r) => JSON.stringify(r)).sort(), ['{"e":1}', '{"e":2}', '{"m":1}']);
});

test('an input named as an argument: a file, a session directory, - ; stdin untouched then; bad ones named', async () => {
  const home = newHome();
  const s = await createSession({ home, args: ['a'], scopeVersion: '0' });
  writeFileSync(s.paths.events, '{"n":1}\n');
  const dir = tempDir('scope-input-');
  const file = join(dir, 'records.json');
  writeFileSync(file, '{"f":1}\nnope\n{"f":2}\n');
  // stdin a file with records of its own: never read when an input is named
  const stdinFile = join(dir, 'stdin.json');
  writeFileSync(stdinFile, '{"stdin":1}\n');
  const stdin = Object.assign(Readable.from(['{"stdin":1}\n']), { fd: openSync(stdinFile, 'r') });
  const warned: string[] = [];
  const base = { tool: 'scope-x', stdin, env: { SCOPE_HOME: home }, files: 'events' as const, warn: (m: string) => warned.push(m) };
  const fromFile = await openInput({ ...base, input: file });
  assert.equal(await all(fromFile.records), [{ f: 1 }, { f: 2 }]);
  assert.is(fromFile.source, file);
  assert.is(warned.length, 1, warned.join('\n'));
  assert.match(warned[0]!, new RegExp(`^scope-x: ${file}:2: `));
  const fromDir = await openInput({ ...base, input: s.dir });
  assert.equal(await all(fromDir.records), [{ n: 1 }]);
  assert.is(fromDir.session?.dir, s.dir);
  const fromStdin = await openInput({ ...base, input: '-' });
  assert.equal(await all(fromStdin.records), [{ stdin: 1 }]);
  // a symlink to a file, and lines (openLines) of a named file
  const link = join(dir, 'link.json');
  symlinkSync(file, link);
  const lines: string[] = [];
  for await (const batch of (await openLines({ file: 'events', stdin, env: { SCOPE_HOME: home }, input: link })).batches) lines.push(...batch);
  assert.equal(lines, ['{"f":1}', 'nope', '{"f":2}']);
  await rejects(openInput({ ...base, input: join(dir, 'missing.json') }), /missing\.json: no such file or directory$/);
  await rejects(openInput({ ...base, input: file, id: '1' }), /name the input once, as an argument or with --id/);
  await rejects(openInput({ ...base, input: file, session: s.dir }), /with --session/);
  await rejects(openInput({ ...base, input: dir }), /not a scope session/);
  assert.equal(namedInput('-'), { kind: 'stdin' });
  assert.is(namedInput(s.dir).kind, 'session');
  assert.is(namedInput('/dev/null').kind, 'file');
});

test.run();
