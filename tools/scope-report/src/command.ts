/**
 * `scope-report [SESSION|-]` — arguments and wiring only; the work is in collect.ts, report.ts,
 * text.ts and html.ts.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { EXIT, parseToolArgs, printable, ScopeError, terminal, UsageError } from '@scope/core';
import { reportHtml } from './html.js';
import { buildReport, manifestFields } from './report.js';
import { oneSession, readSource, readStatus, sessionArg } from './source.js';
import { reportText } from './text.js';

export const args = {
  session: sessionArg,
  json: { type: 'boolean', description: 'Write the report as one JSON record (every row, not only the top ones)' },
  html: { type: 'string', valueHint: 'FILE', description: 'Write a self-contained HTML report to FILE (- for stdout)' },
  top: { type: 'string', valueHint: 'N', description: 'Rows per list in the text report (default 10)' },
  strict: { type: 'boolean', description: 'Stop at the first bad input line' },
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: { name: 'scope-report', description: 'What a run did, at a glance: functions, processes, files, connections, HTTP, DNS and failures' },
  args,
});

/**
 * Write text to a file the user named: created 0644, or replaced when it is a regular file of the
 * user's own; never through a symbolic link, never into another user's file (one left in /tmp for
 * root's cron job to fill would give its owner the report).
 */
export function writeOutput(path: string, text: string, stdout: NodeJS.WritableStream): void {
  if (path === '-') {
    stdout.write(text);
    return;
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ScopeError(`cannot write ${path}: ${e.code === 'ELOOP' ? 'it is a symbolic link' : e.message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ScopeError(`cannot write ${path}: not a regular file`);
    const uid = process.geteuid?.() ?? st.uid;
    if (st.uid !== uid) throw new ScopeError(`cannot write ${path}: it belongs to another user (uid ${st.uid}); remove it or name another file`);
    ftruncateSync(fd, 0);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export function topOption(value: string | undefined): number {
  if (value === undefined) return 10;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--top: "${value}" is not a positive number`);
  return Number(value);
}

export async function main(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, command, args);
  if (!parsed) return EXIT.OK;
  oneSession(parsed);
  if (parsed.json === true && parsed.html !== undefined) throw new UsageError('use one of --json and --html');
  if (parsed.html === '') throw new UsageError('--html: name a file (or - for stdout)');
  const top = topOption(parsed.top);
  const warn = (message: string) => process.stderr.write(printable(message, { newline: true }) + '\n');
  const src = await readSource(parsed.session, { tool: 'scope-report', strict: parsed.strict === true, stdin: process.stdin, env: process.env, warn });
  const report = buildReport(src.collected, src.session ? manifestFields(src.session.manifest) : null, src.session?.dir ?? null);
  if (parsed.json === true) process.stdout.write(JSON.stringify(report) + '\n');
  else if (parsed.html !== undefined) {
    writeOutput(parsed.html, reportHtml(report, src.collected), process.stdout);
    if (parsed.html !== '-') process.stderr.write(`scope-report: wrote ${printable(parsed.html)}\n`);
  } else process.stdout.write(terminal(process.stdout).fit(reportText(report, top)));
  return readStatus('scope-report', src, process.stderr);
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: 'scope-report', main, command };
