/**
 * The export itself: read lines, hand each record to every destination's queue (and to the
 * Prometheus endpoint), report bad lines as `scope-export: stdin:<n>: <why>`, and when the input
 * ends (or a signal stops it) give the destinations a bounded time to deliver what they hold.
 */
import { formatBadLine } from '@scope/core';
import type { Destination } from './destination.js';
import { readItem } from './item.js';
import type { PrometheusEndpoint } from './prometheus-server.js';

export interface ExportOptions {
  tool: string;
  /** Batches of raw lines (core's streamLines). */
  lines: AsyncIterable<string[]>;
  where: string;
  destinations: Destination[];
  prometheus: PrometheusEndpoint | null;
  strict: boolean;
  warn: (message: string) => void;
  /** Longest wait for the destinations after the input ends, ms. */
  drainMs: number;
  /** Stop reading input (first SIGINT/SIGTERM); the drain still happens. */
  stop: AbortSignal;
  /** Give up delivering at once (a second signal). */
  kill: AbortSignal;
}

export interface ExportResult {
  bad: number;
  lines: number;
  /** The input was cut short by `stop`. */
  stopped: boolean;
}

/** The next value of an iterator, or null when `signal` aborts first. */
function nextOrStop<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export async function runExport(o: ExportOptions): Promise<ExportResult> {
  const deadline = new AbortController();
  const onKill = () => deadline.abort();
  o.kill.addEventListener('abort', onKill, { once: true });
  const running = o.destinations.map((d) => d.run(deadline.signal));
  const result: ExportResult = { bad: 0, lines: 0, stopped: false };
  const it = o.lines[Symbol.asyncIterator]();
  try {
    reading: for (;;) {
      const next = await nextOrStop(it, o.stop);
      if (next === null) {
        result.stopped = true;
        break;
      }
      if (next.done) break;
      for (const text of next.value) {
        result.lines++;
        const item = readItem(text);
        if (item === null) continue;
        if (typeof item === 'string') {
          result.bad++;
          o.warn(formatBadLine(o.tool, { source: o.where, line: result.lines, reason: item, text: text.slice(0, 120) }));
          if (o.strict) break reading;
          continue;
        }
        if (item.kind === 'metric') o.prometheus?.add(item.metric);
        for (const d of o.destinations) d.offer(item);
      }
    }
  } finally {
    for (const d of o.destinations) d.end();
    const timer = setTimeout(() => deadline.abort(), o.drainMs);
    await Promise.all(running);
    await Promise.all(o.destinations.map((d) => d.sink.close(deadline.signal)));
    clearTimeout(timer);
    o.kill.removeEventListener('abort', onKill);
  }
  return result;
}
