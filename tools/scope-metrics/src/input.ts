/**
 * Where scope-metrics reads its lines: stdin when it is a pipe or a file, else the metrics.json of a
 * session (--session DIR, --id N, or the last one), optionally followed as it grows.
 *
 * The choice of input and of session is @scope/core's (stdinHasData, chooseSession, followLines).
 * The lines themselves are read here rather than through openInput, because a session's metrics.json
 * may hold StatsD lines (SCOPE_METRIC_FORMAT=statsd), which openInput's JSON parser would report as
 * bad lines: scope-metrics needs each raw line, with its line number, to read either form.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { chooseSession, followLines, ScopeError, stdinHasData } from '@scope/core';
import type { Session } from '@scope/core';

/** One input line, without its newline. */
export interface Line {
  /** `stdin` or the file's path, for messages. */
  where: string;
  /** 1-based. */
  line: number;
  text: string;
}

export interface LineInput {
  lines: AsyncIterable<Line>;
  /** `stdin` or the session directory. */
  source: string;
  session: Session | null;
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

/** The lines of a stream; a last line without its newline is kept (and is usually a truncated record). */
export async function* streamLines(stream: Readable, where: string): AsyncGenerator<Line> {
  stream.setEncoding('utf8');
  let partial = '';
  let n = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() as string;
      for (const text of parts) yield { where, line: ++n, text: text.endsWith('\r') ? text.slice(0, -1) : text };
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return; // a session whose program wrote no metric (yet)
    throw new ScopeError(`${where}: ${e.message}`);
  }
  if (partial !== '') yield { where, line: ++n, text: partial };
}

async function* followed(path: string, signal: AbortSignal): AsyncGenerator<Line> {
  // followLines skips blank lines, which libscope never writes: the numbers stay right.
  let n = 0;
  for await (const text of followLines([path], { signal })) yield { where: path, line: ++n, text };
}

/** Open the input the flags and stdin say. */
export async function openLines(options: LineInputOptions): Promise<LineInput> {
  const fromStdin = options.id === undefined && options.session === undefined && stdinHasData(options.stdin.fd ?? 0);
  if (fromStdin) return { lines: streamLines(options.stdin, 'stdin'), source: 'stdin', session: null };
  const session = await chooseSession(options);
  const path = session.paths.metrics;
  const lines = options.follow === true
    ? followed(path, options.signal ?? new AbortController().signal)
    : streamLines(createReadStream(path), path);
  return { lines, source: session.dir, session };
}
