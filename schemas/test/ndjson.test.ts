import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordKinds, validateNdjson, validateNdjsonFile, formatFailures } from '../src/index.js';
import { examplesIn } from './fixtures.js';

const valid = recordKinds.flatMap((k) => examplesIn(k).map((e) => JSON.stringify(e.value)));

test('a stream of every example validates, counted by kind', () => {
  const report = validateNdjson(valid.join('\n') + '\n');
  assert.equal(report.failures, [], formatFailures(report));
  assert.is(report.lines, valid.length);
  for (const kind of recordKinds) assert.is(report.counts[kind], examplesIn(kind).length, kind);
});

test('failures carry 1-based line numbers and reasons', () => {
  const first = valid[0] ?? '';
  const text = [first, 'proc.cpu:4339|c|#proc:sleep', '', '{"type":"metric","body":{}}', first].join('\n') + '\n';
  const report = validateNdjson(text);
  assert.is(report.lines, 5);
  assert.equal(
    report.failures.map((f) => f.line),
    [2, 3, 4],
  );
  assert.ok(report.failures[0]?.errors[0]?.startsWith('not JSON'));
  assert.equal(report.failures[1]?.errors, ['blank line']);
  assert.is(report.failures[2]?.kind, 'metric');
  assert.is(
    Object.values(report.counts).reduce((a, b) => a + b, 0),
    2,
  );
  const message = formatFailures(report, 'events.json');
  assert.ok(message.includes('events.json:2: unknown: not JSON'), message);
  assert.ok(message.includes("events.json:4: metric: /body must have required property '_metric'"), message);
});

test('a last line without its newline is a failure; an empty stream is not', () => {
  const report = validateNdjson(valid.slice(0, 2).join('\n'));
  assert.equal(
    report.failures.map((f) => [f.line, f.errors]),
    [[2, ['last line has no terminating newline']]],
  );
  assert.equal(validateNdjson(''), { lines: 0, counts: {}, failures: [] });
});

test('validateNdjsonFile reads a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scope-schemas-'));
  try {
    const path = join(dir, 'events.json');
    writeFileSync(path, valid.join('\n') + '\n{"type":"evt"}\n');
    const report = await validateNdjsonFile(path);
    assert.is(report.lines, valid.length + 1);
    assert.equal(
      report.failures.map((f) => f.line),
      [valid.length + 1],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
