// npm run fuzz (and npm run fuzz -w @scope/e2e): the NDJSON readers of scope-events and
// scope-filter under random mutation (lib/ndjsonfuzz.ts says what is mutated and what is
// checked). A fixed number of inputs from a fixed seed, the same run on any machine:
//   NDJSON_FUZZ_RUNS=200 FUZZ_SEED=7 npm run fuzz -w @scope/e2e
// An input that breaks the contract is written to dist/fuzz-crashes/ and fails the run; once
// fixed it belongs in fuzz/regress/ (replayed by ndjsonfuzz.test.ts in npm test).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOOLS, check, fixtureLines, inputBytes, makeInput, prng } from '../lib/ndjsonfuzz.js';

const runs = Number(process.env['NDJSON_FUZZ_RUNS'] ?? 60);
const seed = Number(process.env['FUZZ_SEED'] ?? 1);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('ndjson fuzz: NDJSON_FUZZ_RUNS and FUZZ_SEED must be whole numbers');
  process.exit(2);
}
const crashes = fileURLToPath(new URL('../fuzz-crashes/', import.meta.url));
const fixtures = fixtureLines();
const r = prng(seed);
console.log(`fuzz: ndjson, ${runs} inputs from seed ${seed} through ${TOOLS.map((t) => t.name).join(' and ')}`);
let failed = 0;
let lines = 0;
for (let i = 0; i < runs; i++) {
  const input = makeInput(r, fixtures);
  lines += input.lines.length;
  for (const tool of TOOLS) {
    const out = await check(tool, input, r);
    if (out.problems.length === 0) continue;
    failed++;
    mkdirSync(crashes, { recursive: true });
    const file = join(crashes, `ndjson-${tool.name}-seed${seed}-${i}.ndjson`);
    writeFileSync(file, inputBytes(input));
    console.error(`fuzz: ndjson: ${tool.name}: input ${i} (${file}):\n  ${out.problems.slice(0, 10).join('\n  ')}`);
  }
}
if (failed > 0) {
  console.error(`fuzz: ndjson: ${failed} failure(s) (inputs in ${crashes})`);
  process.exit(1);
}
console.log(`fuzz: ndjson, ${runs} inputs (${lines} lines) × ${TOOLS.length} tools, no failure`);
