/**
 * NDJSON streams, the one wire format between tools: a reader that reports bad lines compiler-style
 * and keeps going, and a writer that respects back-pressure.
 */
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { MAX_LINE_LENGTH, tooLongReason } from './lines.js';
import { printable } from './printable.js';

// split2 is loaded by the first reader, not with this module: every tool imports the writer half
// (runTool waits on `flushed`), and a CommonJS package costs an ESM importer two reads and a parse.
type Split2 = typeof import('split2');
let split2Lib: Split2 | undefined;
const loadSplit2 = (): Split2 => (split2Lib ??= createRequire(import.meta.url)('split2') as Split2);

/** Lines longer than this are reported as bad rather than buffered without bound. */
export const DEFAULT_MAX_LINE = MAX_LINE_LENGTH;

/** A line that is not one JSON object. */
export interface BadLine {
  /** Where the line came from: `stdin` or a path. */
  source: string;
  /** 1-based line number. */
  line: number;
  reason: string;
  /** The start of the offending text (cut to 120 characters). */
  text: string;
}

export interface ReadOptions {
  /** Named in messages: `stdin` or the file's path. */
  source: string;
  maxLineLength?: number;
  /** Called for each bad line, in order; the reader goes on unless `strict`. */
  onBadLine?: (bad: BadLine) => void;
  /** Stop at the first bad line (it is still reported through onBadLine). */
  strict?: boolean;
  /** Count torn records (isTornRecord) in `stats.torn` instead of reporting them as bad lines. */
  skipTorn?: boolean;
}

/** Counts a reader keeps while it runs; read them after the iteration ends. */
export interface ReadStats {
  lines: number;
  records: number;
  bad: number;
  /** Torn records skipped (only with `skipTorn`). */
  torn: number;
}

export type JsonObject = Record<string, unknown>;

const OVERFLOW = Symbol('overflow');

/** `scope-events: stdin:12: Unexpected token …` — the format every tool uses for a bad line. */
export function formatBadLine(tool: string, bad: BadLine): string {
  // An over-long line's marker is not text of the input: nothing to show.
  // The line, its source's name and the reason (a parser's message quotes the line) are shown
  // with their control characters escaped: this goes to a terminal.
  const shown = bad.text.length > 0 && tooLongReason(bad.text) === null ? `\n  ${printable(bad.text)}` : '';
  return `${tool}: ${printable(bad.source)}:${bad.line}: ${printable(bad.reason)}${shown}`;
}

/**
 * A torn record: the start of a JSON object cut short, which is what a writer killed in the middle
 * of its write leaves (libscope ends such a line before writing its own, so it stands alone). It
 * fails to parse only because the text ends: JSON.parse stops at, or past, its last character.
 */
export function isTornRecord(text: string): boolean {
  if (!text.startsWith('{')) return false;
  try {
    JSON.parse(text);
    return false;
  } catch (err) {
    const message = (err as Error).message;
    if (/end of JSON input/.test(message)) return true;
    const at = /at position (\d+)/.exec(message);
    return at !== null && Number(at[1]) >= text.length;
  }
}

/** `scope-events: events.json: 2 torn records skipped …` — the one warning for all of an input's torn lines. */
export function formatTorn(tool: string, source: string, count: number): string {
  return `${tool}: ${printable(source)}: ${count} torn record${count === 1 ? '' : 's'} skipped (a writer killed in the middle of writing it)`;
}

/** Parse one line; a string reason when it is not a JSON object. */
export function parseRecord(text: string): JsonObject | string {
  const tooLong = tooLongReason(text);
  if (tooLong !== null) return tooLong;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'not a JSON object';
  }
  return value as JsonObject;
}

/**
 * Read NDJSON records from a stream. Blank lines are skipped; every other line that is not a JSON
 * object, or is longer than the maximum, goes to `onBadLine` and is counted in `stats.bad`.
 */
export function readNdjson(
  input: Readable,
  options: ReadOptions,
): {
  records: AsyncIterable<JsonObject>;
  stats: ReadStats;
} {
  const stats: ReadStats = { lines: 0, records: 0, bad: 0, torn: 0 };
  const maxLength = options.maxLineLength ?? DEFAULT_MAX_LINE;
  const split2 = loadSplit2();
  // skipOverflow is in split2 but missing from its type definitions.
  const splitter = split2({ maxLength, skipOverflow: true } as Parameters<typeof split2>[0] & object);
  // split2 skips an over-long line silently; wrap its transform to leave a marker in the stream so
  // the line is counted and reported, and line numbers stay right.
  const inner = splitter._transform.bind(splitter);
  const state = splitter as unknown as { overflow: boolean };
  splitter._transform = (chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void) => {
    const before = state.overflow;
    inner(chunk, enc, (err?: Error | null) => {
      if (state.overflow && (!before || chunk.includes(10))) splitter.push(OVERFLOW);
      cb(err);
    });
  };
  input.on('error', (err) => splitter.destroy(err));
  input.pipe(splitter);

  const bad = (reason: string, text: string): BadLine => {
    stats.bad++;
    const entry = { source: options.source, line: stats.lines, reason, text: text.slice(0, 120) };
    options.onBadLine?.(entry);
    return entry;
  };

  async function* iterate(): AsyncGenerator<JsonObject> {
    for await (const item of splitter as AsyncIterable<string | typeof OVERFLOW>) {
      stats.lines++;
      if (item === OVERFLOW) {
        bad(`line longer than ${maxLength} bytes`, '');
        if (options.strict) break;
        continue;
      }
      if (item.trim() === '') continue;
      const parsed = parseRecord(item);
      if (typeof parsed === 'string') {
        if (options.skipTorn === true && isTornRecord(item)) {
          stats.torn++;
          continue;
        }
        bad(parsed, item);
        if (options.strict) break;
        continue;
      }
      stats.records++;
      yield parsed;
    }
  }
  return { records: iterate(), stats };
}

/** Writes one record per line; `write` waits when the destination is full. */
export interface NdjsonWriter {
  write(record: unknown): Promise<void>;
  /** Write a line that is already serialized JSON (no newline). */
  writeLine(line: string): Promise<void>;
  end(): Promise<void>;
}

/** Resolves when the stream can take more, or can take nothing ever again (closed or failed). */
function settled(out: Writable, event: 'drain' | 'finish'): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off(event, done).off('close', done).off('error', done);
      resolve();
    };
    out.once(event, done).once('close', done).once('error', done);
  });
}

/** Resolves once every write made so far is done (or the stream failed or closed). Not by waiting
 * for 'drain': that comes only after a write that filled the buffer. */
export function flushed(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (out.writableLength === 0 || out.destroyed) {
      resolve();
      return;
    }
    const done = () => {
      out.off('close', done).off('error', done);
      resolve();
    };
    out.once('close', done).once('error', done);
    out.write('', done);
  });
}

/**
 * A writer over `out`. A destination that fails (EPIPE when the reader went away) makes later writes
 * no-ops; the error itself reaches the stream's own 'error' listeners (see runTool).
 */
export function createNdjsonWriter(out: Writable): NdjsonWriter {
  const writeLine = async (line: string): Promise<void> => {
    if (out.destroyed || out.writableEnded) return;
    if (!out.write(line + '\n')) await settled(out, 'drain');
  };
  return {
    writeLine,
    write: (record) => writeLine(JSON.stringify(record)),
    end: async () => {
      if (out.destroyed || out.writableEnded) return;
      // stdout and stderr are never really ended by node; wait for what is buffered to be written
      // instead (flushed: waiting for 'drain' after a last write that fit left end() waiting for
      // ever, and node exited 13, or 0, with the loop empty; seen under load).
      await flushed(out);
    },
  };
}
