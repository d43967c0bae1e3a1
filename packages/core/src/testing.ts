/**
 * @scope/core/testing: what tests share, kept out of the tools' API. `tempDir` makes a private
 * directory under the system's temporary directory and removes it, with everything in it, when the
 * process exits (uvu runs a package's test files in one process), so a test run leaves nothing in
 * /tmp however its tests end, short of the runner being killed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** `mkdtemp` under tmpdir() with this prefix; removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.length === 0) process.once('exit', removeTempDirs);
  made.push(dir);
  return dir;
}

/** Remove every directory tempDir made so far (at exit, or sooner when a test wants). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a file another user's process still holds open is gone with its directory entry anyway
    }
  }
}

/** Whether an ELF core shows a function of a program on a thread, without a debugger (corefile.ts). */
export { coreShows } from './corefile.js';

/**
 * This process's environment without FORCE_COLOR, for the tools a test starts: uvu sets it in its own
 * process (for its report's colours), and the tools honour it (terminal.ts), which would colour output
 * a test reads as plain text.
 */
export function noForcedColour(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out['FORCE_COLOR'];
  return out;
}
