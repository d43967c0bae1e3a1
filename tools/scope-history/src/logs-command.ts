/**
 * `scope-logs [--id N | --session DIR] [--last N] [--follow]` — arguments and wiring only; the work is in logs.ts.
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { chooseSession, EXIT, parseToolArgs, printable } from '@scope/core';
import { noPositionals, processIo } from './io.js';
import type { Io } from './io.js';
import { logOutput } from './logs.js';
import { countOption } from './sessions.js';

export const logsArgs = {
  id: { type: 'string', alias: 'i', valueHint: 'N', description: 'Show the log of session N (default: the last session)' },
  session: { type: 'string', valueHint: 'DIR', description: 'Show the log of the session in this directory' },
  last: { type: 'string', alias: 'n', valueHint: 'N', description: 'Show only the last N lines' },
  follow: { type: 'boolean', alias: 'f', description: 'Keep printing lines as they are appended (Ctrl-C stops, status 0)' },
} as const satisfies ArgsDef;

export const logsCommand = defineCommand({
  meta: { name: 'scope-logs', description: "Show a session's libscope.log (the library's own diagnostics)" },
  args: logsArgs,
});

export async function logsMain(rawArgs: string[], io: Io = processIo(), signals: NodeJS.EventEmitter = process): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, logsCommand, logsArgs, io.stdout);
  if (!parsed) return EXIT.OK;
  noPositionals(parsed);
  const last = countOption('--last', parsed.last);
  const session = await chooseSession({ id: parsed.id, session: parsed.session, env: io.env });
  let stop: AbortController | undefined;
  const onSignal = () => stop?.abort();
  if (parsed.follow === true) {
    stop = new AbortController();
    signals.on('SIGINT', onSignal);
    signals.on('SIGTERM', onSignal);
  }
  try {
    for await (const line of logOutput(session.paths.log, { last, follow: stop?.signal })) {
      // Lines quote what the program named (paths, hosts): control characters escaped, tabs kept.
      if (!io.stdout.write(printable(line, { tab: true }) + '\n')) await new Promise((resolve) => io.stdout.once('drain', resolve));
    }
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
  }
  return EXIT.OK;
}

export const logsTool: ToolRun = { name: 'scope-logs', main: (rawArgs) => logsMain(rawArgs), command: logsCommand };
