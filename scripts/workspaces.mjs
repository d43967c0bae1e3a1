/**
 * The repository's workspaces, from the root package.json's "workspaces" (`dir/*` patterns expanded,
 * in name order): for version.mjs and pack.mjs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Each workspace's directory, relative to the root. */
export function workspaceDirs() {
  const dirs = [];
  for (const pattern of readJson(join(root, 'package.json')).workspaces) {
    if (pattern.endsWith('/*')) for (const d of readdirSync(join(root, pattern.slice(0, -2))).sort()) dirs.push(join(pattern.slice(0, -2), d));
    else dirs.push(pattern);
  }
  return dirs;
}
