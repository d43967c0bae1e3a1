/**
 * `scope <verb> …` runs tool scope-<verb> in this process; `scope <anything else> …` is `scope run`.
 */
import { defineCommand } from 'citty';
// Not @scope/core's index: loading all of it cost `scope run -- true` tens of milliseconds (run-api.ts).
import { EXIT, SCOPE_VERSION, UsageError } from '@scope/core/run-api';
import type { ToolRun } from '@scope/core/run-api';
import { VERBS } from './verbs.js';

export const command = defineCommand({
  meta: { name: 'scope', version: SCOPE_VERSION, description: 'See what any Linux command or process does, with no code change' },
});

export function usage(): string {
  const width = Math.max(...VERBS.map((v) => v.name.length));
  const lines = VERBS.map((v) => `  ${v.name.padEnd(width)}  ${v.summary}${v.load ? '' : ' (not built yet)'}`);
  return [
    `scope ${SCOPE_VERSION} — see what any Linux command or process does, with no code change`,
    '',
    'Usage: scope <verb> [options] [args]',
    '       scope [run options] [--] command [args…]   (same as scope run)',
    '',
    'Verbs:',
    ...lines,
    '',
    "Run 'scope <verb> --help' for a verb's options.",
  ].join('\n');
}

/** Which tool handles argv, and the argv it gets. */
export function dispatch(rawArgs: string[]): { verb: string; args: string[] } {
  const first = rawArgs[0];
  const verb = VERBS.find((v) => v.name === first);
  if (verb) return { verb: verb.name, args: rawArgs.slice(1) };
  return { verb: 'run', args: rawArgs };
}

let current: ToolRun | undefined;

export async function main(rawArgs: string[]): Promise<number> {
  const first = rawArgs[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? process.stderr : process.stdout).write(usage() + '\n');
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`${SCOPE_VERSION}\n`);
    return EXIT.OK;
  }
  const { verb, args } = dispatch(rawArgs);
  const entry = VERBS.find((v) => v.name === verb);
  if (!entry?.load) throw new UsageError(`"${verb}" is not built yet; see the README for the state of each verb`);
  current = await entry.load();
  return current.main(args);
}

/** Messages and usage come from the verb that ran, so errors read `scope-run: …`. */
export const tool: ToolRun = {
  get name() {
    return current?.name ?? 'scope';
  },
  get command() {
    return current?.command ?? command;
  },
  get usage() {
    return current ? current.usage : usage;
  },
  get keepRunningOnEpipe() {
    return current?.keepRunningOnEpipe;
  },
  main,
};
