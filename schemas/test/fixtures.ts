// Reading the example files shipped in schemas/examples/.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** schemas/, whether this runs from test/ or dist/test/. */
export const packageRoot = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));
export const examplesDir = join(packageRoot, 'examples');
export const jsonDir = join(packageRoot, 'json');

export interface Example {
  dir: string;
  file: string;
  value: unknown;
}

export function examplesIn(dir: string): Example[] {
  return readdirSync(join(examplesDir, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ dir, file, value: JSON.parse(readFileSync(join(examplesDir, dir, file), 'utf8')) as unknown }));
}

/** A deliberately invalid record and the schema it must fail. */
export interface InvalidExample {
  schema: string;
  why: string;
  record: unknown;
}
