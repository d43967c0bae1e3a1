/**
 * Bytes to lines for one connection: a record split across TCP segments is joined, a line longer
 * than the maximum is reported once and skipped up to its newline (the connection goes on), and
 * line numbers stay right for messages.
 */

export type LineItem = { kind: 'line'; line: number; bytes: Buffer } | { kind: 'overflow'; line: number };

const NL = 0x0a;

export class LineSplitter {
  /** Pieces of the line being received (not yet ended by a newline). */
  private parts: Buffer[] = [];
  private size = 0;
  /** The current line went past the maximum: its bytes are dropped until its newline. */
  private skipping = false;
  private lineNo = 0;

  constructor(private readonly maxLine: number) {}

  /** Feed a chunk; returns the lines it completed, in order. */
  push(chunk: Buffer): LineItem[] {
    const out: LineItem[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      this.take(chunk.subarray(start, end), out);
      if (nl < 0) break;
      this.finish(out);
      start = nl + 1;
    }
    return out;
  }

  /** The connection ended: a last line without its newline still counts. */
  end(): LineItem[] {
    const out: LineItem[] = [];
    if (this.size > 0 || this.skipping) this.finish(out);
    return out;
  }

  private take(piece: Buffer, out: LineItem[]): void {
    if (this.skipping || piece.length === 0) return;
    if (this.size + piece.length > this.maxLine) {
      // Report it as soon as it is known to be too long, not when (if ever) its newline comes.
      this.skipping = true;
      this.parts = [];
      this.size = 0;
      out.push({ kind: 'overflow', line: this.lineNo + 1 });
      return;
    }
    // Sockets hand over a fresh Buffer per chunk, so a slice of it can be kept without a copy.
    this.parts.push(piece);
    this.size += piece.length;
  }

  private finish(out: LineItem[]): void {
    this.lineNo++;
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    out.push({ kind: 'line', line: this.lineNo, bytes });
  }
}
