#!/usr/bin/env node
/**
 * The one place versions come from: the root package.json's "version". Every published package
 * (packages/core, schemas, libscope, tools/*) carries it, and pins its @scope/* dependencies to it;
 * @scope/core reads its own at run time (src/version.ts) and libscope's CMakeLists.txt reads libscope's.
 *
 *   node scripts/version.mjs            check: exit 1 naming every package.json that disagrees
 *   node scripts/version.mjs 0.2.0      set the root's version, and every package's and pin, to 0.2.0
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson as read, root, workspaceDirs } from './workspaces.mjs';

const write = (f, p) => writeFileSync(f, JSON.stringify(p, null, 2) + '\n');

/** The package.json of every workspace, the root's first. */
const manifests = () => [join(root, 'package.json'), ...workspaceDirs().map((d) => join(root, d, 'package.json'))];

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
