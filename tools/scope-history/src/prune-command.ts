/**
 * `scope-prune (--keep N | --delete N | --all) [--force]` — arguments and wiring only; the work is in prune.ts.
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { createNdjsonWriter, EXIT, outputArgs, parseToolArgs, printable, ScopeError, scopeHome, UsageError } from '@scope/core';
import { noPositionals, peopleFormat, processIo } from './io.js';
import type { Io } from './io.js';
import { ask, isYes, planPrune, plural, promptText, prunedRecord, removeSession } from './prune.js';
import type { PruneMode } from './prune.js';
import { commandLine, countOption, loadSessions } from './sessions.js';

export const pruneArgs = {
  keep: { type: 'string', alias: 'k', valueHint: 'N', description: 'Keep the newest N sessions, delete the others' },
  delete: { type: 'string', alias: 'd', valueHint: 'N', description: 'Delete the oldest N sessions' },
  all: { type: 'boolean', alias: 'a', description: 'Delete every session' },
  force: { type: 'boolean', alias: 'f', description: 'Do not ask before deleting (needed when stdin is not a terminal)' },
  ...outputArgs,
} as const satisfies ArgsDef;

export const pruneCommand = defineCommand({
  meta: { name: 'scope-prune', description: 'Delete old sessions (never a running one)' },
  args: pruneArgs,
});

export async function pruneMain(rawArgs: string[], io: Io = processIo()): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, pruneCommand, pruneArgs, io.stdout);
  if (!parsed) return EXIT.OK;
  noPositionals(parsed);
  const people = peopleFormat(parsed, io.stdout);
  const keep = countOption('--keep', parsed.keep);
  const del = countOption('--delete', parsed.delete);
  const given = [keep !== undefined, del !== undefined, parsed.all === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('say what to delete with exactly one of --keep N, --delete N, --all');
  const mode: PruneMode = keep !== undefined ? { keep } : del !== undefined ? { delete: del } : { all: true };
  const force = parsed.force === true;
  if (!force && io.stdin.isTTY !== true) throw new ScopeError('not a terminal: add --force to delete without asking', EXIT.USAGE);

  const say = (message: string) => io.stderr.write(`scope-prune: ${printable(message)}\n`);
  const { sessions, bad } = await loadSessions(scopeHome(io.env), say);
  const plan = planPrune(sessions, mode);
  for (const s of plan.running) say(`session ${s.id} (${s.manifest.cmd}) is running: not deleted`);
  if (plan.remove.length === 0) {
    say('nothing to delete');
    return bad > 0 ? EXIT.FAILURE : EXIT.OK;
  }
  if (!force) {
    for (const s of plan.remove) io.stderr.write(`  ${s.id}  ${printable(`${commandLine(s.manifest.args)}  ${s.manifest.start}`)}\n`);
    const answer = await ask(promptText(plan.remove.length), io.stdin, io.stderr);
    if (!isYes(answer)) {
      say('nothing deleted');
      return EXIT.OK;
    }
  }

  const out = createNdjsonWriter(io.stdout);
  let deleted = 0;
  let failed = 0;
  for (const s of plan.remove) {
    const problem = await removeSession(s);
    if (problem) {
      failed++;
      say(problem);
      continue;
    }
    deleted++;
    if (people) say(`deleted session ${s.id} (${s.manifest.cmd}) ${s.dir}`);
    else await out.write(prunedRecord(s));
  }
  await out.end();
  const skipped = plan.running.length > 0 ? `, ${plan.running.length} running skipped` : '';
  say(`deleted ${plural(deleted, 'session')}${skipped}, ${sessions.length - deleted} left`);
  return failed > 0 || bad > 0 ? EXIT.FAILURE : EXIT.OK;
}

export const pruneTool: ToolRun = { name: 'scope-prune', main: (rawArgs) => pruneMain(rawArgs), command: pruneCommand };
