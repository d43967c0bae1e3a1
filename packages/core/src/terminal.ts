/**
 * What a tool's output for people may do, decided once per run from the stream, the environment and
 * `--color`: whether to colour, and how wide a line may be.
 *
 * Colour, first rule that applies:
 *   1. `--color always` / `--color never` (`--no-color` is never); `--color auto` is the default;
 *   2. FORCE_COLOR set and not empty: colour, unless it is `0` or `false` (then none), into a pipe too;
 *   3. NO_COLOR set and not empty: none (no-color.org: an empty NO_COLOR means nothing);
 *   4. colour only on a terminal whose TERM is not `dumb`.
 *
 * Width: on a terminal, its columns (else $COLUMNS, else 80), and lines for people are cut to it
 * with `…`; into a pipe or a file, no width: lines are written whole.
 */
import type { ArgsDef } from 'citty';
import { UsageError } from './errors.js';

export const COLOR_MODES = ['auto', 'always', 'never'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

/** The `--color` option every tool with output for people takes. */
export const colorArgs = {
  color: { type: 'string', valueHint: 'auto|always|never', description: 'Colour the output for people: auto (on a terminal; NO_COLOR, FORCE_COLOR), always, never' },
} as const satisfies ArgsDef;

/** `--color`'s value as parsed (a string, or false for --no-color); a bad one is a usage error naming it. */
export function colorMode(value: unknown): ColorMode {
  if (value === undefined || value === true) return 'auto';
  if (value === false) return 'never';
  const v = String(value);
  if (!(COLOR_MODES as readonly string[]).includes(v)) throw new UsageError(`--color: "${v}" is not one of ${COLOR_MODES.join(', ')}`);
  return v as ColorMode;
}

export interface TerminalStream {
  isTTY?: boolean;
  columns?: number;
}

/** Whether output to `stream` is coloured (the rules above). */
export function useColor(stream: TerminalStream, env: NodeJS.ProcessEnv = process.env, mode: ColorMode = 'auto'): boolean {
  if (mode !== 'auto') return mode === 'always';
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  const no = env['NO_COLOR'];
  if (no !== undefined && no !== '') return false;
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

/** The width lines for people are cut to: the terminal's; null (whole lines) when not a terminal. */
export function terminalWidth(stream: TerminalStream, env: NodeJS.ProcessEnv = process.env): number | null {
  if (stream.isTTY !== true) return null;
  if (typeof stream.columns === 'number' && stream.columns > 0) return stream.columns;
  const fromEnv = Number(env['COLUMNS']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}

// SGR sequences (colours): they take no room on the screen.
const SGR = /\u001b\[[0-9;]*m/g;

/** Columns a character takes: 2 for East Asian wide and emoji, 0 for combining marks, else 1. */
function cells(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** Columns a line takes on screen (colour codes take none). */
export function visibleWidth(line: string): number {
  let n = 0;
  for (const ch of line.replace(SGR, '')) n += cells(ch.codePointAt(0) as number);
  return n;
}

/**
 * A line cut to `width` columns, ending in `…` when cut (colour codes kept, and reset after a cut
 * inside a coloured part); the line itself when it fits or when width is null.
 */
export function fitLine(line: string, width: number | null): string {
  if (width === null || visibleWidth(line) <= width) return line;
  const room = Math.max(0, width - 1);
  let used = 0;
  let out = '';
  let coloured = false;
  for (let i = 0; i < line.length; ) {
    const m = line.startsWith('\u001b[', i) ? /^\u001b\[[0-9;]*m/.exec(line.slice(i)) : null;
    if (m) {
      out += m[0];
      coloured = m[0] !== '\u001b[0m' && m[0] !== '\u001b[m';
      i += m[0].length;
      continue;
    }
    const cp = line.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    const w = cells(cp);
    if (used + w > room) break;
    out += ch;
    used += w;
    i += ch.length;
  }
  return out + '…' + (coloured ? '\u001b[0m' : '');
}

/** What a tool decided about its output for people: colour, width, and the cut. */
export interface Terminal {
  color: boolean;
  width: number | null;
  /** Each line of `text` cut to the width. */
  fit(text: string): string;
}

export function terminal(stream: TerminalStream, env: NodeJS.ProcessEnv = process.env, color: unknown = undefined): Terminal {
  const width = terminalWidth(stream, env);
  return {
    color: useColor(stream, env, colorMode(color)),
    width,
    fit: (text) =>
      width === null
        ? text
        : text
            .split('\n')
            .map((l) => fitLine(l, width))
            .join('\n'),
  };
}
