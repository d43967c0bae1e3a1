import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { recordKinds, validateAs, validateRecord, schemas, type RecordKind } from '../src/index.js';
import { examplesDir, examplesIn, jsonDir, type InvalidExample } from './fixtures.js';

test('json/ holds exactly one schema per record kind plus the shared defs', () => {
  const files = readdirSync(jsonDir).filter((f) => f.endsWith('.json')).sort();
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

// A specific event or metric is always a valid generic one too: the specific schemas only narrow.
for (const kind of ['fs.open', 'fs.close', 'console', 'notice'] as const) {
  for (const { file, value } of examplesIn(kind)) {
    test(`example ${kind}/${file} is also a valid generic event`, () => {
      assert.equal(validateAs('event', value), { ok: true, kind: 'event' });
    });
  }
}
for (const kind of ['proc.start', 'proc.cpu', 'proc.mem', 'proc.thread', 'proc.fd'] as const) {
  for (const { file, value } of examplesIn(kind)) {
    test(`example ${kind}/${file} is also a valid generic metric`, () => {
      assert.equal(validateAs('metric', value), { ok: true, kind: 'metric' });
    });
  }
}

const invalid = examplesIn('invalid');
test('there are invalid examples for most kinds', () => {
  assert.ok(invalid.length >= 10);
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
