/**
 * scope-history: the sessions as records (NDJSON) or as a table for people.
 */
import { printable } from '@scope/core';
import type { Session } from '@scope/core';
import { commandLine, countLines, formatAge, formatDuration, pidAlive, sessionState } from './sessions.js';
import type { SessionState } from './sessions.js';

export interface HistoryRow {
  session: Session;
  state: SessionState;
  /** Lines in events.json. */
  totalEvents: number;
}

export interface SelectOptions {
  /** Only running sessions. */
  running?: boolean;
  /** Only the newest N (after --running); undefined: all. */
  last?: number | undefined;
}

/** The rows to show, oldest first: filtered by state, then the newest `last`. */
export async function historyRows(sessions: Session[], options: SelectOptions, alive: (pid: number) => boolean = pidAlive): Promise<HistoryRow[]> {
  let chosen = sessions.map((session) => ({ session, state: sessionState(session, alive) }));
  if (options.running) chosen = chosen.filter((r) => r.state === 'running');
  if (options.last !== undefined) chosen = options.last === 0 ? [] : chosen.slice(-options.last);
  return Promise.all(chosen.map(async (r) => ({ ...r, totalEvents: await countLines(r.session.paths.events) })));
}

/** One NDJSON record: `type: "session"`, the manifest's fields, then dir, state, running, totalEvents. */
export function historyRecord(row: HistoryRow): Record<string, unknown> {
  return {
    type: 'session',
    ...row.session.manifest,
    dir: row.session.dir,
    state: row.state,
    running: row.state === 'running',
    totalEvents: row.totalEvents,
  };
}

const CMDLINE_MAX = 50;
const GREEN = '\u001b[32m';
const RED = '\u001b[31m';
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/** The DURATION cell: the run's length, `running`, or `abnormal` (no end time and the process is gone). */
function durationCell(row: HistoryRow): string {
  if (row.state === 'running') return 'running';
  if (row.state === 'abnormal') return 'abnormal';
  const m = row.session.manifest;
  return formatDuration(Date.parse(m.end as string) - Date.parse(m.start));
}

/** The table for people, one string per line (no newlines). `now` in ms since the epoch. */
export function formatTable(rows: HistoryRow[], now: number, colour: boolean): string[] {
  const header = ['ID', 'COMMAND', 'CMDLINE', 'PID', 'AGE', 'DURATION', 'TOTAL-EVENTS'];
  const cells = rows.map((row) => {
    const m = row.session.manifest;
    let cmdline = commandLine(m.args);
    if (cmdline.length > CMDLINE_MAX) cmdline = cmdline.slice(0, CMDLINE_MAX - 1) + '…';
    return [String(m.id), String(m.cmd ?? ''), cmdline, typeof m.pid === 'number' ? String(m.pid) : '-', formatAge(now - Date.parse(m.start)), durationCell(row), String(row.totalEvents)].map((c) =>
      printable(c),
    ); // a program's name is its own choice of characters: escaped for the terminal
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[], paint: (i: number, text: string) => string) => c.map((text, i) => paint(i, text) + (i === c.length - 1 ? '' : ' '.repeat((widths[i] as number) - text.length))).join('  ');
  const out = [line(header, (_, t) => (colour ? `${BOLD}${t}${RESET}` : t))];
  rows.forEach((row, r) => {
    out.push(
      line(cells[r] as string[], (i, t) => {
        if (!colour || i !== 5 || row.state === 'ended') return t;
        return `${row.state === 'running' ? GREEN : RED}${t}${RESET}`;
      }),
    );
  });
  return out;
}
