/**
 * `scope-export --to URL … [--prometheus host:port]` — arguments and wiring only; the work is in
 * export.ts, destination.ts and one sink per kind of destination.
 */
import { defineCommand } from 'citty';
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core';
import { createReadStream } from 'node:fs';
import { bytesFlag, EXIT, flagValues, namedInput, parseEndpoint, parseToolArgs, printable, streamLines, UsageError } from '@scope/core';
import { Destination } from './destination.js';
import type { Sink } from './destination.js';
import { runExport } from './export.js';
import { NatsSink } from './nats.js';
import { OtlpSink } from './otlp.js';
import { otlpConfig } from './otlp-config.js';
import { PrometheusEndpoint } from './prometheus-server.js';
import { StatsdSink } from './statsd.js';
import { TcpSink } from './tcp.js';

const TOOL = 'scope-export';

export const args = {
  to: {
    type: 'string',
    valueHint: 'URL',
    description: 'Send records here (repeatable): statsd://host:port, otlp+http://host:port, otlp+https://host, otlp (OTEL_EXPORTER_OTLP_* decide), nats://host:port/subject, tcp://host:port',
  },
  prometheus: { type: 'string', valueHint: 'HOST:PORT', description: 'Serve the metrics so far as Prometheus text on http://HOST:PORT/metrics' },
  'exit-on-eof': { type: 'boolean', description: 'With --prometheus: exit when the input ends instead of serving until Ctrl-C' },
  'pid-label': { type: 'boolean', description: 'With --prometheus: keep pid as a label (default: the processes of one proc and host add up)' },
  batch: { type: 'string', valueHint: 'N', description: 'Records per batch (default 500)' },
  'flush-ms': { type: 'string', valueHint: 'MS', description: 'Send a batch that is not full after this long (default 1000)' },
  queue: { type: 'string', valueHint: 'N', description: 'Records held per destination while it is slow or down; the oldest are dropped beyond (default 10000)' },
  'queue-bytes': { type: 'string', valueHint: 'BYTES', description: 'Bytes of records held per destination (K, M, G suffixes); the oldest are dropped beyond (default 64M)' },
  'drain-timeout': { type: 'string', valueHint: 'SECONDS', description: 'At the end of the input, wait at most this long for delivery (default 10)' },
  'otlp-encoding': { type: 'enum', options: ['protobuf', 'json'], description: 'OTLP/HTTP body: protobuf (default, or OTEL_EXPORTER_OTLP_PROTOCOL) or json' },
  header: { type: 'string', valueHint: 'NAME=VALUE', description: 'An HTTP header on every OTLP request (repeatable; after OTEL_EXPORTER_OTLP_HEADERS): an API key, say' },
  'otlp-compression': { type: 'enum', options: ['gzip', 'none'], description: 'Compress OTLP bodies: gzip or none (default none, or OTEL_EXPORTER_OTLP_COMPRESSION)' },
  ca: { type: 'string', valueHint: 'FILE', description: "Trust this CA certificate (PEM) for an otlp+https destination instead of the system's (or OTEL_EXPORTER_OTLP_CERTIFICATE)" },
  'service-name': { type: 'string', valueHint: 'NAME', description: 'OTLP service.name (default: the process name of each record)' },
  'statsd-prefix': { type: 'string', valueHint: 'PREFIX', description: 'Put this before every StatsD metric name' },
  'statsd-max': { type: 'string', valueHint: 'BYTES', description: 'Longest StatsD datagram (default 512, as libscope)' },
  strict: { type: 'boolean', description: 'Stop at the first bad input line' },
  input: { type: 'positional', required: false, valueHint: 'FILE|-', description: 'Ship the records of this file, or - (stdin, the default)' },
} as const satisfies ArgsDef;

export const command = defineCommand({
  meta: {
    name: TOOL,
    description: 'Ship scope records from a file or stdin to OTLP/HTTP, NATS, StatsD, TCP, or serve them as Prometheus /metrics',
  },
  args,
});

/** A whole number in [min, max] from a flag, or a usage error naming the flag and the value. */
export function intFlag(flag: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: "${value}" is not a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`);
  }
  return n;
}

/** Seconds (a decimal number ≥ 0) from a flag, as ms. */
export function secondsFlag(flag: string, value: string | undefined, fallbackSeconds: number): number {
  if (value === undefined) return fallbackSeconds * 1000;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${flag}: "${value}" is not a number of seconds`);
  return Math.round(n * 1000);
}

/** --prometheus host:port (an IPv6 host in brackets). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/]+):(\d+)$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new UsageError(`--prometheus: "${value}" is not host:port (e.g. 127.0.0.1:9102)`);
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
}

/** A NATS subject given in the URL's path: tokens separated by `.`, no wildcards or spaces. */
function natsSubject(url: string, path: string): string {
  const subject = path === '' ? 'scope' : path;
  if (!/^[^\s.*>]+(\.[^\s.*>]+)*$/.test(subject)) {
    throw new UsageError(`--to: "${url}" has subject "${subject}"; a NATS subject is tokens separated by "." without spaces, "*" or ">"`);
  }
  return subject;
}

/** Parse argv, run, and resolve to the exit status. */
export async function main(rawArgs: string[]): Promise<number> {
  const parsed = await parseToolArgs(rawArgs, command, args);
  if (!parsed) return EXIT.OK;
  const extra = parsed._.filter((word) => word !== '');
  if (extra.length > 1) throw new UsageError(`one input at most (a file of records or -), not "${extra[1]}" too`);
  const named = extra[0] === undefined ? null : namedInput(extra[0]);
  if (named?.kind === 'session') throw new UsageError(`${named.dir} is a directory: give a file of records (a session's events.json or metrics.json) or -`);
  const inputPath = named?.kind === 'file' ? named.path : null;
  const warn = (message: string) => process.stderr.write(printable(message, { newline: true }) + '\n');

  const destinationOptions = {
    batch: intFlag('batch', parsed.batch, 500, 1),
    flushMs: intFlag('flush-ms', parsed['flush-ms'], 1000, 0),
    queue: intFlag('queue', parsed.queue, 10_000, 1),
    queueBytes: bytesFlag('queue-bytes', parsed['queue-bytes'], 64 * 1024 ** 2, 1024),
    warn,
    tool: TOOL,
  };
  const drainMs = secondsFlag('drain-timeout', parsed['drain-timeout'], 10);
  const statsdMax = intFlag('statsd-max', parsed['statsd-max'], 512, 16, 65_507);
  const prometheusAt = typeof parsed.prometheus === 'string' ? parseListen(parsed.prometheus) : null;
  const urls = flagValues(rawArgs, 'to');
  // OpenTelemetry's variables name a destination of their own when nothing else is named
  const otelEndpoint = ['ENDPOINT', 'LOGS_ENDPOINT', 'METRICS_ENDPOINT'].some((k) => (process.env[`OTEL_EXPORTER_OTLP_${k}`] ?? '').trim() !== '');
  if (urls.length === 0 && prometheusAt === null && otelEndpoint) {
    urls.push('otlp');
    warn(`${TOOL}: exporting to OTLP as OTEL_EXPORTER_OTLP_* say (no --to given)`);
  }
  if (urls.length === 0 && prometheusAt === null) {
    throw new UsageError('say where to export: --to URL (statsd://, otlp+http://, otlp+https://, otlp, nats://, tcp://), --prometheus host:port, or OTEL_EXPORTER_OTLP_ENDPOINT');
  }
  const otlpFlags = { headers: flagValues(rawArgs, 'header'), compression: parsed['otlp-compression'], ca: parsed.ca, encoding: parsed['otlp-encoding'] };
  const isOtlp = (url: string) => url === 'otlp' || url.startsWith('otlp+http://') || url.startsWith('otlp+https://');
  if (!urls.some(isOtlp)) {
    for (const [flag, given] of [
      ['--header', otlpFlags.headers.length > 0],
      ['--otlp-compression', otlpFlags.compression !== undefined],
      ['--ca', otlpFlags.ca !== undefined],
    ] as const) {
      if (given) throw new UsageError(`${flag} goes with an OTLP destination (--to otlp+http://…, otlp+https://… or otlp)`);
    }
  }
  const serviceName = parsed['service-name'] ?? ((process.env['OTEL_SERVICE_NAME'] ?? '').trim() || undefined);
  if (parsed['exit-on-eof'] === true && prometheusAt === null) throw new UsageError('--exit-on-eof goes with --prometheus');
  if (parsed['pid-label'] === true && prometheusAt === null) throw new UsageError('--pid-label goes with --prometheus');

  // Every URL is checked before anything connects.
  const sinks: (() => Sink)[] = urls.map((url) => {
    if (isOtlp(url)) {
      const config = otlpConfig({ ...otlpFlags, to: url === 'otlp' ? undefined : url }, process.env);
      return () => new OtlpSink({ config, serviceName });
    }
    const e = parseEndpoint(url, ['statsd', 'otlp+http', 'nats', 'tcp'], '--to');
    if (e.scheme === 'unix') throw new UsageError(`--to: "${e.url}": unix sockets are not an export destination`);
    if (e.scheme === 'statsd') {
      return () => new StatsdSink({ url: e.url, host: e.host, port: e.port, prefix: parsed['statsd-prefix'] ?? '', maxLength: statsdMax });
    }
    if (e.scheme === 'nats') {
      const subject = natsSubject(e.url, e.path);
      return () => new NatsSink({ url: e.url, host: e.host, port: e.port, subject, warn, tool: TOOL });
    }
    if (e.scheme === 'tcp') return () => new TcpSink({ url: e.url, host: e.host, port: e.port, warn, tool: TOOL });
    throw new UsageError(`--to: "${e.url}": scope-export does not send to ${e.scheme}://`);
  });

  const prometheus = prometheusAt === null ? null : new PrometheusEndpoint(warn, { pidLabel: parsed['pid-label'] === true });
  let served: string | null = null;
  if (prometheus !== null && prometheusAt !== null) {
    served = await prometheus.listen(prometheusAt.host, prometheusAt.port);
    warn(`${TOOL}: serving Prometheus metrics on ${served}`);
  }
  const destinations = sinks.map((make) => new Destination(make(), destinationOptions));

  // The first SIGINT/SIGTERM ends the input (and the serving after it), the second the delivery.
  const stop = new AbortController();
  const kill = new AbortController();
  const onSignal = () => (stop.signal.aborted ? kill.abort() : stop.abort());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runExport({
      tool: TOOL,
      lines: inputPath === null ? streamLines(process.stdin, 'stdin') : streamLines(createReadStream(inputPath), inputPath),
      where: inputPath ?? 'stdin',
      destinations,
      prometheus,
      strict: parsed.strict === true,
      warn,
      drainMs,
      stop: stop.signal,
      kill: kill.signal,
    });
    for (const d of destinations) warn(`${TOOL}: ${d.summary()}`);
    if (prometheus !== null && served !== null) {
      if (!stop.signal.aborted && parsed['exit-on-eof'] !== true) {
        warn(`${TOOL}: input ended; still serving ${prometheus.metrics} metric records on ${served} (Ctrl-C stops)`);
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
      await prometheus.close();
      warn(`${TOOL}: ${served}: ${prometheus.metrics} metric records, ${prometheus.scrapes} scrape${prometheus.scrapes === 1 ? '' : 's'}`);
    }
    const delivered = destinations.every((d) => d.ok());
    return result.bad > 0 || !delivered ? EXIT.FAILURE : EXIT.OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** For the `scope` umbrella. */
export const tool: ToolRun = { name: TOOL, main, command };
