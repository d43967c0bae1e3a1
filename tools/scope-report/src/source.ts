/**
 * What `scope report` and `scope profile` read: `SESSION` is a session id, a session directory, or
 * `-` for records on stdin; without it, stdin when it is a pipe or a file, else the last session.
 * The records are counted into a Collected as they stream past (none is kept).
 */
import type { Readable } from 'node:stream';
import type { JsonObject, Session } from '@scope/core';
import { formatBadLine, formatTorn, openInput, readNdjson } from '@scope/core';
import { collect, emptyCollected } from './collect.js';
import type { Collected } from './collect.js';

export interface SourceOptions {
  tool: string;
  strict: boolean;
  stdin: Readable & { fd?: number };
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
}

export interface Source {
  collected: Collected;
  session: Session | null;
  /** Bad lines met (each already reported). */
  bad: number;
}

async function drain(records: AsyncIterable<JsonObject>): Promise<Collected> {
  const c = emptyCollected();
  for await (const r of records) collect(c, r);
  return c;
}

export async function readSource(spec: string | undefined, o: SourceOptions): Promise<Source> {
  if (spec === '-') {
    let bad = 0;
    const { records, stats } = readNdjson(o.stdin, {
      source: 'stdin',
      strict: o.strict,
      skipTorn: true,
      onBadLine: (b) => {
        bad++;
        o.warn(formatBadLine(o.tool, b));
      },
    });
    const collected = await drain(records);
    if (stats.torn > 0) o.warn(formatTorn(o.tool, 'stdin', stats.torn));
    return { collected, session: null, bad };
  }
  const input = await openInput({
    tool: o.tool,
    id: spec !== undefined && /^\d+$/.test(spec) ? spec : undefined,
    session: spec !== undefined && !/^\d+$/.test(spec) ? spec : undefined,
    files: 'both',
    strict: o.strict,
    stdin: o.stdin,
    env: o.env,
    warn: o.warn,
  });
  const collected = await drain(input.records);
  return { collected, session: input.session, bad: input.bad() };
}
