/**
 * Errors and exit codes shared by every tool: 0 ok, 1 runtime or data error, 2 usage error.
 * A tool throws one of these; the runner prints `scope-<verb>: <message>` and exits with its code.
 * Anything else thrown is a bug: the user sees one line, and the stack goes into a file to report.
 */
import { closeSync, constants, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fdExhaustion, fdExhaustionMessage } from './fdlimit.js';
import { scopeHome } from './home.js';
import { SCOPE_VERSION } from './version.js';

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** A failure to report to the user plainly (no stack trace), with the exit code it deserves. */
export class ScopeError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.FAILURE) {
    super(message);
    this.name = 'ScopeError';
    this.exitCode = exitCode;
  }
}

/** The user asked for something the tool cannot parse: exit 2, and the usage is shown. */
export class UsageError extends ScopeError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

/** A configuration file is wrong; the message starts with `file:line:col:` when the place is known. */
export class ConfigError extends ScopeError {
  readonly file: string;
  readonly line: number | undefined;
  readonly col: number | undefined;
  constructor(file: string, why: string, line?: number, col?: number) {
    super(`${file}${line === undefined ? '' : `:${line}:${col ?? 1}`}: ${why}`, EXIT.USAGE);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.col = col;
  }
}

/** The message of any thrown value, short (no stack): for a warning about one item among many. */
export function describeError(err: unknown): string {
  if (err instanceof ScopeError) return err.message;
  const fd = fdExhaustion(err);
  if (fd !== null) return fdExhaustionMessage(fd);
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * What a tool says when it ends on `err`, after its name: a ScopeError's message; running out of
 * file descriptors said plainly; anything else is a bug: one line with the message and a file
 * holding the details (stack, tool, version, argv, Node version) to report.
 */
export function toolErrorMessage(tool: string, err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (err instanceof ScopeError) return err.message;
  const fd = fdExhaustion(err);
  if (fd !== null) return fdExhaustionMessage(fd);
  const message = firstLine(err instanceof Error ? err.message : String(err));
  const file = writeErrorReport(tool, err, env);
  return file === null ? `internal error: ${message} (no details file could be written; please report it)` : `internal error: ${message} (details in ${file}; please report it with that file)`;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line === '' ? 'unknown error' : line;
}

/** The text of an error report: what a maintainer needs to find the bug. */
function reportText(tool: string, err: unknown): string {
  const details = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : `thrown: ${String(err)}`;
  let cause = '';
  for (let e: unknown = err instanceof Error ? err.cause : undefined, n = 0; e !== undefined && n < 5; n++) {
    cause += `\ncaused by: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    e = e instanceof Error ? e.cause : undefined;
  }
  return [
    `tool: ${tool}`,
    `version: ${SCOPE_VERSION}`,
    `node: ${process.version} ${process.platform} ${process.arch}`,
    `argv: ${JSON.stringify(process.argv)}`,
    `time: ${new Date().toISOString()}`,
    '',
    details + cause,
    '',
  ].join('\n');
}

/** A directory for reports: $SCOPE_HOME/errors when it is ours and only we can write it. */
function reportDir(env: NodeJS.ProcessEnv): string | null {
  try {
    const dir = join(scopeHome(env), 'errors');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

/**
 * Write the report into a new file, created exclusively (O_EXCL|O_NOFOLLOW, 0600) under
 * $SCOPE_HOME/errors, or the system's temporary directory when that cannot be used. Its path, or
 * null when no file could be written.
 */
export function writeErrorReport(tool: string, err: unknown, env: NodeJS.ProcessEnv = process.env): string | null {
  const text = reportText(tool, err);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = `${tool.replace(/[^A-Za-z0-9_-]/g, '_')}-${stamp}-${process.pid}`;
  const home = reportDir(env);
  const dirs = home === null ? [tmpdir()] : [home, tmpdir()];
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const file = join(dir, `${dir === home ? '' : 'scope-error-'}${name}${attempt === 0 ? '' : `-${attempt}`}.txt`);
      let fd: number;
      try {
        fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        break;
      }
      try {
        writeSync(fd, text);
        return file;
      } catch {
        break;
      } finally {
        closeSync(fd);
      }
    }
  }
  return null;
}
