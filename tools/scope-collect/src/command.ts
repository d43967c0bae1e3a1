/**
 * `scope-collect --listen URL… --from URL…` — arguments and wiring only; the work is in collector.ts
 * (lines to records), listeners.ts (tcp, udp, unix) and nats.ts (--from).
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { EXIT, flagValues, parseEndpoint, parseToolArgs, UsageError, printable } from '@scope/core';
import { Collector, TOOL } from './collector.js';
import { listen, removeSocket } from './listeners.js';
import type { Listener } from './listeners.js';
import { subscribe } from './nats.js';
import type { NatsSource, Subscription } from './nats.js';

export const DEFAULT_MAX_LINE = 1024 * 1024;

export const args = {
  listen: {
    type: 'string',
    alias: 'l',
    valueHint: 'URL',
    description: 'Listen here: tcp://host:port, udp://host:port, unix:///path or unix://@name (port 0: any free port); repeatable',
  },
  from: { type: 'string', valueHint: 'URL', description: 'Subscribe to <subject>.> on this NATS server: nats://host:port/subject; repeatable' },
  'queue-group': { type: 'string', valueHint: 'NAME', description: 'With --from: share the messages among the collectors of this NATS queue group' },
  'tag-peer': { type: 'boolean', description: 'Add body.collector_peer (the sender, e.g. "tcp://10.0.0.5:51234") to each record with a body' },
  count: { type: 'string', alias: 'n', valueHint: 'N', description: 'Exit after N records' },
  'idle-exit': { type: 'string', valueHint: 'SECONDS', description: 'Exit when nothing arrived for this long' },
  'max-line': { type: 'string', valueHint: 'BYTES', description: `Longer lines are reported and dropped (default ${DEFAULT_MAX_LINE})` },
  strict: { type: 'boolean', description: 'Stop at the first bad line (status 1)' },
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: {
    name: 'scope-collect',
    description: 'Receive scope records from many processes and hosts (tcp, udp, unix listeners; NATS) as one NDJSON stream',
  },
  args,
});

/** A whole number ≥ min given to `flag`, or a UsageError naming both. */
function wholeNumber(flag: string, value: string | undefined, min: number): number | null {
  if (value === undefined) return null;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag}: "${value}" is not a whole number${min > 0 ? ` of at least ${min}` : ''}`);
  }
  return Number(value);
}

/** --from URLs, checked: a NATS server and a subject to put `.>` after. */
export function natsSources(urls: string[]): NatsSource[] {
  return urls.map((url) => {
    const ep = parseEndpoint(url, ['nats'], '--from');
    if (ep.scheme === 'unix') throw new UsageError(`--from: "${url}" is not a NATS URL`);
    if (!/^[^\s*>/.]+(\.[^\s*>/.]+)*$/.test(ep.path)) {
      throw new UsageError(`--from: "${url}" needs a subject without wildcards after host:port (nats://host:port/scope)`);
    }
    return { url, host: ep.host, port: ep.port, subject: ep.path };
  });
}

/** Parse argv, collect until told to stop, and resolve to the exit status. */
export async function main(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, command, args);
  if (!parsed) return EXIT.OK;
  const extra = parsed._.filter((word) => word !== '');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const listens = flagValues(rawArgs, 'listen', 'l').map((url) => parseEndpoint(url, ['tcp', 'udp', 'unix'], '--listen'));
  const froms = natsSources(flagValues(rawArgs, 'from'));
  if (listens.length === 0 && froms.length === 0) {
    throw new UsageError('say where records come from: --listen tcp://host:port (or udp://, unix://) or --from nats://host:port/subject');
  }
  const queueGroup = parsed['queue-group'] ?? null;
  if (queueGroup !== null && froms.length === 0) throw new UsageError('--queue-group is for --from (NATS)');
  if (queueGroup !== null && !/^[^\s*>]+$/.test(queueGroup)) throw new UsageError(`--queue-group: "${queueGroup}" is not a NATS queue group name`);
  const count = wholeNumber('--count', parsed.count, 1);
  const idleExit = wholeNumber('--idle-exit', parsed['idle-exit'], 1);
  const maxLine = wholeNumber('--max-line', parsed['max-line'], 1) ?? DEFAULT_MAX_LINE;

  const warn = (message: string) => process.stderr.write(printable(message, { newline: true }) + '\n');
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const collector = new Collector({
    out: process.stdout,
    warn,
    strict: parsed.strict === true,
    count,
    tagPeer: parsed['tag-peer'] === true,
    maxLine,
    onFinish: () => finish(),
  });
  if (idleExit !== null) {
    const timer = setTimeout(finish, idleExit * 1000);
    collector.onActivity = () => {
      timer.refresh();
    };
    void finished.then(() => clearTimeout(timer));
  }

  const listeners: Listener[] = [];
  const subscriptions: Subscription[] = [];
  // Our socket files go even when the process ends abruptly (EPIPE on stdout exits from runTool).
  const removeSockets = () => {
    for (const l of listeners) if (l.socketPath !== undefined) removeSocket(l.socketPath);
  };
  process.on('exit', removeSockets);
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const ep of listens) {
      const listener = await listen(ep, collector);
      listeners.push(listener);
      warn(`${TOOL}: listening on ${listener.url}`);
    }
    for (const source of froms) subscriptions.push(subscribe(source, collector, { queueGroup, warn }));
    await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    collector.stopped = true;
    await Promise.all([...listeners.map((l) => l.close()), ...subscriptions.map((s) => s.close())]);
    removeSockets();
    process.off('exit', removeSockets);
  }
  await collector.end();
  warn(collector.summary());
  return collector.bad > 0 ? EXIT.FAILURE : EXIT.OK;
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: TOOL, main, command };
