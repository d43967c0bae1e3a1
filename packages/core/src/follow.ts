/**
 * Following files that other processes append whole lines to (a live session's events.json and
 * metrics.json): yields each complete line once, in the order it was appended to its file.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from './lines.js';

export interface FollowOptions {
  /** Polling period in ms; file-system notifications wake us sooner where they work. */
  interval?: number;
  /** When aborted, the files are read to their current end once more and the iteration ends. */
  signal: AbortSignal;
}

interface Followed {
  path: string;
  handle: FileHandle | null;
  offset: number;
  /** The unfinished last line, kept in pieces (linear in its length) without a limit: writers write whole lines. */
  lines: LineSplitter;
  /** Keeps a character cut between two reads whole. */
  decoder: StringDecoder;
}

const CHUNK = 256 * 1024;

/**
 * Read one chunk of what was appended; true when the chunk was full (more may be there). One chunk
 * at a time: a writer appending faster than we read must not keep us from yielding what we have.
 */
async function readNew(file: Followed, out: string[]): Promise<boolean> {
  if (!file.handle) {
    try {
      file.handle = await open(file.path, 'r');
    } catch {
      return false; // not created yet
    }
  }
  const buf = Buffer.allocUnsafe(CHUNK);
  const { bytesRead } = await file.handle.read(buf, 0, CHUNK, file.offset);
  if (bytesRead === 0) return false;
  file.offset += bytesRead;
  const lines: string[] = [];
  file.lines.push(file.decoder.write(buf.subarray(0, bytesRead)), lines);
  for (const line of lines) if (line !== '') out.push(line);
  return bytesRead === CHUNK;
}

/**
 * Yield lines appended to any of `paths` until `signal` aborts, then drain what is left and end.
 * A line still without its newline at the end is not yielded (writers write whole lines).
 */
export async function* followLines(paths: string[], options: FollowOptions): AsyncGenerator<string> {
  const files: Followed[] = paths.map((path) => ({ path, handle: null, offset: 0, lines: new LineSplitter(Infinity), decoder: new StringDecoder('utf8') }));
  const interval = options.interval ?? 50;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const watchers: FSWatcher[] = [];
  for (const f of files) {
    try {
      watchers.push(watch(f.path, { persistent: false }, poke));
    } catch {
      // the file does not exist yet or cannot be watched: polling covers it
    }
  }
  options.signal.addEventListener('abort', poke, { once: true });
  try {
    for (;;) {
      const done = options.signal.aborted;
      const lines: string[] = [];
      let more = false;
      for (const f of files) if (await readNew(f, lines)) more = true;
      yield* lines;
      if (more) continue; // the rest at once (after an abort too: it is read to its end)
      if (done) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(poke, interval);
      });
    }
  } finally {
    for (const w of watchers) w.close();
    for (const f of files) await f.handle?.close();
  }
}
