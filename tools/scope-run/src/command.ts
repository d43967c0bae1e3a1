/**
 * `scope-run [options] [--] command [args…]` — arguments and wiring only; the work is in run.ts.
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import { fstatSync } from 'node:fs';
// Not @scope/core's index: loading all of it cost `scope run -- true` tens of milliseconds (run-api.ts).
import type { ScopePairs, ToolRun } from '@scope/core/run-api';
import { EXIT, filterArgs, flagValues, parseFlags, printable, runConfigArgs, runFlagPairs, splitLeadingFlags, usageText, versionLine, wantsVersion } from '@scope/core/run-api';
import { run } from './run.js';
import { argvBytes } from './bytes.js';

export const args = {
  ...runConfigArgs,
  ...filterArgs,
  passthrough: {
    type: 'boolean',
    description: 'Scope without a session: no session directory, libscope takes SCOPE_* from the environment',
  },
  stream: {
    type: 'boolean',
    description: 'Write the records to stdout while the command runs (default when stdout is a pipe or socket); --no-stream leaves stdout to the command',
  },
  'app-stdout': {
    type: 'string',
    valueHint: 'FILE',
    description: "When streaming, write the command's own stdout to FILE instead of stderr",
  },
  command: {
    type: 'positional',
    required: false,
    description: 'The command to run, with its arguments (after -- when they start with -)',
  },
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: {
    name: 'scope-run',
    description: 'Run a command with libscope and record what it does in a new session',
  },
  args,
});

/** True when stdout is a pipe or a socket: records go there and the app's stdout goes to stderr. */
function stdoutIsStream(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/**
 * SCOPE_FILTER (and SCOPE_FILTER_NAMES) from -f / --policy, checked as scope-filter checks them (a
 * bad filter is a usage error before anything runs). scope-filter is loaded only when they are given.
 */
async function filterPairs(flags: string[]): Promise<ScopePairs> {
  if (flagValues(flags, 'filter', 'f').length === 0 && flagValues(flags, 'policy').length === 0) return {};
  const { scopesFromArgs, scopeFilterPairs } = await import('@scope/scope-filter');
  const scopes = scopesFromArgs(flags);
  return scopes ? scopeFilterPairs(scopes) : {};
}

/** Parse argv, run, and resolve to the exit status. */
export async function main(rawArgs: string[]): Promise<number> {
  const { flags, rest } = splitLeadingFlags(rawArgs, args);
  if (flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write((await usageText(command)) + '\n');
    return EXIT.OK;
  }
  if (wantsVersion(flags)) {
    process.stdout.write(versionLine('scope-run'));
    return EXIT.OK;
  }
  const parsed = parseFlags(flags, args);
  const flagPairs = { ...runFlagPairs(parsed), ...(await filterPairs(flags)) };
  return run({
    argv: rest,
    // the arguments after the options are the end of our command line: their bytes are read back
    argvBytes: argvBytes(rest),
    flagPairs,
    userconfig: parsed.userconfig,
    librarypath: parsed.librarypath,
    passthrough: parsed.passthrough === true,
    stream: parsed.stream ?? stdoutIsStream(),
    appStdout: parsed['app-stdout'],
    env: process.env,
    stdout: process.stdout,
    warn: (message) => process.stderr.write(`scope-run: ${printable(message, { newline: true })}\n`),
  });
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: 'scope-run', main, command, keepRunningOnEpipe: true };
