// The fuzz corpora (fuzz/corpus/<target>) replayed through the fuzz targets built as plain
// programs by the normal build (fuzz/replay.c; with ASan and UBSan when the compiler has them):
// every seed and every input that once crashed a parser (regress-*) runs clean, without clang.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prog } from './lib.js';

const FUZZ = fileURLToPath(new URL('../../fuzz/', import.meta.url));
const targets = readFileSync(join(FUZZ, 'targets.txt'), 'utf8')
  .split('\n')
  .filter((l) => /^[a-z]/.test(l))
  .map((l) => l.split(/\s+/)[0] ?? '');

test('every parser the fuzzers drive has a target and a corpus', () => {
  assert.equal(targets.sort(), ['classfile', 'config', 'dns', 'dnstcp', 'filter', 'h1', 'h2', 'hpack', 'statsd']);
});

for (const name of targets) {
  test(`fuzz corpus ${name}: every file replays clean`, () => {
    const dir = join(FUZZ, 'corpus', name);
    const files = readdirSync(dir).map((f) => join(dir, f));
    assert.ok(files.length >= 1, `no corpus for ${name}`);
    const r = spawnSync(prog(`fuzz_${name}`), files, { encoding: 'utf8' });
    assert.is(r.stderr, '', `${name}: sanitizer report:\n${r.stderr}`);
    assert.is(r.status, 0);
    assert.is(r.stdout, `replayed ${files.length}\n`);
  });
}

test.run();
