/** Running scope-filter as a real process. */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { noForcedColour } from '@scope/core/testing';

export const bin = fileURLToPath(new URL('../../bin/scope-filter.js', import.meta.url));

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run scope-filter with stdin from a file (or /dev/null) and stdout a pipe. */
export function run(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Ran {
  const fd = openSync(options.stdin ?? '/dev/null', 'r');
  try {
    const r = spawnSync(process.execPath, [bin, ...args], { stdio: [fd, 'pipe', 'pipe'], env: { ...noForcedColour(), TZ: 'UTC', ...options.env }, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}
