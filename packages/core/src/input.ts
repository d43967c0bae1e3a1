/**
 * Where the reading tools (events, metrics, flows, filter) take their records from: the input named
 * on the command line (a file of NDJSON records, a session directory, or `-` for stdin); else a
 * session named by `--session DIR` or `--id N`; else NDJSON on stdin when stdin is a pipe or a file;
 * else the last session. Stdin is read only when nothing else is named, so a tool given a file or a
 * session inside a `while read` loop leaves the loop's input alone. Optionally followed as it grows. Bad lines are reported as `scope-<tool>: <where>:<line>: <why>` and counted;
 * the tool goes on (or stops, with --strict) and exits 1 at the end when there were any. A torn
 * record (the start of one, cut where its writer was killed) is not a bad line: each input's torn
 * records are counted and named in one warning when the reading ends.
 */
import { accessSync, constants, createReadStream, fstatSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { Readable } from 'node:stream';
import type { ArgsDef } from 'citty';
import { ScopeError, UsageError } from './errors.js';
import { followLines } from './follow.js';
import { LineSplitter } from './lines.js';
import { formatBadLine, formatTorn, isTornRecord, parseRecord, readNdjson } from './ndjson.js';
import type { BadLine, JsonObject } from './ndjson.js';
import { findSession, historyDir, lastSession, openSessionFile, readSession, scopeHome } from './session.js';
import type { Session } from './session.js';

/** The input flags the reading tools share. */
export const inputArgs = {
  id: { type: 'string', alias: 'i', valueHint: 'N', description: 'Read session N (default: the last session)' },
  session: { type: 'string', valueHint: 'DIR', description: 'Read the session in this directory' },
  follow: { type: 'boolean', alias: 'f', description: 'Keep reading records as they are appended (Ctrl-C stops)' },
  strict: { type: 'boolean', description: 'Stop at the first bad input line' },
} as const satisfies ArgsDef;

/** The input named as an argument, for the reading tools' `args` (its name is `input`). */
export const inputPositional = {
  type: 'positional',
  required: false,
  valueHint: 'FILE|DIR|-',
  description: 'Read this file of records, this session directory, or - (stdin); without it: --id/--session, else stdin when it is a pipe or a file, else the last session',
} as const;

/** What an input argument names: stdin, a session directory, or a file (a pipe such as <(…) too). */
export type NamedInput = { kind: 'stdin' } | { kind: 'session'; dir: string } | { kind: 'file'; path: string; stats: Stats };

/**
 * Classify an input argument; a path that does not exist, or names neither a file nor a directory,
 * is an error naming it. Given together with --id or --session it is a usage error.
 */
export function namedInput(word: string, options: { id?: string | undefined; session?: string | undefined } = {}): NamedInput {
  if (options.id !== undefined || options.session !== undefined) {
    throw new UsageError(`"${word}": name the input once, as an argument or with --${options.id !== undefined ? 'id' : 'session'}`);
  }
  if (word === '-') return { kind: 'stdin' };
  let stats: Stats;
  try {
    stats = statSync(word);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ScopeError(`${word}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (stats.isDirectory()) return { kind: 'session', dir: word };
  if (stats.isFile() || stats.isFIFO() || stats.isSocket() || stats.isCharacterDevice()) {
    try {
      accessSync(word, constants.R_OK);
    } catch {
      throw new ScopeError(`${word}: permission denied`);
    }
    return { kind: 'file', path: word, stats };
  }
  throw new ScopeError(`${word}: not a file of records, a session directory or -`);
}

/** A file the user named (symlinks and pipes allowed, unlike a session's own files). */
function namedFileStream(path: string): Readable {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

/** Follow a named file as it grows; a pipe is read to its end (it has no more to follow). */
async function* followNamed(input: NamedInput & { kind: 'file' }, signal: AbortSignal): AsyncGenerator<string[]> {
  if (!input.stats.isFile()) {
    yield* streamLines(namedFileStream(input.path), input.path);
    return;
  }
  for await (const line of followLines([input.path], { signal })) yield [line];
}

export interface InputOptions {
  /** For messages: `scope-events`. */
  tool: string;
  id?: string | undefined;
  session?: string | undefined;
  /** The input named as an argument: a file, a session directory, or - (namedInput). */
  input?: string | undefined;
  follow?: boolean | undefined;
  strict?: boolean | undefined;
  /** Which files of a session: events.json, metrics.json, or both (events first). */
  files: 'events' | 'metrics' | 'both';
  stdin: Readable & { fd?: number };
  env: NodeJS.ProcessEnv;
  /** Where bad-line messages go. */
  warn: (message: string) => void;
  /** Ends --follow (SIGINT in the tools). */
  signal?: AbortSignal | undefined;
}

/** A record and where it was read: `stdin` or the file's path, and its 1-based line. */
export interface InputRecord {
  record: JsonObject;
  where: string;
  line: number;
}

export interface RecordInput {
  /** The records; or, for messages about a record, `entries` (consume one of the two, once). */
  records: AsyncIterable<JsonObject>;
  entries: AsyncIterable<InputRecord>;
  /** Bad lines seen so far. */
  bad: () => number;
  /** Torn records (a writer killed mid-line) skipped so far: warned about, not bad lines. */
  torn: () => number;
  /** `stdin` or the session directory. */
  source: string;
  session: Session | null;
}

/** True when stdin carries data for us: a pipe, a file or a socket (not a terminal, not /dev/null). */
export function stdinHasData(fd = 0): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}

/** The session the flags name, or the last one. */
export async function chooseSession(options: Pick<InputOptions, 'id' | 'session' | 'env'>): Promise<Session> {
  if (options.session !== undefined) return readSession(options.session);
  const home = scopeHome(options.env);
  if (options.id !== undefined) {
    if (!/^\d+$/.test(options.id)) throw new UsageError(`--id: "${options.id}" is not a session id (a number)`);
    return findSession(home, Number(options.id));
  }
  const last = await lastSession(home);
  if (!last) throw new ScopeError(`no session in ${historyDir(home)}: run a command with "scope run" first`);
  return last;
}

/** One file's lines, or stdin's: raw text, for tools that look at a line before parsing it. */
export interface LineInput {
  /** Batches of lines as read (blank ones included, without their newlines), in order. */
  batches: AsyncIterable<string[]>;
  /** `stdin` or the file's path, for messages about a line. */
  where: string;
  /** `stdin` or the session directory, for messages about the input as a whole. */
  source: string;
  session: Session | null;
  /** When following a file: the complete non-blank lines it held when we started. */
  backlog?: number;
}

export type LineInputOptions = Pick<InputOptions, 'id' | 'session' | 'input' | 'follow' | 'stdin' | 'env' | 'signal'> & {
  /** Which file of a session. */
  file: 'events' | 'metrics';
};

/** Split a stream into batches of lines, one batch per chunk read; a last unterminated line is kept. */
export async function* streamLines(stream: Readable, where: string): AsyncGenerator<string[]> {
  stream.setEncoding('utf8');
  const splitter = new LineSplitter();
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const parts: string[] = [];
      splitter.push(chunk, parts);
      if (parts.length > 0) yield parts;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return; // a session whose program wrote nothing there yet
    throw new ScopeError(`${where}: ${e.message}`);
  }
  const last = splitter.end();
  if (last !== null) yield [last];
}

/** A session file's bytes (none when it does not exist yet), opened by openSessionFile's rules. */
function sessionFileStream(path: string): Readable {
  const fd = openSessionFile(path);
  return fd === null ? Readable.from([]) : createReadStream('', { fd, highWaterMark: 1 << 20 });
}

/** Complete non-blank lines of a file now (0 when it does not exist). */
async function countLines(path: string, open: (path: string) => Readable = sessionFileStream): Promise<number> {
  let n = 0;
  for await (const batch of streamLines(open(path), path)) for (const line of batch) if (line !== '') n++;
  return n;
}

async function* followBatches(path: string, signal: AbortSignal): AsyncGenerator<string[]> {
  for await (const line of followLines([path], { signal })) yield [line];
}

/**
 * Where to read, by the rules at the top of this file: the input named, else stdin when nothing else
 * is named and it has data, else a session (`chooseSession`: --session, --id, the last one).
 */
function whichInput(options: Pick<InputOptions, 'id' | 'session' | 'input' | 'stdin'>): NamedInput | { kind: 'chosen' } {
  if (options.input !== undefined) return namedInput(options.input, options);
  if (options.id === undefined && options.session === undefined && stdinHasData(options.stdin.fd ?? 0)) return { kind: 'stdin' };
  return { kind: 'chosen' };
}

/** The raw lines of stdin (a pipe or a file) or of one file of a session, followed or not. */
export async function openLines(options: LineInputOptions): Promise<LineInput> {
  const named = whichInput(options);
  if (named.kind === 'stdin') return { batches: streamLines(options.stdin, 'stdin'), where: 'stdin', source: 'stdin', session: null };
  if (named.kind === 'file') {
    if (options.follow === true) {
      const backlog = named.stats.isFile() ? await countLines(named.path, namedFileStream) : 0;
      return { batches: followNamed(named, options.signal ?? new AbortController().signal), where: named.path, source: named.path, session: null, backlog };
    }
    return { batches: streamLines(namedFileStream(named.path), named.path), where: named.path, source: named.path, session: null };
  }
  const session = named.kind === 'session' ? await readSession(named.dir) : await chooseSession(options);
  const path = options.file === 'events' ? session.paths.events : session.paths.metrics;
  if (options.follow === true) {
    const backlog = await countLines(path);
    const signal = options.signal ?? new AbortController().signal;
    return { batches: followBatches(path, signal), where: path, source: session.dir, session, backlog };
  }
  return { batches: streamLines(sessionFileStream(path), path), where: path, source: session.dir, session };
}

/**
 * Records of the lines; a bad line goes to onBad, a torn record (a writer killed mid-line) is
 * counted per file and reported once per file through onTorn when the reading ends.
 */
async function* parsedLines(lines: AsyncIterable<[string, string, number]>, onBad: (b: BadLine) => boolean, onTorn: (source: string, count: number) => void): AsyncGenerator<InputRecord> {
  const torn = new Map<string, number>();
  try {
    for await (const [source, text, line] of lines) {
      if (text.trim() === '') continue;
      const parsed = parseRecord(text);
      if (typeof parsed === 'string') {
        if (isTornRecord(text)) {
          torn.set(source, (torn.get(source) ?? 0) + 1);
          continue;
        }
        if (!onBad({ source, line, reason: parsed, text: text.slice(0, 120) })) return;
        continue;
      }
      yield { record: parsed, where: source, line };
    }
  } finally {
    for (const [source, count] of torn) onTorn(source, count);
  }
}

async function* recordsOf(entries: AsyncIterable<InputRecord>): AsyncGenerator<JsonObject> {
  for await (const e of entries) yield e.record;
}

/** Lines of each file with their file and line number; followed while `signal` has not aborted. */
async function* fileLines(paths: string[], follow: boolean, signal: AbortSignal | undefined, open: (path: string) => Readable = sessionFileStream): AsyncGenerator<[string, string, number]> {
  const counts = new Map<string, number>();
  if (follow) {
    // followLines interleaves files as they grow; its lines carry no file name, so each file is
    // followed on its own iterator and merged here in arrival order.
    const stop = signal ?? new AbortController().signal;
    const iters = paths.map((p) => ({ path: p, it: followLines([p], { signal: stop })[Symbol.asyncIterator]() }));
    const pending = new Map<number, Promise<{ i: number; r: IteratorResult<string> }>>();
    const next = (i: number) =>
      pending.set(
        i,
        iters[i]!.it.next().then((r) => ({ i, r })),
      );
    iters.forEach((_, i) => next(i));
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      const path = iters[i]!.path;
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      next(i);
      yield [path, r.value, n];
    }
    return;
  }
  for (const path of paths) {
    let n = 0;
    for await (const batch of streamLines(open(path), path)) for (const text of batch) yield [path, text, ++n];
  }
}

/** Open the input the flags and stdin say. */
export async function openInput(options: InputOptions): Promise<RecordInput> {
  let bad = 0;
  const onBad = (b: BadLine): boolean => {
    bad++;
    options.warn(formatBadLine(options.tool, b));
    return !options.strict;
  };
  let torn = 0;
  const onTorn = (source: string, count: number): void => {
    torn += count;
    options.warn(formatTorn(options.tool, source, count));
  };
  const named = whichInput(options);
  if (named.kind === 'stdin') {
    const { records, stats } = readNdjson(options.stdin, { source: 'stdin', onBadLine: onBad, strict: options.strict === true, skipTorn: true });
    const entries = (async function* () {
      try {
        for await (const record of records) yield { record, where: 'stdin', line: stats.lines };
      } finally {
        if (stats.torn > 0) onTorn('stdin', stats.torn);
      }
    })();
    return { records: recordsOf(entries), entries, bad: () => bad, torn: () => torn, source: 'stdin', session: null };
  }
  if (named.kind === 'file') {
    // a pipe (<(…)) is read to its end, not followed
    const entries = parsedLines(fileLines([named.path], options.follow === true && named.stats.isFile(), options.signal, namedFileStream), onBad, onTorn);
    return { records: recordsOf(entries), entries, bad: () => bad, torn: () => torn, source: named.path, session: null };
  }
  const session = named.kind === 'session' ? await readSession(named.dir) : await chooseSession(options);
  const paths = options.files === 'events' ? [session.paths.events] : options.files === 'metrics' ? [session.paths.metrics] : [session.paths.events, session.paths.metrics];
  const entries = parsedLines(fileLines(paths, options.follow === true, options.signal), onBad, onTorn);
  return {
    records: recordsOf(entries),
    entries,
    bad: () => bad,
    torn: () => torn,
    source: session.dir,
    session,
  };
}
