import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { noForcedColour } from '@scope/core/testing';

/** The package directory (tests run from dist/test). */
export const pkg = fileURLToPath(new URL('../../', import.meta.url));
export const fixtures = `${pkg}test/fixtures/`;
export const golden = `${pkg}test/golden/`;
export const bin = `${pkg}bin/scope-flows.js`;
export const umbrella = fileURLToPath(new URL('../../../scope/bin/scope.js', import.meta.url));

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  raw: Buffer;
}

/** Run scope-flows with stdin a pipe carrying `input`, or a file (`stdinFile`), or /dev/null. */
export function run(args: string[], opts: { input?: string; stdinFile?: string; env?: NodeJS.ProcessEnv; command?: string[] } = {}): Ran {
  const fd = opts.stdinFile !== undefined ? openSync(opts.stdinFile, 'r') : undefined;
  try {
    const r = spawnSync(process.execPath, [...(opts.command ?? [bin]), ...args], {
      input: opts.input,
      stdio: [fd ?? (opts.input !== undefined ? 'pipe' : 'ignore'), 'pipe', 'pipe'],
      env: { ...noForcedColour(), NO_COLOR: '1', ...opts.env },
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Run with a live child (for --follow); resolves when it exits. */
export function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...noForcedColour(), NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, done, out: () => stdout, err: () => stderr };
}

/** Compare with test/golden/<name> byte for byte; UPDATE_GOLDEN=1 rewrites it. */
export function matchGolden(name: string, actual: string): void {
  const path = golden + name;
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(path)) {
    if (process.env['UPDATE_GOLDEN'] !== '1') throw new Error(`missing golden file ${path} (run with UPDATE_GOLDEN=1 to create it)`);
    mkdirSync(golden, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.fixture(actual, readFileSync(path, 'utf8'), name);
  assert.ok(actual === readFileSync(path, 'utf8'), `${name}: byte-for-byte`);
}

export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
