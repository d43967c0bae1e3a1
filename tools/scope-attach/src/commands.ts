/**
 * `scope-attach`, `scope-detach`, `scope-ps`, `scope-inspect`, `scope-update` — arguments and wiring
 * only; the work is in attach.ts, verbs.ts and target.ts.
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import {
  createNdjsonWriter,
  EXIT,
  filterArgs,
  flagValues,
  outputArgs,
  parseScopeYaml,
  parseToolArgs,
  printable,
  runConfigArgs,
  runFlagPairs,
  stdinHasData,
  UsageError,
  loadScopeYaml,
  resolveTarget,
  terminal,
} from '@scope/core';
import type { ProcessInfo, ScopePairs } from '@scope/core';
import { attach } from './attach.js';
import type { StatusRecord } from './attach.js';
import type { Prompting } from '@scope/core';
import { detach, inspect, inspectText, ps, psTable, readConfigText, scopedProcesses, update } from './verbs.js';

const forPeople = (parsed: { json?: boolean; pretty?: boolean }) => {
  if (parsed.json && parsed.pretty) throw new UsageError('--json and --pretty cannot be used together');
  return parsed.pretty === true || (parsed.json !== true && process.stdout.isTTY === true);
};

function prompting(): Prompting {
  return { tty: process.stdin.isTTY && process.stderr.isTTY ? { input: process.stdin, output: process.stderr } : null };
}

function oneTarget(parsed: { _?: unknown[] }, verb: string): string {
  const words = (parsed._ ?? []).map(String);
  if (words.length === 0) throw new UsageError(`which process? give its PID or name (scope ${verb} PID|NAME)`);
  if (words.length > 1) throw new UsageError(`one process at a time (got ${words.join(' ')})`);
  return words[0] as string;
}

async function writeRecords(records: object[], people: boolean, text: (r: any) => string): Promise<void> {
  const w = createNdjsonWriter(process.stdout);
  // The text quotes the process's command line and what its library answered: escaped for the terminal.
  for (const r of records) await (people ? w.writeLine(printable(text(r), { newline: true })) : w.write(r));
  await w.end();
}

const statusText = (r: StatusRecord) =>
  r.ok
    ? `${r.verb === 'reattach' ? 'reattached to' : r.verb === 'attach' ? 'attached to' : r.verb === 'detach' ? 'detached from' : 'updated'} pid ${r.pid} (${r.command})${r.session ? `: session ${r.session}` : ''}`
    : `${r.verb} pid ${r.pid} (${r.command}) failed: ${r.error}`;

/** Settings from -u/--config, the run flags and -f/--policy. */
async function settingPairs(rawArgs: string[], parsed: Parameters<typeof runFlagPairs>[0]): Promise<ScopePairs> {
  const out: ScopePairs = { ...runFlagPairs(parsed) };
  if (flagValues(rawArgs, 'filter', 'f').length > 0 || flagValues(rawArgs, 'policy').length > 0) {
    const { scopesFromArgs, scopeFilterPairs } = await import('@scope/scope-filter');
    const scopes = scopesFromArgs(rawArgs);
    if (scopes) Object.assign(out, scopeFilterPairs(scopes));
  }
  return out;
}

// ---- attach ---------------------------------------------------------------------------------------

const attachArgs = {
  ...runConfigArgs,
  ...filterArgs,
  ...outputArgs,
  target: { type: 'positional', required: false, description: 'The PID or the name of the process' },
} as const satisfies ArgsDef;

export const attachCommand = defineCommand({
  meta: { name: 'scope-attach', description: 'Load libscope into a running process and scope it, in a new session' },
  args: attachArgs,
});

export const attachTool: ToolRun = {
  name: 'scope-attach',
  command: attachCommand,
  main: async (rawArgs) => {
    const parsed = await parseToolArgs(rawArgs, attachCommand, attachArgs);
    if (!parsed) return EXIT.OK;
    const people = forPeople(parsed);
    const arg = oneTarget(parsed, 'attach');
    const flagPairs = await settingPairs(rawArgs, parsed);
    const yaml = parsed.userconfig === undefined ? undefined : { pairs: (await loadScopeYaml(parsed.userconfig)).pairs, file: parsed.userconfig };
    const target = await resolveTarget(arg, prompting(), 'attach to');
    const rec = await attach({ target, flagPairs, yaml, librarypath: parsed.librarypath, env: process.env });
    await writeRecords([rec], people, statusText);
    return EXIT.OK;
  },
};

// ---- detach ---------------------------------------------------------------------------------------

const detachArgs = {
  all: { type: 'boolean', alias: 'a', description: 'Detach from every scoped process this user may control' },
  ...outputArgs,
  target: { type: 'positional', required: false, description: 'The PID or the name of the process' },
} as const satisfies ArgsDef;

export const detachCommand = defineCommand({
  meta: { name: 'scope-detach', description: 'Stop scoping a process (libscope stays loaded; attach again reattaches it)' },
  args: detachArgs,
});

export const detachTool: ToolRun = {
  name: 'scope-detach',
  command: detachCommand,
  main: async (rawArgs) => {
    const parsed = await parseToolArgs(rawArgs, detachCommand, detachArgs);
    if (!parsed) return EXIT.OK;
    const people = forPeople(parsed);
    let targets: ProcessInfo[];
    if (parsed.all) {
      if ((parsed._ ?? []).length > 0) throw new UsageError('--all takes no PID or name');
      targets = await scopedProcesses();
    } else {
      const arg = oneTarget(parsed, 'detach');
      // A name picks among the scoped processes only.
      const scoped = new Set((await scopedProcesses()).map((p) => p.pid));
      targets = [await resolveTarget(arg, prompting(), 'detach from', { keep: (p) => scoped.has(p.pid), described: 'that is scoped' })];
    }
    const records: StatusRecord[] = [];
    for (const t of targets) records.push(await detach(t));
    await writeRecords(records, people, statusText);
    if (parsed.all && people && records.length === 0) process.stderr.write('scope-detach: no scoped process\n');
    return records.every((r) => r.ok) ? EXIT.OK : EXIT.FAILURE;
  },
};

// ---- ps -------------------------------------------------------------------------------------------

const psArgs = { ...outputArgs } as const satisfies ArgsDef;

export const psCommand = defineCommand({
  meta: { name: 'scope-ps', description: 'List the processes libscope is loaded into, and whether each is scoped now' },
  args: psArgs,
});

export const psTool: ToolRun = {
  name: 'scope-ps',
  command: psCommand,
  main: async (rawArgs) => {
    const parsed = await parseToolArgs(rawArgs, psCommand, psArgs);
    if (!parsed) return EXIT.OK;
    if ((parsed._ ?? []).length > 0) throw new UsageError(`scope ps takes no argument (got ${String(parsed._?.[0])})`);
    const people = forPeople(parsed);
    const rows = await ps();
    const w = createNdjsonWriter(process.stdout);
    if (people) await w.writeLine(terminal(process.stdout).fit(psTable(rows)));
    else for (const r of rows) await w.write(r);
    await w.end();
    return EXIT.OK;
  },
};

// ---- inspect --------------------------------------------------------------------------------------

const inspectArgs = {
  all: { type: 'boolean', alias: 'a', description: 'Every scoped process (the default without a PID)' },
  ...outputArgs,
  target: { type: 'positional', required: false, description: 'The PID or the name of the process' },
} as const satisfies ArgsDef;

export const inspectCommand = defineCommand({
  meta: { name: 'scope-inspect', description: "A scoped process's config in force, destinations (state, attempts, last failure) and counters" },
  args: inspectArgs,
});

export const inspectTool: ToolRun = {
  name: 'scope-inspect',
  command: inspectCommand,
  main: async (rawArgs) => {
    const parsed = await parseToolArgs(rawArgs, inspectCommand, inspectArgs);
    if (!parsed) return EXIT.OK;
    const people = forPeople(parsed);
    const words = (parsed._ ?? []).map(String);
    if (parsed.all && words.length > 0) throw new UsageError('--all takes no PID or name');
    const targets = words.length === 0 ? await scopedProcesses() : [await resolveTarget(oneTarget(parsed, 'inspect'), prompting(), 'inspect')];
    const records = [];
    for (const t of targets) records.push(await inspect(t));
    await writeRecords(records, people, inspectText);
    if (words.length === 0 && records.length === 0 && people) process.stderr.write('scope-inspect: no scoped process\n');
    return records.every((r) => r.ok) ? EXIT.OK : EXIT.FAILURE;
  },
};

// ---- update ---------------------------------------------------------------------------------------

const updateArgs = {
  config: { type: 'string', alias: 'c', valueHint: 'scope.yml|-', description: 'The new settings (a scope.yml); - or a pipe on stdin: read them there' },
  ...runConfigArgs,
  ...filterArgs,
  ...outputArgs,
  target: { type: 'positional', required: false, description: 'The PID or the name of the process' },
} as const satisfies ArgsDef;

export const updateCommand = defineCommand({
  meta: { name: 'scope-update', description: 'Replace settings of a scoped process live, without a restart' },
  args: updateArgs,
});

export const updateTool: ToolRun = {
  name: 'scope-update',
  command: updateCommand,
  main: async (rawArgs) => {
    const parsed = await parseToolArgs(rawArgs, updateCommand, updateArgs);
    if (!parsed) return EXIT.OK;
    const people = forPeople(parsed);
    const arg = oneTarget(parsed, 'update');
    if (parsed.userconfig !== undefined && parsed.config !== undefined) throw new UsageError('-u and --config are the same thing: give one');
    if (parsed.librarypath !== undefined) throw new UsageError('--librarypath means nothing to a process that already has libscope loaded');
    const pairs: ScopePairs = {};
    const file = parsed.config ?? parsed.userconfig;
    if (file !== undefined || stdinHasData(0)) {
      const { text, name } = await readConfigText(file, process.stdin);
      Object.assign(pairs, parseScopeYaml(text, name));
    }
    Object.assign(pairs, await settingPairs(rawArgs, parsed));
    if (Object.keys(pairs).length === 0) throw new UsageError('no new settings: give --config FILE (or a scope.yml on stdin) or run flags such as -e URL');
    const target = await resolveTarget(arg, prompting(), 'update');
    const rec = await update(target, pairs);
    await writeRecords([rec], people, statusText);
    return rec.ok ? EXIT.OK : EXIT.FAILURE;
  },
};
