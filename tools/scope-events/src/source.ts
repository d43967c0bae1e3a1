/**
 * Where scope-events reads its lines: stdin when it is a pipe or a file, else the events.json of a
 * session (--session DIR, --id N, or the last one), optionally followed as it grows.
 *
 * The choice of input and of session is @scope/core's (stdinHasData, chooseSession, followLines);
 * the lines themselves are read here rather than through openInput, because scope-events needs each
 * record's raw text (to test --match before parsing, and to pass the line through unchanged) and its
 * line number (the event's id), which openInput's parsed records do not carry.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { chooseSession, followLines, ScopeError, stdinHasData } from '@scope/core';
import type { Session } from '@scope/core';

export interface LineInput {
  /** Batches of lines as read (blank ones included, without their newlines). */
  batches: AsyncIterable<string[]>;
  /** `stdin` or the events file's path. */
  where: string;
  /** For messages about the input as a whole: `stdin` or the session directory. */
  source: string;
  session: Session | null;
  /** When following: the complete non-blank lines the file held when we started. */
  backlog?: number;
}

export interface LineInputOptions {
  id?: string | undefined;
  session?: string | undefined;
  follow?: boolean | undefined;
  stdin: Readable & { fd?: number };
  env: NodeJS.ProcessEnv;
  /** Ends --follow. */
  signal?: AbortSignal | undefined;
}

/** Split a stream into batches of lines, one batch per chunk read; a last unterminated line is kept. */
export async function* streamLines(stream: Readable, where: string): AsyncGenerator<string[]> {
  stream.setEncoding('utf8');
  let partial = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() as string;
      if (parts.length > 0) yield parts;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return; // a session whose program wrote no event yet
    throw new ScopeError(`${where}: ${e.message}`);
  }
  if (partial !== '') yield [partial];
}

/** Complete non-blank lines of a file now (0 when it does not exist). */
async function countLines(path: string): Promise<number> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return 0;
  }
  try {
    const text = (await handle.readFile()).toString('utf8');
    const lines = text.split('\n');
    lines.pop();
    return lines.filter((l) => l !== '').length;
  } finally {
    await handle.close();
  }
}

async function* followBatches(path: string, signal: AbortSignal): AsyncGenerator<string[]> {
  for await (const line of followLines([path], { signal })) yield [line];
}

/** Open the input the flags and stdin say. */
export async function openLines(options: LineInputOptions): Promise<LineInput> {
  const fromStdin = options.id === undefined && options.session === undefined && stdinHasData(options.stdin.fd ?? 0);
  if (fromStdin) {
    return { batches: streamLines(options.stdin, 'stdin'), where: 'stdin', source: 'stdin', session: null };
  }
  const session = await chooseSession(options);
  const path = session.paths.events;
  if (options.follow === true) {
    const backlog = await countLines(path);
    const signal = options.signal ?? new AbortController().signal;
    return { batches: followBatches(path, signal), where: path, source: session.dir, session, backlog };
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  return { batches: streamLines(stream, path), where: path, source: session.dir, session };
}
