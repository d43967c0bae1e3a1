import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { recordKinds, validateAs, validateRecord, schemas, type RecordKind } from '../src/index.js';
import { examplesDir, examplesIn, jsonDir, type InvalidExample } from './fixtures.js';

test('json/ holds exactly one schema per record kind plus the shared defs', () => {
  const files = readdirSync(jsonDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.equal(files, [...recordKinds, 'defs'].map((k) => `${k}.json`).sort());
  assert.equal(Object.keys(schemas).sort(), [...recordKinds, 'defs'].sort());
});

test('every record kind has at least one example, and examples/ has no stray directory', () => {
  const dirs = readdirSync(examplesDir).sort();
  assert.equal(dirs, [...recordKinds, 'invalid'].sort());
  for (const kind of recordKinds) assert.ok(examplesIn(kind).length > 0, `no example for ${kind}`);
});

for (const kind of recordKinds) {
  for (const { file, value } of examplesIn(kind)) {
    test(`example ${kind}/${file} is valid and dispatches to ${kind}`, () => {
      const direct = validateAs(kind, value);
      assert.equal(direct, { ok: true, kind }, JSON.stringify(direct));
      assert.equal(validateRecord(value), { ok: true, kind });
    });
  }
}

// Every specific schema narrows one of the envelopes.
const envelopeOf = (kind: RecordKind): unknown => (schemas[kind] as { allOf?: readonly { $ref: string }[] }).allOf?.[0]?.$ref;
const eventKinds = recordKinds.filter((k) => envelopeOf(k) === 'event.json');
const metricKinds = recordKinds.filter((k) => envelopeOf(k) === 'metric.json');

// statsd (a metric the app sent, relayed) stands alone: its name is the app's, outside metric.json's pattern.
test("every kind but the envelopes, process-start, statsd and scope snapshot's records is an event or a metric", () => {
  assert.equal([...eventKinds, ...metricKinds, 'process-start', 'event', 'metric', 'statsd', 'snapshot', 'crash'].sort(), [...recordKinds].sort());
  assert.equal(eventKinds, [
    'fs.open',
    'fs.close',
    'fs.delete',
    'fs.rename',
    'fs.mkdir',
    'fs.error',
    'console',
    'file',
    'notice',
    'net.open',
    'net.close',
    'net.app',
    'net.error',
    'dns.req',
    'dns.resp',
    'http.req',
    'http.resp',
    'proc.exit',
  ]);
});

// A specific event or metric is always a valid generic one too: the specific schemas only narrow.
for (const kind of eventKinds) {
  for (const { file, value } of examplesIn(kind)) {
    test(`example ${kind}/${file} is also a valid generic event`, () => {
      assert.equal(validateAs('event', value), { ok: true, kind: 'event' });
    });
  }
}
for (const kind of metricKinds) {
  for (const { file, value } of examplesIn(kind)) {
    test(`example ${kind}/${file} is also a valid generic metric`, () => {
      assert.equal(validateAs('metric', value), { ok: true, kind: 'metric' });
    });
  }
}

// Below metric verbosity 4 a metric has no proc, pid or host; at 0 no unit either.
for (const kind of metricKinds) {
  const [example] = examplesIn(kind);
  test(`${kind} is valid without proc, pid, host and unit`, () => {
    const { proc: _p, pid: _i, host: _h, unit: _u, ...body } = (example?.value as { body: Record<string, unknown> } | undefined)?.body ?? {};
    assert.equal(validateRecord({ type: 'metric', body }), { ok: true, kind });
  });
}

const invalid = examplesIn('invalid');
test('there are invalid examples for most kinds', () => {
  assert.ok(invalid.length >= 10);
  const covered = new Set(invalid.map((e) => (e.value as InvalidExample).schema));
  const missing = recordKinds.filter((k) => !covered.has(k));
  assert.equal(missing, [], `no invalid example for ${missing.join(', ')}`);
});

for (const { file, value } of invalid) {
  const { schema, why, record } = value as InvalidExample;
  test(`invalid/${file} fails ${schema} (${why})`, () => {
    assert.ok((recordKinds as readonly string[]).includes(schema), `unknown schema ${schema}`);
    const kind = schema as RecordKind;
    const direct = validateAs(kind, record);
    assert.is(direct.ok, false, 'validated against its schema');
    if (!direct.ok) assert.ok(direct.errors.length > 0);
    const dispatched = validateRecord(record);
    assert.is(dispatched.ok, false);
    assert.is(dispatched.kind, kind, 'dispatched to another schema');
  });
}

test.run();
