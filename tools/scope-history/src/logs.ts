/**
 * scope-logs: a session's libscope.log, whole, its last lines, and followed as it grows.
 */
import { readFile } from 'node:fs/promises';
import { followLines } from '@scope/core';

export interface LogText {
  /** The lines to print now (each without its newline). */
  lines: string[];
  /** Complete, non-empty lines in the file as read (what followLines will yield first, to skip). */
  seen: number;
}

/** Split log text into lines; `last` keeps only the final N. A final line without newline is kept unless `completeOnly`. */
export function logLines(text: string, last: number | undefined, completeOnly: boolean): LogText {
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  if (tail !== '' && !completeOnly) parts.push(tail);
  const seen = text
    .split('\n')
    .slice(0, -1)
    .filter((l) => l !== '').length;
  const lines = last === undefined ? parts : last === 0 ? [] : parts.slice(-last);
  return { lines, seen };
}

/** The log's text, or '' when it does not exist (a session whose library never wrote a diagnostic). */
export async function readLog(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/**
 * The lines to print: the current content (or its last N lines), then, with `follow`, every line
 * appended until `signal` aborts. In follow mode a line still being written at the start is printed
 * when it is complete, and appended empty lines are not printed (followLines skips them).
 */
export async function* logOutput(path: string, options: { last?: number | undefined; follow?: AbortSignal | undefined }): AsyncGenerator<string> {
  const text = await readLog(path);
  const now = logLines(text, options.last, options.follow !== undefined);
  yield* now.lines;
  if (!options.follow) return;
  let skip = now.seen;
  for await (const line of followLines([path], { signal: options.follow })) {
    if (skip > 0) {
      skip--;
      continue;
    }
    yield line;
  }
}
