// The NDJSON fuzz harness (lib/ndjsonfuzz.ts) in npm test: every input that once broke a reader
// (fuzz/regress/) goes through scope-events and scope-filter again, and a short seeded run checks
// the harness itself still finds the fixtures' records and the bad lines (npm run fuzz runs long).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOOLS, check, fixtureLines, makeInput, parseInput, prng } from './lib/ndjsonfuzz.js';

const REGRESS = fileURLToPath(new URL('../fuzz/regress/', import.meta.url));

for (const file of readdirSync(REGRESS)
  .filter((f) => f.endsWith('.ndjson'))
  .sort()) {
  test(`regression ${file}: every line passed or reported, by both tools`, async () => {
    const input = parseInput(readFileSync(join(REGRESS, file)));
    for (const tool of TOOLS) {
      const out = await check(tool, input, prng(1));
      assert.equal(out.problems, [], `${tool.name}: ${out.problems.join('\n')}`);
    }
  });
}

test('a regression input with a broken line in the middle: the broken line is reported, its neighbours pass', async () => {
  const input = parseInput(readFileSync(join(REGRESS, 'filter-nul-in-data.ndjson')));
  for (const tool of TOOLS) {
    const out = await check(tool, input, prng(1));
    assert.is(out.status, 1, `${tool.name} exits 1 for a bad line`);
    assert.equal(out.problems, []);
  }
});

test('the harness fails when the outcome breaks the contract: a record expected out that was reported', async () => {
  const input = parseInput(readFileSync(join(REGRESS, 'filter-broken-data.ndjson')));
  input.how = input.how.map(() => ''); // claim every line is a fixture record, the broken one too
  const out = await check(TOOLS[1]!, input, prng(1));
  assert.ok(
    out.problems.some((p) => p.includes('line 2 (a fixture record) did not come out')),
    out.problems.join('\n'),
  );
});

test('a short seeded run (no line of megabytes): no problem in either tool', async () => {
  const r = prng(12345);
  const fixtures = fixtureLines();
  for (let i = 0; i < 4; i++) {
    const input = makeInput(r, fixtures, false);
    for (const tool of TOOLS) {
      const out = await check(tool, input, r);
      assert.equal(out.problems, [], `${tool.name}, input ${i}: ${out.problems.join('\n')}`);
    }
  }
});

test.run();
