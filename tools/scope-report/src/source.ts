/**
 * What `scope report` and `scope profile` read: `SESSION` is a session id, a session directory, a
 * file of records, or `-` for records on stdin; without it, stdin when it is a pipe or a file, else the last session.
 * The records are counted into a Collected as they stream past (none is kept).
 */
import type { Readable } from 'node:stream';
import type { JsonObject, Session } from '@scope/core';
import { EXIT, openInput, printable, UsageError } from '@scope/core';
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
  const input = await openInput({
    tool: o.tool,
    id: spec !== undefined && /^\d+$/.test(spec) ? spec : undefined,
    input: spec !== undefined && !/^\d+$/.test(spec) ? spec : undefined,
    files: 'both',
    strict: o.strict,
    stdin: o.stdin,
    env: o.env,
    warn: o.warn,
  });
  const collected = await drain(input.records);
  return { collected, session: input.session, bad: input.bad() };
}

/** The SESSION argument report and profile share. */
export const sessionArg = {
  type: 'positional',
  required: false,
  valueHint: 'SESSION|FILE|-',
  description: 'A session id, a session directory, a file of records, or - for stdin (default: stdin when it is a pipe, else the last session)',
} as const;

/** Words after the one SESSION are a usage error. */
export function oneSession(parsed: { _: string[]; session?: string | undefined }): void {
  const extra = parsed._.slice(parsed.session === undefined ? 0 : 1).filter((w) => w !== '');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (one session at a time)`);
}

/**
 * The status a reading ends with: 1 when there was no record at all (a run that recorded nothing is
 * never reported as fine; said on stderr) or a bad line, else 0.
 */
export function readStatus(tool: string, src: Source, stderr: NodeJS.WritableStream): number {
  const c = src.collected.counts;
  if (c.events + c.metrics + c.starts === 0) {
    stderr.write(`${tool}: ${printable(src.session?.dir ?? 'stdin')}: no records: the run recorded nothing\n`);
    return EXIT.FAILURE;
  }
  return src.bad > 0 ? EXIT.FAILURE : EXIT.OK;
}
