/**
 * Text for a terminal. Program names, arguments, paths and record values come from the observed
 * program (or from whoever wrote the input), so they may hold terminal escape sequences (ESC, CSI,
 * OSC, C1 controls), carriage returns and backspaces that rewrite what is already on the screen, or
 * bidi overrides that reorder it. Everything a tool prints for people passes through `printable`,
 * which shows such characters as visible escapes (`\x1b`, `\r`, `\u202e`) and leaves ordinary text,
 * any script and emoji included, as it is. Colour codes a tool adds go around the escaped text.
 * NDJSON output needs none of this: JSON.stringify already escapes control characters.
 */

/**
 * What is escaped: C0 controls (tab and newline only when not kept), DEL, C1 controls, the bidi
 * marks, embeddings, overrides and isolates, the line and paragraph separators, and the BOM.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
// eslint-disable-next-line no-control-regex
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escape(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export interface PrintableOptions {
  /** Keep tabs as they are (free text such as a log line); escaped by default (a table cell). */
  tab?: boolean;
  /** Keep newlines as they are (a message of several lines); escaped by default. */
  newline?: boolean;
}

/**
 * `s` safe to write to a terminal: control characters and bidi controls shown as `\x1b`, `\r`,
 * `\u202e`…; everything else unchanged. A string with nothing to escape is returned as it is.
 */
export function printable(s: string, keep: PrintableOptions = {}): string {
  // The fast path: one test over the text (tabs only pass it when they are kept, as below).
  if (!UNSAFE.test(s) && (keep.tab === true || s.indexOf('\t') < 0)) return s;
  return s.replace(UNSAFE_ALL, (c) => ((c === '\t' && keep.tab === true) || (c === '\n' && keep.newline === true) ? c : escape(c)));
}
