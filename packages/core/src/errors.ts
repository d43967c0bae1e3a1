/**
 * Errors and exit codes shared by every tool: 0 ok, 1 runtime or data error, 2 usage error.
 * A tool throws one of these; the runner prints `scope-<verb>: <message>` and exits with its code.
 */

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

/** A message for any thrown value: ours as written, anything else with its stack for a bug report. */
export function describeError(err: unknown): string {
  if (err instanceof ScopeError) return err.message;
  if (err instanceof Error) return `internal error: ${err.stack ?? err.message}`;
  return `internal error: ${String(err)}`;
}
