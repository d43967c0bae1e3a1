/** Aligned columns for people, and how numbers, times and tags are shown in them. */
import { printable } from '@scope/core';
import type { DimValue } from '@scope/core';

const BOLD = '\u001b[1m';
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

export interface Column {
  title: string;
  /** Right-align (numbers). */
  right?: boolean;
  /** Shown faint on a terminal (tags). */
  faint?: boolean;
  /** Fixed width when rows are written one by one (--follow). */
  width?: number;
}

/** A number for people: integers as they are, others with at most 3 decimals. */
export function fmtNum(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const fixed = Number(n.toFixed(3));
  return String(fixed === 0 && n !== 0 ? n.toPrecision(3) : fixed);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time of day with microseconds: 14:03:59.851732. */
export function fmtTime(t: number, digits: 3 | 6 = 6): string {
  const us = Math.round(t * 1e6);
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const frac = digits === 6 ? String(us - Math.floor(us / 1e6) * 1e6).padStart(6, '0') : String(ms % 1000).padStart(3, '0');
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${frac}`;
}

/** TAGS: the dimensions as k:v, sorted by key, joined by commas (`-` when there is none). */
export function fmtTags(dims: Record<string, DimValue>, skip: ReadonlySet<string>): string {
  const keys = Object.keys(dims)
    .filter((k) => !skip.has(k))
    .sort();
  return keys.length === 0 ? '-' : keys.map((k) => `${k}:${dims[k]}`).join(',');
}

function cell(text: string, width: number, col: Column, last: boolean): string {
  if (last && !col.right) return text;
  return col.right ? text.padStart(width) : text.padEnd(width);
}

function paint(text: string, code: string, color: boolean): string {
  return color && text !== '' ? `${code}${text}${RESET}` : text;
}

/** Control and bidi characters shown escaped (\n, \t, \x1b, \u202e…) so that one record stays one line and no escape reaches the terminal. */
export const visible = (s: string): string => printable(s);

function line(values: string[], widths: number[], columns: Column[], color: boolean, header: boolean): string {
  const parts = values.map((v, i) => {
    const col = columns[i] as Column;
    const text = cell(v, widths[i] as number, col, i === values.length - 1);
    return header ? text : col.faint ? paint(text, DIM, color) : text;
  });
  const joined = parts.join('  ');
  return header ? paint(joined.trimEnd(), BOLD, color) : joined.trimEnd();
}

/** Every row at once, each column as wide as its widest cell. */
export function renderTable(columns: Column[], cells: string[][], color: boolean): string[] {
  const rows = cells.map((r) => r.map(visible));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [
    line(
      columns.map((c) => c.title),
      widths,
      columns,
      color,
      true,
    ),
    ...rows.map((r) => line(r, widths, columns, color, false)),
  ];
}

/** A table written row by row (--follow): fixed widths, wider cells push the line on. */
export class StreamTable {
  private readonly widths: number[];
  constructor(
    private readonly columns: Column[],
    private readonly color: boolean,
  ) {
    this.widths = columns.map((c) => Math.max(c.title.length, c.width ?? 0));
  }
  header(): string {
    return line(
      this.columns.map((c) => c.title),
      this.widths,
      this.columns,
      this.color,
      true,
    );
  }
  row(values: string[]): string {
    return line(values.map(visible), this.widths, this.columns, this.color, false);
  }
}
