/**
 * `scope-metrics [options]` — arguments and wiring only; the work is in metrics.ts (views and
 * formats) and input.ts (where the lines come from).
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { colorArgs, createNdjsonWriter, EXIT, inputArgs, inputPositional, openLines, terminal, outputArgs, parseToolArgs, UsageError, printable } from '@scope/core';
import { numbered } from './input.js';
import { FORMATS, runMetrics } from './metrics.js';
import type { Format, View } from './metrics.js';

const NAME = 'scope-metrics';

export const args = {
  ...inputArgs,
  input: inputPositional,
  metric: { type: 'string', alias: 'm', valueHint: 'NAME[,NAME…]', description: 'Only these metrics; a trailing * matches a prefix (net.*)' },
  cols: { type: 'boolean', alias: 'c', description: 'One row per timestamp, one column per metric name (tag sets summed)' },
  uniq: { type: 'boolean', alias: 'u', description: 'One row per metric name and tag set: its last value' },
  aggregate: { type: 'boolean', alias: 'A', description: 'Aggregate the whole input: counters summed, gauges last, timers and histograms count/min/avg/max' },
  graph: { type: 'boolean', alias: 'g', description: 'Chart one metric (-m NAME) over time, tag sets summed' },
  format: { type: 'string', valueHint: 'table|json|statsd|prometheus', description: 'Output format (default: table on a terminal, json into a pipe)' },
  'pid-label': { type: 'boolean', description: 'With --format prometheus: keep pid as a label (default: the processes of one proc and host add up)' },
  json: outputArgs.json,
  pretty: outputArgs.pretty,
  ...colorArgs,
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: { name: NAME, description: 'Read, aggregate, tabulate and graph the metrics of a session or of stdin; StatsD and Prometheus text out' },
  args,
});

/** The chart width: the terminal's columns, else $COLUMNS, else 80. */
function chartWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env['COLUMNS']);
  return Number.isInteger(env) && env >= 20 ? env : 80;
}

/** Parse argv, run, and resolve to the exit status. */
export async function main(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, command, args);
  if (!parsed) return EXIT.OK;
  const positionals = (parsed._ ?? []).map(String);
  if (positionals.length > 1) throw new UsageError(`one input at most (a file, a session directory or -), not "${positionals[1]}" too`);

  let names: string[] | undefined;
  if (parsed.metric !== undefined) {
    names = String(parsed.metric)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (names.length === 0) throw new UsageError('--metric: give at least one metric name');
  }

  const views = (['cols', 'uniq', 'aggregate', 'graph'] as const).filter((v) => parsed[v] === true);
  if (views.length > 1) throw new UsageError(`--${views[0]} and --${views[1]} cannot be used together`);
  const view: View = views[0] ?? 'raw';
  if (view === 'graph' && (names?.length !== 1 || (names[0] as string).endsWith('*'))) {
    throw new UsageError('--graph charts exactly one metric: give its name with -m NAME (no * pattern)');
  }

  if (parsed.json && parsed.pretty) throw new UsageError('--json and --pretty cannot be used together');
  let format: Format;
  if (parsed.format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(parsed.format)) {
      throw new UsageError(`--format: "${parsed.format}" is not one of ${FORMATS.join(', ')}`);
    }
    format = parsed.format as Format;
    if (parsed.json && format !== 'json') throw new UsageError(`--json and --format ${format} cannot be used together`);
    if (parsed.pretty && format !== 'table') throw new UsageError(`--pretty and --format ${format} cannot be used together`);
  } else if (parsed.json) format = 'json';
  else if (parsed.pretty) format = 'table';
  else if (view === 'graph') format = 'table';
  else format = process.stdout.isTTY ? 'table' : 'json';

  if ((view === 'cols' || view === 'graph') && (format === 'statsd' || format === 'prometheus')) {
    throw new UsageError(`--${view} cannot be written as ${format} (use table or json)`);
  }
  if (parsed['pid-label'] === true && format !== 'prometheus') throw new UsageError('--pid-label goes with --format prometheus');
  if (view === 'uniq' && format === 'prometheus') {
    throw new UsageError('--uniq cannot be used with --format prometheus (prometheus output is always aggregated)');
  }

  const follow = parsed.follow === true;
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  const input = await openLines({
    file: 'metrics',
    id: parsed.id,
    session: parsed.session,
    input: positionals[0],
    follow,
    stdin: process.stdin,
    env: process.env,
    signal: controller.signal,
  });
  // Following a session: Ctrl-C ends the reading; what was appended is read, the output written, and we exit 0.
  const handleSigint = follow && input.session !== null;
  if (handleSigint) process.on('SIGINT', onSigint);
  const writer = createNdjsonWriter(process.stdout);
  const term = terminal(process.stdout, process.env, parsed.color);
  try {
    const result = await runMetrics(numbered(input), {
      tool: NAME,
      names,
      view,
      format,
      color: format === 'table' && term.color,
      width: chartWidth(),
      stream: follow,
      strict: parsed.strict === true,
      pidLabel: parsed['pid-label'] === true,
      warn: (message) => process.stderr.write(printable(message, { newline: true }) + '\n'),
      // table rows cut to a terminal's width (the chart is drawn to it already)
      write: (line) => writer.writeLine(format === 'table' && view !== 'graph' ? term.fit(line) : line),
    });
    await writer.end();
    if (view === 'graph' && result.metrics === 0) return EXIT.FAILURE;
    return result.bad > 0 ? EXIT.FAILURE : EXIT.OK;
  } finally {
    if (handleSigint) process.off('SIGINT', onSigint);
  }
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: NAME, main, command };
