/**
 * scope-prune: which sessions to delete, the question to ask, and the deleting.
 */
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Session } from '@scope/core';
import { pidAlive, sessionState } from './sessions.js';

export type PruneMode = { keep: number } | { delete: number } | { all: true };

export interface PrunePlan {
  /** To delete, oldest first. */
  remove: Session[];
  /** Chosen by the mode but running: never deleted. */
  running: Session[];
}

/**
 * `keep N`: all but the newest N; `delete N`: the oldest N; `all`: every session. Running sessions are
 * taken out of the choice (not replaced by others), so a prune never deletes more than it says.
 * `sessions` must be oldest first.
 */
export function planPrune(sessions: Session[], mode: PruneMode, alive: (pid: number) => boolean = pidAlive): PrunePlan {
  let chosen: Session[];
  if ('keep' in mode) chosen = mode.keep >= sessions.length ? [] : sessions.slice(0, sessions.length - mode.keep);
  else if ('delete' in mode) chosen = sessions.slice(0, mode.delete);
  else chosen = sessions.slice();
  const remove: Session[] = [];
  const running: Session[] = [];
  for (const s of chosen) (sessionState(s, alive) === 'running' ? running : remove).push(s);
  return { remove, running };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The question asked before deleting. */
export function promptText(n: number): string {
  return `Delete ${plural(n, 'session')}? [y/N] `;
}

/** True for the answers that mean yes: y or yes, any case, surrounding blanks ignored. */
export function isYes(answer: string | null): boolean {
  return answer !== null && /^\s*y(es)?\s*$/i.test(answer);
}

/** Write the question to `out` and read one line from `input`; null at end of input. */
export function ask(question: string, input: Readable, out: Writable): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve(null);
    });
    out.write(question);
  });
}

/** The NDJSON record for a deleted session. */
export function prunedRecord(s: Session): Record<string, unknown> {
  const m = s.manifest;
  return { type: 'pruned', id: m.id, cmd: m.cmd, args: m.args, start: m.start, end: m.end, dir: s.dir };
}

/** Delete one session directory; resolves to an error message or null. */
export async function removeSession(s: Session): Promise<string | null> {
  try {
    await rm(s.dir, { recursive: true, force: true });
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `${s.dir}: cannot delete: ${e.code ?? e.message}`;
  }
}
