/** Running scope-events as a real process, and where the fixtures and golden files are. */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { noForcedColour } from '@scope/core/testing';

export const pkg = fileURLToPath(new URL('../../', import.meta.url));
export const bin = `${pkg}bin/scope-events.js`;
export const fixtures = `${pkg}test/fixtures/`;
export const golden = `${pkg}test/golden/`;
export const scopeRunBin = fileURLToPath(new URL('../../../scope-run/bin/scope-run.js', import.meta.url));
export const scopeBin = fileURLToPath(new URL('../../../scope/bin/scope.js', import.meta.url));

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for the tool: UTC, no colour settings inherited, the given SCOPE_HOME. */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...noForcedColour(), TZ: 'UTC' };
  delete env['NO_COLOR'];
  delete env['FORCE_COLOR'];
  return { ...env, ...extra };
}

/** Run scope-events with stdin from a file (or /dev/null) and stdout a pipe. */
export function run(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Ran {
  const fd = openSync(options.stdin ?? '/dev/null', 'r');
  try {
    const r = spawnSync(process.execPath, [bin, ...args], { stdio: [fd, 'pipe', 'pipe'], env: toolEnv(options.env), encoding: 'utf8', maxBuffer: 256 << 20 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}
