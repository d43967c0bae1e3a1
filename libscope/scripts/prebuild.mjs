#!/usr/bin/env node
/**
 * Run by `npm pack` / `npm publish` (prepack): copies the binaries `npm run build` made in
 * build/Release into prebuilds/<platform>-<arch>/, the directory an installed package loads them from
 * (addon/index.ts), so that `npm install -g @scope/scope` needs no compiler on this platform; and, when
 * `npm run build:arm64` (scripts/cross.mjs) made them, the linux-arm64 ones from
 * build-linux-arm64/Release into prebuilds/linux-arm64/ (said either way). The
 * build must be the plain one (not the sanitized one, which lives in build/sanitize), and must exist:
 * packing without it fails here rather than shipping a package that cannot run anything.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINARIES, complete, copyBinaries } from './binaries.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(pkg, 'build', 'Release');
const to = join(pkg, 'prebuilds', `${process.platform}-${process.arch}`);

const missing = BINARIES.filter((b) => !existsSync(join(from, b)));
if (missing.length > 0) {
  console.error(`prebuild: ${missing.map((b) => join(from, b)).join(', ')} missing: run npm run build first`);
  process.exit(1);
}
rmSync(join(pkg, 'prebuilds'), { recursive: true, force: true });
copyBinaries(from, to);
console.error(`prebuild: ${BINARIES.join(', ')} → prebuilds/${process.platform}-${process.arch}/`);
const cross = join(pkg, 'build-linux-arm64', 'Release');
if (`${process.platform}-${process.arch}` !== 'linux-arm64') {
  if (complete(cross)) {
    copyBinaries(cross, join(pkg, 'prebuilds', 'linux-arm64'));
    console.error(`prebuild: and the linux-arm64 ones (build-linux-arm64/Release) → prebuilds/linux-arm64/`);
  } else {
    console.error('prebuild: no linux-arm64 binaries (npm run build:arm64 -w @scope/libscope makes them, with aarch64-linux-gnu-gcc)');
  }
}
