/**
 * `scope-diff A B` — arguments and wiring only; the work is in diff.ts. A and B are profiles (YAML
 * or JSON files from scope profile) or sessions (an id or a directory), profiled as they are read.
 * Exit status: 0 when every change is allowed (or there is none), 1 when one is not, 2 on bad input.
 */
import { readFile, stat } from 'node:fs/promises';
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import { parse } from 'yaml';
import type { ToolRun } from '@scope/core';
import { EXIT, parseToolArgs, printable, ScopeError, UsageError } from '@scope/core';
import { asProfile, diffProfiles, diffText, parseAllowList } from './diff.js';
import type { AllowList } from './diff.js';
import { buildProfile } from './profile.js';
import type { Profile } from './profile.js';
import { readSource } from './source.js';

export const diffArgs = {
  a: { type: 'positional', required: true, valueHint: 'A', description: 'The baseline: a profile file, a session id or a session directory' },
  b: { type: 'positional', required: true, valueHint: 'B', description: 'The run to check, in the same forms' },
  allow: { type: 'string', valueHint: 'FILE', description: 'Allow-list (YAML): section → glob patterns of changes that do not fail' },
  json: { type: 'boolean', description: 'Write the changes as one JSON record' },
} as const satisfies ArgsDef;

export const diffCommand = defineCommand({
  meta: { name: 'scope-diff', description: 'What appeared and disappeared between two runs (profiles or sessions); exit 1 on a change the allow-list does not accept' },
  args: diffArgs,
});

/** A profile from a file, or one made from a session (an id or a directory). */
async function loadProfile(spec: string, env: NodeJS.ProcessEnv, warn: (m: string) => void): Promise<Profile> {
  let isFile = false;
  if (!/^\d+$/.test(spec)) {
    try {
      isFile = (await stat(spec)).isFile();
    } catch (err) {
      throw new ScopeError(`${spec}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or session directory' : (err as Error).message}`, EXIT.USAGE);
    }
  }
  if (isFile) {
    let doc: unknown;
    try {
      doc = parse(await readFile(spec, 'utf8'));
    } catch (err) {
      throw new ScopeError(`${spec}: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`, EXIT.USAGE);
    }
    return asProfile(doc, spec);
  }
  let src;
  try {
    src = await readSource(spec, { tool: 'scope-diff', strict: false, stdin: process.stdin, env, warn });
  } catch (err) {
    // A session that cannot be read is bad input here, like a profile that cannot.
    if (err instanceof ScopeError) throw new ScopeError(err.message, EXIT.USAGE);
    throw err;
  }
  const c = src.collected.counts;
  if (c.events + c.metrics + c.starts === 0) throw new ScopeError(`${src.session?.dir ?? spec}: no records: nothing to compare`, EXIT.USAGE);
  return buildProfile(src.collected, { home: env['HOME'], tmpdirs: env['TMPDIR'] ? [env['TMPDIR']] : [], session: src.session?.id ?? null });
}

export async function diffMain(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, diffCommand, diffArgs);
  if (!parsed) return EXIT.OK;
  const extra = parsed._.slice(2).filter((w) => w !== '');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (two runs: A and B)`);
  if (parsed.a === '' || parsed.b === '') throw new UsageError('name two runs: A and B');
  const warn = (message: string) => process.stderr.write(printable(message, { newline: true }) + '\n');
  let allow: AllowList = new Map();
  if (parsed.allow !== undefined) {
    let text: string;
    try {
      text = await readFile(parsed.allow, 'utf8');
    } catch (err) {
      throw new ScopeError(`--allow: ${parsed.allow}: ${(err as Error).message}`, EXIT.USAGE);
    }
    allow = parseAllowList(text, parsed.allow);
  }
  const a = await loadProfile(parsed.a, process.env, warn);
  const b = await loadProfile(parsed.b, process.env, warn);
  const result = diffProfiles(a, b, allow, { a: parsed.a, b: parsed.b });
  process.stdout.write(parsed.json === true ? JSON.stringify(result) + '\n' : printable(diffText(result), { newline: true }));
  return result.unexpected > 0 ? EXIT.FAILURE : EXIT.OK;
}

export const diffTool: ToolRun = { name: 'scope-diff', main: diffMain, command: diffCommand };
