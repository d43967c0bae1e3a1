/**
 * Splitting text that arrives in chunks into lines, in time linear in its length: the unfinished
 * line is kept as a list of pieces (joined once, when its newline comes) and each chunk is searched
 * once. Joining the unfinished line with every new chunk and splitting it all again, as before,
 * read a 32 MB line in 37 s. A line longer than the limit is not kept: its characters are counted
 * and skipped as they come, and in its place the splitter yields a marker that parseRecord and
 * parseLine answer as a bad line ("line longer than …"), so it is reported, counted, and the line
 * numbers stay right.
 */

/** Lines longer than this (in characters) are reported as bad instead of read. */
export const MAX_LINE_LENGTH = 4 * 1024 * 1024;

// A NUL cannot start a scope record (JSON or StatsD), so the marker cannot be a real line.
const MARKER = '\u0000scope: line too long:';

/** What the splitter yields for a line of `length` characters longer than `max`. */
export function tooLongMarker(length: number, max: number): string {
  return `${MARKER}${length}:${max}`;
}

/** The reason to report when `text` is the marker of an over-long line, else null. */
export function tooLongReason(text: string): string | null {
  if (text.charCodeAt(0) !== 0 || !text.startsWith(MARKER)) return null;
  const [length, max] = text.slice(MARKER.length).split(':');
  return `line of ${length} characters is longer than the limit (${max}); skipped`;
}

export class LineSplitter {
  private pieces: string[] = [];
  private length = 0;

  constructor(private readonly max: number = MAX_LINE_LENGTH) {}

  /** Append the complete lines `chunk` ends (without their `\n`) to `out`. */
  push(chunk: string, out: string[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const end = nl < 0 ? chunk.length : nl;
      this.add(chunk, start, end);
      if (nl < 0) return;
      out.push(this.take());
      start = nl + 1;
    }
  }

  /** The last line when the text did not end with a newline (null when it did). */
  end(): string | null {
    if (this.length === 0) return null;
    return this.take();
  }

  private add(chunk: string, start: number, end: number): void {
    if (end === start) return;
    this.length += end - start;
    // Past the limit nothing more is kept: only the length is counted.
    if (this.length > this.max) {
      this.pieces = [];
      return;
    }
    this.pieces.push(start === 0 && end === chunk.length ? chunk : chunk.slice(start, end));
  }

  private take(): string {
    const line = this.length > this.max ? tooLongMarker(this.length, this.max) : this.pieces.length === 1 ? (this.pieces[0] as string) : this.pieces.join('');
    this.pieces = [];
    this.length = 0;
    return line;
  }
}
