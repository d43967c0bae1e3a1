#!/usr/bin/env node
/**
 * The C and C++ style check (`npm run lint`, so `npm test` and CI): the rules libscope's sources
 * (libscope/**\/*.c, *.h, *.cc) keep, checked on every file git tracks there. The compiler's
 * -Wall -Wextra -Werror is the rest of the lint. A file breaks a rule: its path, line and the rule,
 * status 1.
 *
 *  1. the first line is a comment saying what the file is (/* name — what it does, or //);
 *  2. indentation is spaces, never a tab;
 *  3. no trailing whitespace; LF line ends, no CR;
 *  4. a line is at most 180 columns (not in interpose.def, one entry a line, which layers.mjs and the
 *     hooks read line by line);
 *  5. the file ends with one newline.
 *
 * clang-format is not used: its layouts would rewrite the hand-aligned tables (interpose.def, the
 * parsers' state tables) these files keep, and it is not on every machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAX = 180;
const files = execFileSync('git', ['ls-files', 'libscope/*.c', 'libscope/*.h', 'libscope/*.cc', 'libscope/*.def'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '');
const problems = [];
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8');
  const lines = text.split('\n');
  if (!/^(\/\*|\/\/)/.test(lines[0] ?? '')) problems.push(`${file}:1: the first line is not a comment saying what the file is`);
  if (!text.endsWith('\n') || text.endsWith('\n\n')) problems.push(`${file}:${lines.length}: the file does not end with exactly one newline`);
  lines.forEach((line, i) => {
    const at = `${file}:${i + 1}`;
    if (line.includes('\t')) problems.push(`${at}: a tab (indent with spaces)`);
    if (line.includes('\r')) problems.push(`${at}: a CR (LF line ends only)`);
    if (/[ \t]+$/.test(line.replace(/\r$/, ''))) problems.push(`${at}: trailing whitespace`);
    if (!file.endsWith('.def') && [...line].length > MAX) problems.push(`${at}: ${[...line].length} columns (at most ${MAX})`);
  });
}
for (const p of problems) console.error(`cstyle: ${p}`);
if (problems.length > 0) {
  console.error(`cstyle: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files.length} files`);
  process.exit(1);
}
console.log(`cstyle: ${files.length} files keep the C style`);
