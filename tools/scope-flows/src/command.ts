/**
 * `scope-flows [options]` — arguments and wiring only; the work is in run.ts and flows.ts.
 */
import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { colorArgs, EXIT, inputArgs, inputPositional, openInput, outputArgs, parseToolArgs, UsageError, printable, terminal } from '@scope/core';
import { SORT_FIELDS } from './flows.js';
import type { SortField } from './flows.js';
import { parseCidr } from './ip.js';
import type { Cidr } from './ip.js';
import { flows, numbered } from './run.js';

export const args = {
  ...inputArgs,
  ...outputArgs,
  ...colorArgs,
  peer: {
    type: 'string',
    valueHint: 'CIDR',
    description: 'Only flows whose peer is in this network (10.0.0.0/8, 2001:db8::/32, or an address); several separated by commas',
  },
  sort: {
    type: 'string',
    alias: 's',
    valueHint: 'FIELD',
    description: `Sort by ${SORT_FIELDS.join(', ')} (default id: the order flows were first seen)`,
  },
  reverse: { type: 'boolean', alias: 'r', description: 'Reverse the sort order' },
  in: { type: 'string', valueHint: 'ID', description: "Write flow ID's received bytes (its payloads/…in file) to stdout" },
  out: { type: 'string', valueHint: 'ID', description: "Write flow ID's sent bytes (its payloads/…out file) to stdout" },
  input: inputPositional,
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: {
    name: 'scope-flows',
    description: 'Network flows (one per connection) from net.open/net.app/net.close events, and their payloads',
  },
  args,
});

/** --peer: one or more networks separated by commas; a bad one is a usage error naming it. */
export function parsePeers(value: string): Cidr[] {
  const nets: Cidr[] = [];
  for (const part of value.split(',')) {
    const text = part.trim();
    const cidr = parseCidr(text);
    if (!cidr) throw new UsageError(`--peer: "${text}" is not an IPv4 or IPv6 address or CIDR network`);
    nets.push(cidr);
  }
  return nets;
}

/** Parse argv, run, and resolve to the exit status. */
export async function main(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, command, args);
  if (!parsed) return EXIT.OK;
  const extra = parsed._.filter((word) => word !== '');
  if (extra.length > 1) throw new UsageError(`one input at most (a file, a session directory or -), not "${extra[1]}" too`);
  if (parsed.json === true && parsed.pretty === true) throw new UsageError('use one of --json and --pretty');
  const sort = parsed.sort ?? 'id';
  if (!(SORT_FIELDS as readonly string[]).includes(sort)) {
    throw new UsageError(`--sort: "${sort}" is not a field (one of ${SORT_FIELDS.join(', ')})`);
  }
  const peers = typeof parsed.peer === 'string' ? parsePeers(parsed.peer) : null;
  if (typeof parsed.in === 'string' && typeof parsed.out === 'string') throw new UsageError('use one of --in and --out');
  const dumpId = parsed.in ?? parsed.out;
  const dump = typeof dumpId === 'string' ? { id: dumpId, dir: typeof parsed.in === 'string' ? ('in' as const) : ('out' as const) } : null;
  if (dump !== null && !/^[0-9a-z]+$/i.test(dump.id)) throw new UsageError(`--${dump.dir}: "${dump.id}" is not a flow id`);
  const follow = parsed.follow === true;
  if (follow && dump !== null) throw new UsageError(`--${dump.dir} cannot be used with --follow`);
  if (follow && parsed.sort !== undefined) throw new UsageError('--sort cannot be used with --follow (flows are written as they close)');

  const stop = new AbortController();
  const onSigint = () => stop.abort();
  if (follow) process.once('SIGINT', onSigint);
  const warn = (message: string) => process.stderr.write(printable(message, { newline: true }) + '\n');
  try {
    const input = await openInput({
      tool: 'scope-flows',
      id: parsed.id,
      session: parsed.session,
      input: extra[0],
      follow,
      strict: parsed.strict === true,
      files: 'events',
      stdin: process.stdin,
      env: process.env,
      warn,
      signal: stop.signal,
    });
    if (dump !== null && input.session === null) {
      throw new UsageError(`--${dump.dir} reads payload files from a session: name it with --id N, --session DIR or a session directory (${input.source} has none)`);
    }
    const term = terminal(process.stdout, process.env, parsed.color);
    const pretty = parsed.pretty === true || (parsed.json !== true && process.stdout.isTTY === true);
    const result = await flows({
      records: numbered(input.entries),
      source: input.session ? input.session.paths.events : input.source,
      strict: parsed.strict === true,
      warn,
      format: pretty ? 'table' : 'json',
      colour: pretty && term.color,
      fit: term.fit,
      follow,
      sort: sort as SortField,
      reverse: parsed.reverse === true,
      peers,
      payloadDir: input.session ? resolve(input.session.paths.payloads) : null,
      dump,
      stdout: process.stdout,
    });
    return input.bad() + result.bad > 0 ? EXIT.FAILURE : EXIT.OK;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: 'scope-flows', main, command };
