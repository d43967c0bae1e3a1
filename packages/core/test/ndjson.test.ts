import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Readable, Writable } from 'node:stream';
import { createNdjsonWriter, formatBadLine, readNdjson } from '../src/index.js';
import type { BadLine } from '../src/index.js';

async function collect(text: string | string[], opts: { maxLineLength?: number; strict?: boolean } = {}) {
  const bad: BadLine[] = [];
  const chunks = Array.isArray(text) ? text : [text];
  const { records, stats } = readNdjson(Readable.from(chunks.map((c) => Buffer.from(c))), {
    source: 'stdin',
    onBadLine: (b) => bad.push(b),
    ...opts,
  });
  const out: unknown[] = [];
  for await (const r of records) out.push(r);
  return { out, bad, stats };
}

test('reads one object per line, across chunk boundaries, with or without a final newline', async () => {
  const { out, bad, stats } = await collect(['{"a":1}\n{"b"', ':2}\r\n\n{"c":3}']);
  assert.equal(out, [{ a: 1 }, { b: 2 }, { c: 3 }]);
  assert.equal(bad, []);
  assert.equal(stats, { lines: 4, records: 3, bad: 0, torn: 0 });
});

test('a bad line is reported with its line number and why, counted, and reading goes on', async () => {
  const { out, bad, stats } = await collect('{"a":1}\nnot json\n[1,2]\n{"d":4}\n');
  assert.equal(out, [{ a: 1 }, { d: 4 }]);
  assert.equal(
    bad.map((b) => b.line),
    [2, 3],
  );
  assert.equal(bad[1]?.reason, 'not a JSON object');
  assert.match(bad[0]?.reason ?? '', /JSON/);
  assert.equal(stats.bad, 2);
  assert.equal(formatBadLine('scope-events', bad[1] as BadLine), 'scope-events: stdin:3: not a JSON object\n  [1,2]');
});

test('an over-long line is reported as bad, and the lines after it keep their numbers', async () => {
  const long = `{"x":"${'y'.repeat(200)}"}`;
  const { out, bad } = await collect(['{"a":1}\n', long.slice(0, 100), long.slice(100) + '\n{"b":2}\n'], { maxLineLength: 64 });
  assert.equal(out, [{ a: 1 }, { b: 2 }]);
  assert.equal(bad.length, 1);
  assert.equal(bad[0]?.line, 2);
  assert.match(bad[0]?.reason ?? '', /longer than 64 bytes/);
});

test('strict stops at the first bad line', async () => {
  const { out, bad } = await collect('{"a":1}\nbad\n{"b":2}\n', { strict: true });
  assert.equal(out, [{ a: 1 }]);
  assert.equal(bad.length, 1);
});

test('the writer writes one JSON line per record and waits on back-pressure', async () => {
  const sink = new PassThrough({ highWaterMark: 16 });
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const w = createNdjsonWriter(sink);
  for (let i = 0; i < 100; i++) await w.write({ i });
  await w.writeLine('{"raw":true}');
  await w.end();
  const lines = Buffer.concat(chunks).toString().trimEnd().split('\n');
  assert.is(lines.length, 101);
  assert.equal(JSON.parse(lines[99] as string), { i: 99 });
  assert.is(lines[100], '{"raw":true}');
});

test('end() waits for a last write that fit in the buffer (no drain event comes for it)', async () => {
  // A destination slower than the writer, whose buffer never fills: every write returns true, so
  // the stream never emits 'drain'; end() must still resolve once the bytes are written.
  let written = '';
  const slow = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      setTimeout(() => {
        written += chunk.toString();
        cb();
      }, 20);
    },
  });
  const w = createNdjsonWriter(slow);
  await w.write({ last: 1 });
  assert.ok(slow.writableLength > 0, 'the line is still buffered');
  const ended = await Promise.race([w.end().then(() => 'ended'), new Promise((r) => setTimeout(() => r('stuck'), 2000))]);
  assert.is(ended, 'ended');
  assert.is(written, '{"last":1}\n');
});

test.run();
