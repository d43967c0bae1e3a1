/**
 * `scope-events [options] [FILE|DIR|-] [ID]` — arguments and wiring only; the work is in events.ts (selection and
 * formats) and source.ts (where the lines come from).
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { existsSync } from 'node:fs';
import { colorArgs, createNdjsonWriter, EXIT, inputArgs, inputPositional, openLines, terminal, outputArgs, parseToolArgs, ScopeError, UsageError, printable } from '@scope/core';
import { parseShortId, runEvents } from './events.js';

const NAME = 'scope-events';
/** Events shown on a terminal when nothing selects them and --all is not given. */
export const DEFAULT_LAST = 20;

export const args = {
  ...inputArgs,
  json: { ...outputArgs.json, alias: 'j' },
  pretty: outputArgs.pretty,
  ...colorArgs,
  match: { type: 'string', alias: 'm', valueHint: 'TEXT', description: 'Only events whose JSON text contains TEXT' },
  source: { type: 'string', alias: 's', valueHint: 'NAME[,NAME…]', description: 'Only events from these sources (fs.open, net.close, stdout, …)' },
  sourcetype: { type: 'string', alias: 't', valueHint: 'TYPE[,TYPE…]', description: 'Only events of these source types (fs, net, http, dns, console, file, …)' },
  fields: { type: 'string', valueHint: 'a,b,…', description: 'Show only these data fields, in this order' },
  sort: { type: 'string', valueHint: 'FIELD', description: 'Sort by a body field: _time, proc, pid, data.<name>, …' },
  reverse: { type: 'boolean', alias: 'r', description: 'Reverse the order (of --sort, else of the input)' },
  last: { type: 'string', alias: 'n', valueHint: 'N', description: `Only the last N events selected (default ${DEFAULT_LAST} on a terminal when nothing selects)` },
  all: { type: 'boolean', alias: 'a', description: 'No default limit on a terminal' },
  input: inputPositional,
  event: { type: 'positional', required: false, description: 'Print this one event (its id, as shown in [ ]) whole' },
} as const satisfies ArgsDef;

/**
 * The arguments: at most one input (-, a path with a /, or a file or directory that exists) and at
 * most one event id, in either order. A file named like an event id is read as the file; `./2s`
 * always is.
 */
export function splitPositionals(words: string[], exists: (p: string) => boolean = existsSync): { input?: string; event?: string } {
  const out: { input?: string; event?: string } = {};
  for (const word of words) {
    const isInput = word === '-' || word.includes('/') || exists(word);
    if (isInput) {
      if (out.input !== undefined) throw new UsageError(`one input at most (a file, a session directory or -), not "${word}" too`);
      out.input = word;
    } else if (parseShortId(word) !== null) {
      if (out.event !== undefined) throw new UsageError(`one event id at most (got ${out.event} ${word})`);
      out.event = word;
    } else {
      throw new UsageError(`"${word}" is neither a file, a session directory nor an event id (the code shown in [ ], e.g. 2s)`);
    }
  }
  return out;
}

export const command = defineCommand({
  meta: { name: NAME, description: 'Read, filter, sort and follow the events of a session or of stdin' },
  args,
});

function list(flag: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`--${flag}: give at least one name`);
  return names;
}

/** Parse argv, run, and resolve to the exit status. */
export async function main(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, command, args);
  if (!parsed) return EXIT.OK;
  const named = splitPositionals((parsed._ ?? []).map(String));
  const only = named.event === undefined ? undefined : (parseShortId(named.event) as number);
  if (parsed.json && parsed.pretty) throw new UsageError('--json and --pretty cannot be used together');
  if (parsed.match === '') throw new UsageError('--match: give the text to look for');
  let last: number | undefined;
  if (parsed.last !== undefined) {
    if (!/^\d+$/.test(parsed.last)) throw new UsageError(`--last: "${parsed.last}" is not a number of events`);
    last = Number(parsed.last);
  }
  const follow = parsed.follow === true;
  if (follow && parsed.sort !== undefined) throw new UsageError('--sort cannot be used with --follow (it needs every event first)');
  if (follow && parsed.reverse === true) throw new UsageError('--reverse cannot be used with --follow');
  if (follow && only !== undefined) throw new UsageError('an event id cannot be used with --follow');
  if (parsed.sort !== undefined && !/^[^.\s]+(\.[^.\s]+)*$/.test(parsed.sort)) throw new UsageError(`--sort: "${parsed.sort}" is not a field (e.g. _time, proc, data.duration)`);
  const sources = list('source', parsed.source);
  const sourcetypes = list('sourcetype', parsed.sourcetype);
  const fields = list('fields', parsed.fields);

  const tty = process.stdout.isTTY === true;
  const format = parsed.json ? 'json' : parsed.pretty ? 'people' : tty ? 'people' : 'json';
  const term = terminal(process.stdout, process.env, parsed.color);
  const selecting = parsed.match !== undefined || sources !== undefined || sourcetypes !== undefined || parsed.sort !== undefined;
  if (last === undefined && tty && !follow && !selecting && parsed.all !== true && only === undefined) last = DEFAULT_LAST;

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  const input = await openLines({
    file: 'events',
    id: parsed.id,
    session: parsed.session,
    input: named.input,
    follow,
    stdin: process.stdin,
    env: process.env,
    signal: controller.signal,
  });
  // Following a session: Ctrl-C ends the reading; what was appended is drained and we exit 0.
  const handleSigint = input.backlog !== undefined;
  if (handleSigint) process.on('SIGINT', onSigint);
  const writer = createNdjsonWriter(process.stdout);
  try {
    const result = await runEvents(input.batches, {
      tool: NAME,
      where: input.where,
      format,
      color: format === 'people' && term.color,
      match: parsed.match,
      sources,
      sourcetypes,
      fields,
      sort: parsed.sort,
      reverse: parsed.reverse === true,
      last,
      only: only ?? undefined,
      strict: parsed.strict === true,
      backlog: input.backlog,
      warn: (message) => process.stderr.write(printable(message, { newline: true }) + '\n'),
      // one line per event, cut to a terminal's width (one event asked for is shown whole)
      write: (text) => writer.writeLine(format === 'people' && only === undefined ? term.fit(text) : text),
    });
    await writer.end();
    if (only !== undefined && !result.found) throw new ScopeError(`no event ${named.event} in ${input.source}`);
    if (tty && parsed.last === undefined && last !== undefined && result.selected > result.shown) {
      process.stderr.write(`${NAME}: showing the last ${result.shown} of ${result.selected} events (--all for every one)\n`);
    }
    return result.bad > 0 ? EXIT.FAILURE : EXIT.OK;
  } finally {
    if (handleSigint) process.off('SIGINT', onSigint);
  }
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: NAME, main, command };
