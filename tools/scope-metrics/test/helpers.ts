/** Running scope-metrics as a real process, and where the fixtures and golden files are. */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { noForcedColour, tempDir } from '@scope/core/testing';

export const pkg = fileURLToPath(new URL('../../', import.meta.url));
export const bin = `${pkg}bin/scope-metrics.js`;
export const fixtures = `${pkg}test/fixtures/`;
export const golden = `${pkg}test/golden/`;
export const scopeBin = fileURLToPath(new URL('../../../scope/bin/scope.js', import.meta.url));

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for the tool: UTC, 80 columns unless told, no colour settings, the given extras. */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...noForcedColour(), TZ: 'UTC' };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'COLUMNS', 'LD_PRELOAD']) delete env[k];
  for (const k of Object.keys(env)) if (k.startsWith('SCOPE_')) delete env[k];
  return { ...env, ...extra };
}

/** Run a node bin with stdin from a file (or /dev/null) and stdout a pipe. */
export function runNode(file: string, args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Ran {
  const fd = openSync(options.stdin ?? '/dev/null', 'r');
  try {
    const r = spawnSync(process.execPath, [file, ...args], { stdio: [fd, 'pipe', 'pipe'], env: toolEnv(options.env), encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

export const run = (args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) => runNode(bin, args, options);

/** Run scope-metrics with stdin a pipe fed `input`. */
export function runPiped(args: string[], input: string, env: Record<string, string> = {}): Ran {
  const r = spawnSync(process.execPath, [bin, ...args], { input, stdio: ['pipe', 'pipe', 'pipe'], env: toolEnv(env), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Compare with test/golden/<name> byte for byte (UPDATE_GOLDEN=1 rewrites it). */
export function matchGolden(name: string, actual: string): void {
  const path = `${golden}${name}`;
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(path)) {
    if (process.env['UPDATE_GOLDEN'] !== '1') assert.unreachable(`missing golden file ${path} (UPDATE_GOLDEN=1 writes it)`);
    writeFileSync(path, actual);
    return;
  }
  assert.fixture(actual, readFileSync(path, 'utf8'), name);
}

export function newHome(): string {
  return tempDir('scope-metrics-test-');
}

/** `scope run --no-stream -- argv…` in `home`; throws when it fails. */
export function scopeRun(home: string, argv: string[], flags: string[] = []): Ran {
  const r = runNode(scopeBin, ['run', '--no-stream', ...flags, '--', ...argv], { env: { SCOPE_HOME: home } });
  if (r.status !== 0) throw new Error(`scope run failed (${r.status}):\n${r.stderr}`);
  return r;
}

export const lines = (text: string) => text.split('\n').filter((l) => l !== '');
export const records = (text: string) => lines(text).map((l) => JSON.parse(l) as { type: string; body: Record<string, any> });

/** Start scope-metrics in the background (stdin /dev/null) and collect its output. */
export function start(args: string[], env: Record<string, string>): { child: ChildProcess; out: () => string; err: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv(env) });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, done };
}

export async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
