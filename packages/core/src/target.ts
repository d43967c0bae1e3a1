/**
 * PID|NAME → one process. A name that fits several processes gives a numbered list (ID PID USER
 * SCOPED COMMAND) and a prompt on a terminal; without a terminal, an error listing the candidates
 * (status 2), so a script never picks one by chance.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ScopeError, UsageError } from './errors.js';
import { commandLine, existingProcess, libscopeLoaded, pidArgument, processesNamed } from './processes.js';
import type { ProcessInfo } from './processes.js';
import { textTable } from './table.js';

export interface Prompting {
  /** A terminal to ask on, or null (no terminal: several matches are an error). */
  tty: { input: Readable; output: Writable } | null;
}

/** The candidate table: `ID PID USER SCOPED COMMAND`. */
export function candidateTable(list: ProcessInfo[]): string {
  const rows = list.map((p, i) => [String(i + 1), String(p.pid), p.user, libscopeLoaded(p.pid) ? 'yes' : 'no', commandLine(p)]);
  return textTable(['ID', 'PID', 'USER', 'SCOPED', 'COMMAND'], rows);
}

async function ask(tty: NonNullable<Prompting['tty']>, list: ProcessInfo[]): Promise<ProcessInfo> {
  tty.output.write(candidateTable(list) + '\n');
  const rl = createInterface({ input: tty.input, output: tty.output });
  try {
    for (;;) {
      const answer = (
        await new Promise<string | null>((resolve) => {
          rl.question('Select an ID from the list (empty to give up): ', resolve);
          rl.once('close', () => resolve(null));
        })
      )?.trim();
      if (answer === undefined || answer === null || answer === '') throw new ScopeError('nothing selected');
      const n = Number(answer);
      if (Number.isInteger(n) && n >= 1 && n <= list.length) return list[n - 1] as ProcessInfo;
      tty.output.write(`"${answer}" is not an ID from 1 to ${list.length}\n`);
    }
  } finally {
    rl.close();
  }
}

/**
 * The process `arg` names. `filter` narrows a name's candidates (detach: the scoped ones, "that
 * is scoped"); `what` says what the verb does, for messages.
 */
export async function resolveTarget(arg: string, prompting: Prompting, what: string, filter?: { keep: (p: ProcessInfo) => boolean; described: string }): Promise<ProcessInfo> {
  const pid = pidArgument(arg);
  if (pid !== null) return existingProcess(pid);
  if (arg === '' || arg.includes('/')) throw new UsageError(`"${arg}" is neither a pid nor a process name`);
  const list = processesNamed(arg).filter((p) => filter?.keep(p) ?? true);
  if (list.length === 0) throw new ScopeError(`no process named "${arg}"${filter ? ` ${filter.described}` : ''}`);
  if (list.length === 1) return list[0] as ProcessInfo;
  if (!prompting.tty) {
    throw new UsageError(`${list.length} processes are named "${arg}"; give the PID of the one to ${what}:\n${candidateTable(list)}`);
  }
  return ask(prompting.tty, list);
}
