/**
 * Running a tool: the only place that touches process.exit. Help and version, usage errors (status 2
 * with the usage), ScopeErrors (their status, message only), running out of file descriptors
 * (status 1, what to raise), bugs (status 1, one line naming a file with the stack), and a closed
 * downstream pipe (EPIPE: quiet, status 0).
 */
import { renderUsage } from 'citty';
import type { ArgsDef, CommandDef, ParsedArgs } from 'citty';
import { checkFlags, parseFlags } from './args.js';
import { EXIT, ScopeError, toolErrorMessage, UsageError } from './errors.js';
import { openFileLimit } from './fdlimit.js';
import { flushed } from './ndjson.js';
import { printable } from './printable.js';
import { useColor } from './terminal.js';
import { SCOPE_VERSION } from './version.js';

/** End quietly with 0 when the reader of our stdout goes away (`scope-run … | head -1`). */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout, exit: () => boolean = () => true): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (exit()) process.exit(EXIT.OK);
  });
}

/** The usage text of a command, without colour codes where colour is off (terminal.ts's rules). */
export async function usageText<T extends ArgsDef>(cmd: CommandDef<T>): Promise<string> {
  const text = await renderUsage(cmd);
  return useColor(process.stderr) ? text : text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** `--version` among a tool's own flags (before any `--`): every bin answers it the same way. */
export function wantsVersion(flags: string[]): boolean {
  const end = flags.indexOf('--');
  return (end < 0 ? flags : flags.slice(0, end)).includes('--version');
}

/** The line `--version` prints: the tool's name and scope's version. */
export function versionLine(tool: string): string {
  return `${tool} ${SCOPE_VERSION}\n`;
}

/**
 * The start of a tool's main: `--help`/`-h` prints the usage on stdout and gives null (nothing more
 * to do), and so does `--version` with the version; otherwise the flags, strictly checked (an
 * unknown one is a UsageError naming it).
 */
export async function parseToolArgs<T extends ArgsDef>(rawArgs: string[], cmd: CommandDef<T>, def: T, out: NodeJS.WritableStream = process.stdout): Promise<ParsedArgs<T> | null> {
  if (rawArgs.includes('--help') || rawArgs.includes('-h')) {
    out.write((await usageText(cmd)) + '\n');
    return null;
  }
  if (wantsVersion(rawArgs)) {
    const meta = cmd.meta;
    const name = meta && typeof meta === 'object' && 'name' in meta && typeof meta.name === 'string' ? meta.name : 'scope';
    out.write(versionLine(name));
    return null;
  }
  checkFlags(rawArgs, def);
  return parseFlags(rawArgs, def);
}

export interface ToolRun {
  /** The tool's name for messages: `scope-run`. */
  name: string;
  /** Parses argv and does the work; resolves to the exit status. */
  main: (rawArgs: string[]) => Promise<number>;
  /** For `--help` and usage errors. */
  command: CommandDef<any>;
  /** Usage text, when the tool writes its own instead of citty's. */
  usage?: () => string;
  /**
   * When the reader of stdout goes away, keep going instead of exiting 0: the tool handles it
   * (scope-run completes its session, and ends its command with SIGPIPE and itself with 141).
   */
  keepRunningOnEpipe?: boolean;
}

/** Run a tool to completion and exit with its status. */
export async function runTool(tool: ToolRun, rawArgs: string[] = process.argv.slice(2)): Promise<never> {
  exitQuietlyOnEpipe(process.stdout, () => tool.keepRunningOnEpipe !== true);
  // An error thrown outside main's promise (an event handler's) ends the tool the same way.
  const fatal = (err: unknown) => {
    process.stderr.write(`${tool.name}: ${printable(toolErrorMessage(tool.name, err), { newline: true })}\n`);
    process.exit(err instanceof ScopeError ? err.exitCode : EXIT.FAILURE);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  openFileLimit(); // read now (launch has, when a bin started us): a message about running out names it
  let status: number;
  try {
    status = await tool.main(rawArgs);
  } catch (err) {
    // A message quotes what the user or a program gave (a name, a path): escaped for the terminal.
    process.stderr.write(`${tool.name}: ${printable(toolErrorMessage(tool.name, err), { newline: true })}\n`);
    if (err instanceof UsageError) {
      process.stderr.write('\n' + (tool.usage ? tool.usage() : await usageText(tool.command)) + '\n');
    }
    status = err instanceof ScopeError ? err.exitCode : EXIT.FAILURE;
  }
  // Let buffered output reach the pipe before leaving (not by 'drain', which a last write that fit
  // in the buffer never brings: ndjson.ts, flushed).
  await flushed(process.stdout);
  process.exit(status);
}
