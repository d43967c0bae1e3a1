/** Where scope keeps its files. Alone in its file so that errors.ts can load without the session API. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $SCOPE_HOME, or ~/.scope. */
export function scopeHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['SCOPE_HOME'];
  return home !== undefined && home !== '' ? home : join(homedir(), '.scope');
}
