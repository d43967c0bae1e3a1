/**
 * Plain-text tables for people: columns padded to their widest cell and separated by two spaces;
 * the last column is never padded (it is usually a command line or a path). Cells are shown as given:
 * a caller passes text from a program through printable() first.
 */

export interface TableOptions {
  /** Columns (by index) aligned right: numbers. */
  right?: readonly number[];
  /** Text before every line. */
  indent?: string;
}

/** The header line, then one line per row, joined by newlines (no trailing one). */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const right = new Set(options.right ?? []);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) =>
    (options.indent ?? '') +
    r
      .map((v, c) => (right.has(c) ? v.padStart(widths[c] ?? 0) : c === r.length - 1 ? v : v.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
