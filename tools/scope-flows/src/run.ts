/**
 * The work of scope-flows: read records, gather flows, then write them (sorted, filtered) as NDJSON
 * or a table, or dump one flow's payload. With --follow each flow is written when it closes, and the
 * flows still open are written when the input ends.
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createNdjsonWriter, formatBadLine, ScopeError } from '@scope/core';
import type { InputRecord, JsonObject } from '@scope/core';
import { FlowTracker, flowId, payloadBases, peerMatches, shapeProblem, sortFlows, toRecord } from './flows.js';
import type { Flow, FlowRecord, SortField } from './flows.js';
import type { Cidr } from './ip.js';
import { followHeader, followRow, renderTable } from './table.js';

export interface FlowsOptions {
  /** Records with the line each came from. */
  records: AsyncIterable<[JsonObject, number]>;
  /** `stdin` or the events file, for messages. */
  source: string;
  strict: boolean;
  warn: (message: string) => void;
  format: 'table' | 'json';
  colour: boolean;
  follow: boolean;
  sort: SortField;
  reverse: boolean;
  /** --peer networks; null: no filter. */
  peers: Cidr[] | null;
  /** The session's payloads/ directory; null when reading stdin. */
  payloadDir: string | null;
  /** --in / --out: dump this flow's payload instead of listing. */
  dump: { id: string; dir: 'in' | 'out' } | null;
  stdout: Writable;
  /** A table line as shown (cut to a terminal's width); the line itself by default. */
  fit?: (line: string) => string;
}

export interface FlowsResult {
  /** Records of the wrong shape (reported, counted). */
  bad: number;
}

/** The path of a flow's .in/.out file in `dir`, or null when libscope wrote none. */
export function payloadPath(dir: string, flow: Flow, which: 'in' | 'out'): string | null {
  for (const base of payloadBases(flow)) {
    const path = join(dir, `${base}.${which}`);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Each record with the line it came from (core's openInput entries). */
export async function* numbered(entries: AsyncIterable<InputRecord>): AsyncGenerator<[JsonObject, number]> {
  for await (const e of entries) yield [e.record, e.line];
}

async function writeFile(path: string, out: Writable): Promise<void> {
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    if (out.destroyed || out.writableEnded) return;
    if (!out.write(chunk))
      await new Promise<void>((resolve) => {
        const done = () => {
          out.off('drain', done).off('close', done).off('error', done);
          resolve();
        };
        out.once('drain', done).once('close', done).once('error', done);
      });
  }
}

/** The start of a bad record for its message; a record nested too deeply to serialise (JSON.parse
 * takes any depth, JSON.stringify recurses) is still a bad line, not a crash. */
function echo(record: unknown): string {
  try {
    return JSON.stringify(record).slice(0, 120);
  } catch {
    return '(nested too deeply to show)';
  }
}

export async function flows(options: FlowsOptions): Promise<FlowsResult> {
  const tracker = new FlowTracker();
  const writer = createNdjsonWriter(options.stdout);
  const fit = options.fit ?? ((line: string) => line);
  const style = { colour: options.colour };
  const payload = options.payloadDir === null ? undefined : (f: Flow, which: 'in' | 'out') => payloadPath(options.payloadDir as string, f, which);
  const wanted = (f: Flow) => options.peers === null || peerMatches(f, options.peers);
  const emit = async (rec: FlowRecord) => {
    if (options.format === 'json') await writer.write(rec);
    else await writer.writeLine(fit(followRow(rec, style)));
  };
  const streaming = options.follow && options.dump === null;
  if (streaming && options.format === 'table') await writer.writeLine(fit(followHeader(style)));

  let bad = 0;
  for await (const [record, line] of options.records) {
    const problem = shapeProblem(record);
    if (problem !== null) {
      bad++;
      options.warn(formatBadLine('scope-flows', { source: options.source, line, reason: problem, text: echo(record) }));
      if (options.strict) break;
      continue;
    }
    const fed = tracker.feed(record);
    if (streaming && fed.kind === 'flow' && fed.closed && wanted(fed.flow)) {
      await emit(toRecord(fed.flow, tracker.lastTime, payload));
    }
  }

  if (options.dump !== null) {
    const { id, dir } = options.dump;
    const flow = tracker.find(id);
    if (!flow) throw new ScopeError(`no flow with id "${id}" in ${options.source} (run scope-flows without --${dir} to list them)`);
    const path = options.payloadDir === null ? null : payloadPath(options.payloadDir, flow, dir);
    if (path === null) throw new ScopeError(`flow ${flowId(flow.seq)} has no captured payload (run with scope run -p)`);
    await writeFile(path, options.stdout);
    return { bad };
  }

  if (streaming) {
    for (const f of tracker.flows()) {
      if (f.close === 'open' && wanted(f)) await emit(toRecord(f, tracker.lastTime, payload));
    }
  } else {
    const chosen = sortFlows(tracker.flows().filter(wanted), options.sort, options.reverse, tracker.lastTime);
    const records = chosen.map((f) => toRecord(f, tracker.lastTime, payload));
    if (options.format === 'json') {
      for (const rec of records) await writer.write(rec);
    } else {
      for (const text of renderTable(records, style)) await writer.writeLine(fit(text));
    }
  }
  await writer.end();
  return { bad };
}
