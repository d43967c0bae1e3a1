/**
 * `scope-history [options]` — arguments and wiring only; the work is in history.ts and sessions.ts.
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { Session, ToolRun } from '@scope/core';
import { colorArgs, createNdjsonWriter, EXIT, historyDir, outputArgs, parseToolArgs, printable, ScopeError, scopeHome, terminal, UsageError } from '@scope/core';
import { formatTable, historyRecord, historyRows } from './history.js';
import { noPositionals, peopleFormat, processIo } from './io.js';
import type { Io } from './io.js';
import { countOption, loadSessions, nowMs } from './sessions.js';

export const historyArgs = {
  last: { type: 'string', alias: 'n', valueHint: 'N', description: 'Show the newest N sessions (default on a terminal: 20; without N: the newest)' },
  all: { type: 'boolean', alias: 'a', description: 'Show every session' },
  running: { type: 'boolean', alias: 'r', description: 'Show only sessions whose command is still running' },
  id: { type: 'string', alias: 'i', valueHint: 'N', description: 'Show only session N' },
  dir: { type: 'boolean', alias: 'd', description: "Print only the session's directory (with --id N: session N, else the last)" },
  ...outputArgs,
  ...colorArgs,
} as const satisfies ArgsDef;

export const historyCommand = defineCommand({
  meta: { name: 'scope-history', description: 'List the sessions recorded by scope run (oldest first, newest last)' },
  args: historyArgs,
});

/** The default number of sessions shown to people. */
export const DEFAULT_LAST = 20;

/**
 * `--last` (or `-n`) with no number after it means the newest session: `scope history --last --dir`
 * prints the last session's directory (as in `scope diff base.yml $(scope history --last --dir)`).
 */
export function lastWithoutNumber(rawArgs: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    out.push(a);
    if (a === '--') {
      out.push(...rawArgs.slice(i + 1));
      break;
    }
    const next = rawArgs[i + 1];
    if ((a === '--last' || a === '-n') && (next === undefined || next.startsWith('-'))) out.push('1');
  }
  return out;
}

export async function historyMain(rawArgs: string[], io: Io = processIo()): Promise<number> {
  const parsed = await parseToolArgs(lastWithoutNumber(rawArgs), historyCommand, historyArgs, io.stdout);
  if (!parsed) return EXIT.OK;
  noPositionals(parsed);
  const people = peopleFormat(parsed, io.stdout);
  const last = countOption('--last', parsed.last);
  if (last !== undefined && parsed.all === true) throw new UsageError('--last and --all cannot be used together');
  let id: number | undefined;
  if (parsed.id !== undefined) {
    if (!/^\d+$/.test(parsed.id)) throw new UsageError(`--id: "${parsed.id}" is not a session id (a number)`);
    id = Number(parsed.id);
  }

  const home = scopeHome(io.env);
  const now = nowMs(io.env);
  const warn = (message: string) => io.stderr.write(`scope-history: ${printable(message)}\n`);
  const { sessions, bad } = await loadSessions(home, warn);
  const status = bad > 0 ? EXIT.FAILURE : EXIT.OK;

  let chosen: Session[] = sessions;
  if (id !== undefined) {
    const found = sessions.find((s) => s.id === id);
    if (!found) throw new ScopeError(`no session with id ${id} in ${historyDir(home)}`);
    chosen = [found];
  }
  if (parsed.dir === true) {
    const session = chosen.at(-1);
    if (!session) throw new ScopeError(`no session in ${historyDir(home)}: run a command with "scope run" first`);
    io.stdout.write(session.dir + '\n');
    return status;
  }

  const limit = parsed.all === true || id !== undefined ? undefined : (last ?? (people ? DEFAULT_LAST : undefined));
  const rows = await historyRows(chosen, { running: parsed.running === true, last: limit });
  if (people) {
    const term = terminal(io.stdout, io.env, parsed.color);
    for (const line of formatTable(rows, now, term.color)) io.stdout.write(term.fit(line) + '\n');
    const hidden = chosen.length - rows.length;
    if (hidden > 0 && limit !== undefined && parsed.running !== true) io.stderr.write(`scope-history: ${hidden} older sessions not shown (--all shows them)\n`);
  } else {
    const out = createNdjsonWriter(io.stdout);
    for (const row of rows) await out.write(historyRecord(row));
    await out.end();
  }
  return status;
}

export const historyTool: ToolRun = { name: 'scope-history', main: (rawArgs) => historyMain(rawArgs), command: historyCommand };
