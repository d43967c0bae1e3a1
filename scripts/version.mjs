#!/usr/bin/env node
/**
 * The one place versions come from: the root package.json's "version". Every published package
 * (packages/core, schemas, libscope, tools/*) carries it, and pins its @scope/* dependencies to it;
 * @scope/core reads its own at run time (src/version.ts) and libscope's CMakeLists.txt reads libscope's.
 *
 *   node scripts/version.mjs            check: exit 1 naming every package.json that disagrees
 *   node scripts/version.mjs 0.2.0      set the root's version, and every package's and pin, to 0.2.0
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (f) => JSON.parse(readFileSync(f, 'utf8'));
const write = (f, p) => writeFileSync(f, JSON.stringify(p, null, 2) + '\n');

/** The package.json of every workspace, the root's first. */
export function manifests() {
  const files = [join(root, 'package.json')];
  for (const pattern of read(files[0]).workspaces) {
    if (pattern.endsWith('/*')) {
      const dir = join(root, pattern.slice(0, -2));
      for (const name of readdirSync(dir).sort()) files.push(join(dir, name, 'package.json'));
    } else files.push(join(root, pattern, 'package.json'));
  }
  return files;
}

const wanted = process.argv[2];
if (wanted !== undefined && !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(wanted)) {
  console.error(`version.mjs: "${wanted}" is not a version (MAJOR.MINOR.PATCH[-pre])`);
  process.exit(2);
}
const version = wanted ?? read(join(root, 'package.json')).version;
const wrong = [];
for (const file of manifests()) {
  const p = read(file);
  const where = file.slice(root.length + 1);
  let changed = false;
  if (p.version !== version) {
    wrong.push(`${where}: version ${p.version}, not ${version}`);
    p.version = version;
    changed = true;
  }
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries(p[field] ?? {})) {
      if (!dep.startsWith('@scope/') || range === version) continue;
      wrong.push(`${where}: ${field}.${dep} is ${range}, not ${version}`);
      p[field][dep] = version;
      changed = true;
    }
  }
  if (changed && wanted !== undefined) write(file, p);
}
if (wanted !== undefined) {
  console.error(`version.mjs: every package is ${version}${wrong.length ? ` (${wrong.length} changes; run npm install to update package-lock.json)` : ''}`);
} else if (wrong.length > 0) {
  for (const w of wrong) console.error(`version.mjs: ${w}`);
  console.error('version.mjs: set them all with: node scripts/version.mjs <version>');
  process.exit(1);
} else {
  console.log(version);
}
