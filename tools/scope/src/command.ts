/**
 * `scope <verb> …` runs tool scope-<verb> in this process; `scope <anything else> …` is `scope run`.
 */
import { defineCommand } from 'citty';
// Not @scope/core's index: loading all of it cost `scope run -- true` tens of milliseconds (run-api.ts).
import { EXIT, SCOPE_VERSION, UsageError } from '@scope/core/run-api';
import type { ToolRun } from '@scope/core/run-api';
import { accessSync, constants, statSync } from 'node:fs';
import { VERBS } from './verbs.js';

const isExecutableFile = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

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

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** Whether `name` is a program the shell would find: a path, or a file on PATH. */
export function onPath(name: string, path: string | undefined, isFile: (p: string) => boolean): boolean {
  if (name.includes('/')) return true;
  return (path ?? '').split(':').some((dir) => isFile(`${dir === '' ? '.' : dir}/${name}`));
}

/**
 * A first word that is no verb and no program but is close to a verb (`scope evnets`) was a typo:
 * the verb it most likely meant, or null.
 */
export function meantVerb(word: string, path: string | undefined, isFile: (p: string) => boolean): string | null {
  if (word.startsWith('-') || onPath(word, path, isFile)) return null;
  let best: { name: string; d: number } | null = null;
  for (const v of VERBS) {
    const d = distance(word, v.name);
    if (d <= (v.name.length <= 4 ? 1 : 2) && (!best || d < best.d)) best = { name: v.name, d };
  }
  return best?.name ?? null;
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
  if (!entry?.load) throw new UsageError(`"${verb}" is AppScope's verb, not built yet; use "scope run -- ${verb} …" to scope a program of that name`);
  if (verb === 'run' && first !== 'run') {
    const meant = meantVerb(first, process.env['PATH'], isExecutableFile);
    if (meant !== null) throw new UsageError(`"${first}" is neither a verb nor a program; did you mean "scope ${meant}"?`);
  }
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
