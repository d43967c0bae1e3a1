/**
 * `scope-filter [-f [N:]FILTER]… [--policy FILE|DIR]… [options]` — arguments and wiring only; the
 * language is in parse.ts and policy.ts, the matching in match.ts, the stream in filter.ts.
 */
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { createNdjsonWriter, EXIT, filterArgs, flagValues, inputArgs, inputPositional, openLines, outputArgs, parseToolArgs, UsageError, printable, terminal } from '@scope/core';
import { scopeFilterPairs } from './env.js';
import { explain } from './explain.js';
import { runFilter } from './filter.js';
import { parseFilters } from './parse.js';
import type { Scopes } from './parse.js';
import { loadPolicies } from './policy.js';

const NAME = 'scope-filter';

export const args = {
  ...filterArgs,
  id: inputArgs.id,
  session: inputArgs.session,
  // -f is the filter here (as in Tracee); following a session is --follow only.
  follow: { type: 'boolean', description: inputArgs.follow.description },
  strict: inputArgs.strict,
  format: { type: 'enum', options: ['json', 'table'], description: 'json (NDJSON, the default into a pipe) or table (the default on a terminal)' },
  json: outputArgs.json,
  pretty: { type: 'boolean', description: 'Same as --format table' },
  explain: { type: 'boolean', description: 'Print each scope in plain words, and the SCOPE_FILTER libscope would get; read nothing' },
  input: inputPositional,
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: { name: NAME, description: 'Filter records with up to 64 scopes at once; each record says which scopes matched (matchedScopes)' },
  args,
});

/** The scopes the -f and --policy words of argv give (a UsageError for any bad one); null when none. */
export function scopesFromArgs(rawArgs: string[]): Scopes | null {
  const filters = flagValues(rawArgs, 'filter', 'f');
  const policies = flagValues(rawArgs, 'policy');
  if (filters.length > 0 && policies.length > 0) throw new UsageError('give scopes with -f or with --policy, not both');
  if (policies.length > 0) return loadPolicies(policies);
  if (filters.length > 0) return parseFilters(filters);
  return null;
}

/** Parse argv, run, and resolve to the exit status. */
export async function main(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, command, args);
  if (!parsed) return EXIT.OK;
  const extra = (parsed._ ?? []).map(String);
  // a word that is no file but reads like a filter: -f was forgotten
  if (extra[0] !== undefined && extra[0] !== '-' && /[=<>]/.test(extra[0]) && !existsSync(extra[0])) {
    throw new UsageError(`unexpected argument "${extra[0]}" (a filter is given with -f)`);
  }
  if (extra.length > 1) throw new UsageError(`one input at most (a file, a session directory or -), not "${extra[1]}" too (a filter is given with -f)`);
  const scopes = scopesFromArgs(rawArgs);
  if (!scopes) throw new UsageError('no filter: give at least one -f [N:]KIND OP VALUES, or --policy FILE');
  if (parsed.explain) {
    process.stdout.write(explain(scopes, scopeFilterPairs(scopes)['SCOPE_FILTER'] ?? '') + '\n');
    return EXIT.OK;
  }
  const chosen = [parsed.format, parsed.json ? 'json' : undefined, parsed.pretty ? 'table' : undefined].filter((f) => f !== undefined);
  if (new Set(chosen).size > 1) throw new UsageError('--format, --json and --pretty disagree');
  const format = (chosen[0] ?? (process.stdout.isTTY ? 'table' : 'json')) as 'json' | 'table';

  const controller = new AbortController();
  const input = await openLines({
    file: 'events',
    id: parsed.id,
    session: parsed.session,
    input: extra[0],
    follow: parsed.follow === true,
    stdin: process.stdin,
    env: process.env,
    signal: controller.signal,
  });
  const onSigint = () => controller.abort();
  const following = input.backlog !== undefined;
  if (following) process.on('SIGINT', onSigint);
  const writer = createNdjsonWriter(process.stdout);
  const fit = terminal(process.stdout, process.env).fit;
  try {
    const result = await runFilter(input.batches, scopes, {
      tool: NAME,
      where: input.where,
      format,
      strict: parsed.strict === true,
      live: input.session === null || following,
      hostname: hostname(),
      warn: (message) => process.stderr.write(printable(message, { newline: true }) + '\n'),
      // a table's lines cut to a terminal's width
      write: (text) => writer.writeLine(format === 'table' ? fit(text) : text),
    });
    await writer.end();
    if (result.bad > 0) process.stderr.write(`${NAME}: ${result.bad} bad input line${result.bad === 1 ? '' : 's'} in ${input.source}\n`);
    return result.bad > 0 ? EXIT.FAILURE : EXIT.OK;
  } finally {
    if (following) process.off('SIGINT', onSigint);
  }
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: NAME, main, command };
