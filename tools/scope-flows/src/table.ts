/**
 * The format for people: one row per flow under the columns ID PID PROC PROTOCOL LOCAL PEER IN OUT
 * DURATION CLOSE. IN/OUT are bytes, `-` while a flow is open.
 */
import { printable } from '@scope/core';
import type { FlowRecord } from './flows.js';

export const COLUMNS = ['ID', 'PID', 'PROC', 'PROTOCOL', 'LOCAL', 'PEER', 'IN', 'OUT', 'DURATION', 'CLOSE'] as const;
const RIGHT = new Set(['PID', 'IN', 'OUT', 'DURATION']);
/** Widths used when rows are printed as they come (--follow) and cannot be measured first. */
const FOLLOW_WIDTHS = [3, 7, 12, 14, 21, 21, 9, 9, 8, 6];

/** 12ms, 4.20s, 5m03s, 2h07m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** A row's cells, as shown: a process's name and the addresses it gave are escaped for the terminal. */
export function cells(r: FlowRecord): string[] {
  const row = [
    r.id,
    String(r.pid),
    r.proc,
    r.protocol,
    r.local,
    r.peer,
    r.bytes_in === null ? '-' : String(r.bytes_in),
    r.bytes_out === null ? '-' : String(r.bytes_out),
    formatDuration(r.duration),
    r.close,
  ];
  return row.map((c) => printable(c));
}

export interface TableStyle {
  colour: boolean;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

function line(row: readonly string[], widths: number[], style: TableStyle, header: boolean): string {
  const parts = row.map((cell, i) => {
    const name = COLUMNS[i] as string;
    const w = widths[i] ?? 0;
    const last = i === row.length - 1;
    const padded = RIGHT.has(name) ? cell.padStart(w) : last ? cell : cell.padEnd(w);
    if (header) return paint(style.colour, '1', padded);
    if (name === 'CLOSE' && cell === 'open') return paint(style.colour, '33', padded);
    if (name === 'ID') return paint(style.colour, '36', padded);
    return padded;
  });
  return parts.join('  ').trimEnd();
}

/** The whole table, widths measured from its rows; the header alone when there are none. */
export function renderTable(records: FlowRecord[], style: TableStyle): string[] {
  const rows = records.map(cells);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [line(COLUMNS, widths, style, true), ...rows.map((r) => line(r, widths, style, false))];
}

/** Header and rows for --follow: fixed widths, longer cells push the line out. */
export const followHeader = (style: TableStyle): string => line(COLUMNS, FOLLOW_WIDTHS, style, true);
export const followRow = (r: FlowRecord, style: TableStyle): string => line(cells(r), FOLLOW_WIDTHS, style, false);
