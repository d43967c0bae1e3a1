/**
 * `scope-profile [SESSION|-]` — arguments and wiring only; the work is in profile.ts and deps.ts.
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { argText, EXIT, parseToolArgs, printable, UsageError } from '@scope/core';
import { writeOutput } from './command.js';
import { buildDeps, depsMake } from './deps.js';
import { buildProfile, formatProfile } from './profile.js';
import { manifestFields } from './report.js';
import { oneSession, readSource, readStatus, sessionArg } from './source.js';

export const profileArgs = {
  session: sessionArg,
  json: { type: 'boolean', description: 'Write JSON instead of YAML' },
  reads: { type: 'boolean', description: 'Add the directories of the files the run read (files.read)' },
  deps: { type: 'boolean', description: "Write each process's inputs and outputs instead (JSON; --make for Make's .d lines)" },
  make: { type: 'boolean', description: "With --deps: Make-style lines, 'outputs: inputs' per command" },
  output: { type: 'string', alias: 'o', valueHint: 'FILE', description: 'Write to FILE instead of stdout' },
  strict: { type: 'boolean', description: 'Stop at the first bad input line' },
} as const satisfies ArgsDef;

export const profileCommand = defineCommand({
  meta: { name: 'scope-profile', description: 'A run profile to compare runs by (scope diff): executables, files written and deleted, names, peers, HTTP hosts' },
  args: profileArgs,
});

export async function profileMain(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, profileCommand, profileArgs);
  if (!parsed) return EXIT.OK;
  oneSession(parsed);
  if (parsed.make === true && parsed.deps !== true) throw new UsageError('--make goes with --deps');
  if (parsed.make === true && parsed.json === true) throw new UsageError('use one of --make and --json');
  if (parsed.deps === true && parsed.reads === true) throw new UsageError('--reads is for the profile; --deps lists every input already');
  if (parsed.output === '') throw new UsageError('--output: name a file');
  const warn = (message: string) => process.stderr.write(printable(message, { newline: true }) + '\n');
  const src = await readSource(parsed.session, { tool: 'scope-profile', strict: parsed.strict === true, stdin: process.stdin, env: process.env, warn });
  let text: string;
  if (parsed.deps === true) {
    const deps = buildDeps(src.collected);
    text = parsed.make === true ? depsMake(deps) : JSON.stringify(deps) + '\n';
  } else {
    const m = src.session ? manifestFields(src.session.manifest) : null;
    const profile = await buildProfile(src.collected, {
      home: process.env['HOME'],
      tmpdirs: process.env['TMPDIR'] ? [process.env['TMPDIR']] : [],
      reads: parsed.reads === true,
      session: m?.id ?? null,
      command: m ? m.args.map((a) => argText(a)).join(' ') : '',
    });
    text = formatProfile(profile, parsed.json === true ? 'json' : 'yaml');
  }
  writeOutput(parsed.output ?? '-', text, process.stdout);
  return readStatus('scope-profile', src, process.stderr);
}

export const profileTool: ToolRun = { name: 'scope-profile', main: profileMain, command: profileCommand };
