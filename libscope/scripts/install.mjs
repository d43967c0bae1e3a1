#!/usr/bin/env node
/**
 * Builds libscope.so, the addon, scope-exec and scope-supervise from the package's sources into
 * build/Release, on a platform the package carries no prebuilt binaries for (prebuilds/, made by
 * prebuild.mjs when it was packed). It is the package's install script, so it runs at install where npm
 * lets it (npm 11 runs a dependency's install script only when allowed:
 * `npm install -g --allow-scripts=@scope/libscope @scope/scope`), and it can be run by hand:
 * `node <package>/scripts/install.mjs`.
 *
 * It does nothing in a checkout (which `npm run build` builds with cmake-js, test programs and all) nor
 * where this platform's binaries are already there. It builds with CMake directly, given Node-API's
 * headers (node-api-headers): cmake-js and its sixty dependencies would be installed on every machine
 * for the few that build. What is missing (cmake, a C or C++ compiler, make) is named before anything
 * is built, and a failed build says where its output is. `--force` builds even where prebuilt binaries
 * exist.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildBinaries, runs } from './binaries.mjs';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const platform = `${process.platform}-${process.arch}`;
const force = process.argv.includes('--force');
const say = (line) => console.error(`@scope/libscope: ${line}`);

if (existsSync(join(pkg, 'test'))) process.exit(0); // a checkout: npm run build builds it
if (!force && (existsSync(join(pkg, 'prebuilds', platform, 'libscope.so')) || existsSync(join(pkg, 'build', 'Release', 'libscope.so')))) {
  process.exit(0);
}
if (process.platform !== 'linux') {
  say(`libscope runs on Linux only, not on ${process.platform}`);
  process.exit(1);
}

const missing = [];
if (!runs('cmake')) missing.push('cmake (3.20 or later)');
if (!runs(process.env.CC ?? 'cc')) missing.push(`a C compiler (${process.env.CC ?? 'cc'})`);
if (!runs(process.env.CXX ?? 'c++')) missing.push(`a C++ compiler (${process.env.CXX ?? 'c++'})`);
if (!runs('make')) missing.push('make');
if (missing.length > 0) {
  say(`no prebuilt libscope for ${platform}, and it cannot be built here: ${missing.join(', ')} not found.`);
  say('Install them (Debian and Ubuntu: apt-get install cmake g++ make), then run');
  say(`  node ${join(pkg, 'scripts', 'install.mjs')}`);
  process.exit(1);
}

const build = join(pkg, 'build');
const log = join(build, 'install-build.log');
rmSync(build, { recursive: true, force: true });
mkdirSync(build, { recursive: true });
say(`no prebuilt libscope for ${platform}: building it from its sources (a minute or two)`);
const output = [];
const ok = buildBinaries(pkg, build, [], (text) => output.push(text));
writeFileSync(log, output.join('\n'));
if (!ok) {
  // build/Release must not hold a half-built library: addon/index.ts loads from there when libscope.so is.
  rmSync(join(build, 'Release'), { recursive: true, force: true });
  say(`the build failed; its output is in ${log}`);
  process.exit(1);
}
say(`built into ${join(build, 'Release')}`);
