/** `scope-snapshot` — arguments and wiring only; the work is in snapshot.ts and crashes.ts. */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { createNdjsonWriter, EXIT, existingProcess, outputArgs, parseToolArgs, pidArgument, resolveTarget, UsageError, userName, printable } from '@scope/core';
import { crashText, listCrashes, watch } from './crashes.js';
import { snapshot, snapshotText } from './snapshot.js';

const args = {
  'show-env': { type: 'boolean', description: 'Show the values of environment variables whose names look secret' },
  crashes: { type: 'boolean', description: 'List the crash artifacts on this machine instead' },
  watch: { type: 'boolean', description: 'Wait for the process to end, then report the crash it left (if any)' },
  ...outputArgs,
  target: { type: 'positional', required: false, description: 'The PID or the name of the process' },
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: { name: 'scope-snapshot', description: 'Debug snapshot of a running process: threads and backtraces, descriptors, memory, limits, scope state; --crashes, --watch' },
  args,
});

export const tool: ToolRun = {
  name: 'scope-snapshot',
  command,
  main: async (rawArgs) => {
    const parsed = await parseToolArgs(rawArgs, command, args);
    if (!parsed) return EXIT.OK;
    if (parsed.json && parsed.pretty) throw new UsageError('--json and --pretty cannot be used together');
    const people = parsed.pretty === true || (parsed.json !== true && process.stdout.isTTY === true);
    const words = (parsed._ ?? []).map(String);
    if (words.length > 1) throw new UsageError(`one process at a time (got ${words.join(' ')})`);
    const w = createNdjsonWriter(process.stdout);
    if (parsed.crashes) {
      if (parsed.watch || words.length > 0) throw new UsageError('--crashes takes no PID, name or --watch');
      const list = listCrashes();
      for (const r of list) await (people ? w.writeLine(printable(crashText(r), { newline: true, tab: true })) : w.write(r));
      if (people && list.length === 0) process.stderr.write('scope-snapshot: no crash artifacts\n');
      await w.end();
      return EXIT.OK;
    }
    const arg = words[0];
    if (arg === undefined) throw new UsageError('which process? give its PID or name (scope snapshot PID|NAME), or --crashes');
    if (parsed.watch) {
      const pid = pidArgument(arg);
      if (pid === null) throw new UsageError(`--watch takes a PID (got "${arg}")`);
      const target = existingProcess(pid);
      // Always said (stderr is for messages): a script, or a test, knows from it that the watch began.
      process.stderr.write(`scope-snapshot: waiting for pid ${pid} (${printable(target.comm)}) to end\n`);
      const r = await watch(pid, target.comm);
      await (people ? w.writeLine(printable(crashText(r), { newline: true, tab: true })) : w.write(r));
      await w.end();
      return EXIT.OK;
    }
    const target = await resolveTarget(arg, { tty: null }, 'snapshot');
    const caller = userName(process.getuid?.() ?? -1);
    const rec = await snapshot(target, { showEnv: parsed['show-env'] === true, path: process.env['PATH'] ?? '', caller });
    await (people ? w.writeLine(printable(snapshotText(rec), { newline: true, tab: true })) : w.write(rec));
    await w.end();
    return EXIT.OK;
  },
};
