#!/usr/bin/env node
/**
 * `npm run build:arm64`: libscope.so, the addon, scope-exec and scope-supervise for linux-arm64, built
 * on an x86-64 machine with Debian's cross compilers (gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu;
 * cmake/aarch64-linux-gnu.cmake) into build-linux-arm64/Release, where `npm pack`'s prebuild.mjs takes
 * them for prebuilds/linux-arm64/. The addon is built against Node-API's headers (node-api-headers),
 * which are the same for every architecture. What is missing is named before anything is built.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBinaries, runs } from './binaries.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = join(pkg, 'build-linux-arm64');
const say = (line) => console.error(`build:arm64: ${line}`);
const missing = ['cmake', 'aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-g++'].filter((c) => !runs(c));
if (missing.length > 0) {
  say(`${missing.join(', ')} not found (Debian: apt-get install cmake gcc-aarch64-linux-gnu g++-aarch64-linux-gnu)`);
  process.exit(1);
}
rmSync(build, { recursive: true, force: true });
const toolchain = `-DCMAKE_TOOLCHAIN_FILE=${join(pkg, 'cmake', 'aarch64-linux-gnu.cmake')}`;
if (!buildBinaries(pkg, build, [toolchain], (text) => process.stderr.write(`${text}\n`))) {
  say('the build failed (its output is above)');
  process.exit(1);
}
say(`built into ${join(build, 'Release')}`);
