/**
 * @scope/core/launch: what a bin shim loads first. It imports only fdlimit.ts (and Node's own
 * modules), then loads the tool; when the tool cannot even be loaded (a low `ulimit -n` keeps Node
 * from opening its module files, or a broken install) the user gets one line saying what is wrong,
 * not Node's trace.
 *
 *   #!/usr/bin/env node
 *   import('@scope/core/launch').then((m) => m.launch('scope-run', () => import('../dist/src/cli.js')), …);
 *
 * (the shim's own rejection handler covers this module failing to load).
 */
import { fdExhaustion, fdExhaustionMessage, openFileLimit } from './fdlimit.js';

/** Load a tool's cli module (which runs it and exits); on a failure to load, say why and exit 1. */
export async function launch(tool: string, load: () => Promise<unknown>): Promise<void> {
  openFileLimit(); // now, while a descriptor is free: the message about running out names the limit
  try {
    await load();
  } catch (err) {
    const fd = fdExhaustion(err);
    let message = fd === null ? null : fdExhaustionMessage(fd);
    if (message === null) {
      // A bug or a broken install: the report file, as for any internal error.
      try {
        const { toolErrorMessage } = await import('./errors.js');
        const { printable } = await import('./printable.js');
        message = printable(toolErrorMessage(tool, err), { newline: true });
      } catch {
        message = `cannot load the tool: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
      }
    }
    process.stderr.write(`${tool}: ${message}\n`);
    process.exit(1);
  }
}
