#!/usr/bin/env node
/**
 * The umbrella package installs every tool's command and its man page, not only `scope`: `npm install -g @scope/scope`
 * links only the bins of the package named, so this package carries one small bin per command of its
 * @scope/* dependencies, each importing that tool's own bin file (exported as "./bin/*"). This script
 * writes them and this package.json's "bin" from the dependencies' package.json files; run it after
 * adding a tool or a command (`node scripts/bins.mjs`; `--check` fails, naming what differs, when they
 * are not what it would write: the install test runs that).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(pkg, '..');
const manifestFile = join(pkg, 'package.json');
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
const check = process.argv.includes('--check');
const differ = [];

const bins = { scope: './bin/scope.js' };
const files = new Map();
for (const dep of Object.keys(manifest.dependencies).sort()) {
  if (!dep.startsWith('@scope/scope-')) continue;
  const depManifest = JSON.parse(readFileSync(join(tools, dep.slice('@scope/'.length), 'package.json'), 'utf8'));
  if (depManifest.exports?.['./bin/*'] !== './bin/*') differ.push(`${dep}: its package.json must export "./bin/*": "./bin/*"`);
  for (const [name, file] of Object.entries(depManifest.bin ?? {})) {
    const own = `./bin/${name}.js`;
    bins[name] = own;
    files.set(
      join(pkg, own),
      `#!/usr/bin/env node\n// ${name}, installed with @scope/scope: the command of ${dep}, whose own bin this runs.\n// Written by scripts/bins.mjs.\nimport '${dep}/${file.replace(/^\.\//, '')}';\n`,
    );
  }
}
for (const [file, text] of files) {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
  if (check) differ.push(`${file}: not what scripts/bins.mjs writes`);
  else writeFileSync(file, text, { mode: 0o755 });
}
// Their man pages, made by scripts/man.mjs at build: listed one by one, since npm links the "man" field's
// files at a global install (a directories.man entry is turned into that list only by npm publish).
const man = Object.keys(bins).map((name) => `./dist/man/${name}.1`);
if (JSON.stringify(manifest.bin) !== JSON.stringify(bins) || JSON.stringify(manifest.man) !== JSON.stringify(man)) {
  if (check) differ.push(`${manifestFile}: "bin" or "man" is not every command of its @scope/* dependencies`);
  else {
    delete manifest.directories;
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, bin: bins, man }, null, 2) + '\n');
  }
}
for (const d of differ) console.error(`bins.mjs: ${d}`);
if (differ.length > 0) {
  if (check) console.error('bins.mjs: run node tools/scope/scripts/bins.mjs');
  process.exit(1);
}
