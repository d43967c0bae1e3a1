#!/usr/bin/env node
/**
 * `npm run pack`: every published package (every workspace not marked private) as a tarball in pack/,
 * as `npm publish` would send it (libscope's prepack puts this platform's binaries in it). Installed
 * together, they are scope without this repository: `npm install -g ./pack/*.tgz`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJson as read, root, workspaceDirs } from './workspaces.mjs';

const published = workspaceDirs().filter((d) => read(join(root, d, 'package.json')).private !== true);
const out = join(root, 'pack');
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
const r = spawnSync('npm', ['pack', '--pack-destination', out, ...published.flatMap((d) => ['-w', d])], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(
  readdirSync(out)
    .map((f) => `pack/${f}`)
    .join('\n'),
);
