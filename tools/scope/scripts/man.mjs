#!/usr/bin/env node
/**
 * dist/man/: scope.1 and scope-<verb>.1 for every command, from the tools' own definitions
 * (src/docs.ts, src/man.ts). Run by `npm run build` after tsc; package.json's "man" (written by bins.mjs) makes npm
 * link them into <prefix>/share/man/man1 at a global install.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const { allCommandDocs, reservedVerbs } = await import(join(pkg, 'dist/src/docs.js'));
const { commandPage, scopePage } = await import(join(pkg, 'dist/src/man.js'));
const { SCOPE_VERSION } = await import('@scope/core/run-api');
const out = join(pkg, 'dist', 'man');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const docs = await allCommandDocs();
writeFileSync(join(out, 'scope.1'), scopePage(docs, reservedVerbs(), SCOPE_VERSION));
let n = 1;
for (const d of docs) {
  if (!d.bin) continue;
  writeFileSync(join(out, `${d.bin}.1`), commandPage(d, SCOPE_VERSION, docs));
  n++;
}
process.stdout.write(`dist/man: ${n} pages\n`);
