/**
 * scope-metrics reads raw lines (core's openLines), not parsed records: a session's metrics.json may
 * hold StatsD lines (SCOPE_METRIC_FORMAT=statsd), which a JSON reader would call bad. Each line
 * keeps where it came from and its number, for messages.
 */
import type { LineInput } from '@scope/core';

/** One input line, without its newline. */
export interface Line {
  /** `stdin` or the file's path, for messages. */
  where: string;
  /** 1-based. */
  line: number;
  text: string;
}

/** The lines of an input, numbered (a following input skips blank lines, which libscope never writes). */
export async function* numbered(input: LineInput): AsyncGenerator<Line> {
  let n = 0;
  for await (const batch of input.batches) for (const text of batch) yield { where: input.where, line: ++n, text: text.endsWith('\r') ? text.slice(0, -1) : text };
}
