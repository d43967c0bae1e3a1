/**
 * Test helpers: a fake $SCOPE_HOME built from test/fixtures/sessions.ndjson, running the bins as real
 * processes, and golden files (UPDATE_GOLDEN=1 rewrites them; review the diff before keeping it).
 */
import { spawnSync } from 'node:child_process';
import type { SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { tempDir } from '@scope/core/testing';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bins = {
  history: join(root, 'bin', 'scope-history.js'),
  prune: join(root, 'bin', 'scope-prune.js'),
  logs: join(root, 'bin', 'scope-logs.js'),
  scope: join(root, '..', 'scope', 'bin', 'scope.js'),
};

/** The fixed clock of the fixtures: 2023-11-19T22:13:20Z. */
export const NOW = '1700432000';
/** Stands for the test's own pid (the running session's) in golden files. */
export const SELF = 'SELF';

interface FixtureRow {
  dir: string;
  events: number | null;
  eventsNoFinalNewline?: boolean;
  log: string | null;
  manifest: Record<string, unknown>;
}

export function fixtureRows(): FixtureRow[] {
  return readFileSync(join(root, 'test', 'fixtures', 'sessions.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as FixtureRow);
}

/** A new $SCOPE_HOME holding the fixture sessions (those whose id passes `keep`). */
export function buildHome(keep: (id: number) => boolean = () => true): string {
  const home = tempDir('scope-history-test-');
  const history = join(home, 'history');
  mkdirSync(history, { mode: 0o700 });
  for (const row of fixtureRows()) {
    if (!keep(row.manifest['id'] as number)) continue;
    const dir = join(history, row.dir);
    mkdirSync(dir, { mode: 0o700 });
    const manifest: Record<string, unknown> = { ...row.manifest, pid: row.manifest['pid'] === SELF ? process.pid : row.manifest['pid'] };
    writeFileSync(join(dir, 'session.json'), JSON.stringify(manifest, null, 2) + '\n');
    if (row.events !== null) {
      const lines = Array.from({ length: row.events }, (_, i) =>
        JSON.stringify({
          type: 'evt',
          id: `e${i}`,
          _channel: '1',
          body: { sourcetype: 'fs', _time: 1700000000 + i, source: 'fs.open', host: 'h', proc: String(manifest['cmd']), cmd: String(manifest['cmd']), pid: 1, data: {} },
        }),
      );
      writeFileSync(join(dir, 'events.json'), lines.join('\n') + (row.eventsNoFinalNewline ? '' : '\n'));
    }
    if (row.log !== null) writeFileSync(join(dir, 'libscope.log'), row.log);
  }
  writeFileSync(join(home, 'count'), '5\n');
  return home;
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a bin with node; stdin is /dev/null unless `input` is given (then a pipe), stdout a pipe. */
export function run(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string, extra: SpawnSyncOptions = {}): Result {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { PATH: process.env['PATH'], ...env },
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 20_000,
    ...extra,
  });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * Output made comparable: the home directory becomes $SCOPE_HOME, and the test's own pid becomes SELF
 * (in a table, padded to the same width so the columns stay aligned).
 */
export function normalize(text: string, home: string): string {
  const pid = String(process.pid);
  return text
    .split(home)
    .join('$SCOPE_HOME')
    .replace(new RegExp(`"pid":${pid}\\b`, 'g'), `"pid":"${SELF}"`)
    .replace(new RegExp(`(?<=  )${pid}( *)(?=  )`, 'g'), (_m, pad: string) => SELF.padEnd(pid.length + pad.length));
}

/** Compare with test/golden/<name> byte for byte. */
export function golden(name: string, actual: string): void {
  const file = join(root, 'test', 'golden', name);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
    if (process.env['UPDATE_GOLDEN'] !== '1') throw new Error(`${file} is missing: run the tests with UPDATE_GOLDEN=1 and review it`);
    writeFileSync(file, actual);
    return;
  }
  assert.fixture(actual, readFileSync(file, 'utf8'), `golden ${name}`);
}
