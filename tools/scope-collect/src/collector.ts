/**
 * The one place every received line goes through, whatever brought it: a JSON object is written to
 * stdout as received, a StatsD line becomes a metric record, anything else is a bad line (reported
 * with its sender and line number, counted). Each record is one write, so records from many senders
 * interleave only at line boundaries.
 */
import { isUtf8 } from 'node:buffer';
import type { Writable } from 'node:stream';
import { createNdjsonWriter, formatBadLine, metricRecord, parseLine, parseRecord } from '@scope/core';
import type { NdjsonWriter } from '@scope/core';
import type { LineItem } from './lines.js';
import { tagPeer } from './tag.js';

export const TOOL = 'scope-collect';

export interface CollectorOptions {
  out: Writable;
  /** One message a call, for stderr. */
  warn: (message: string) => void;
  /** Stop at the first bad line. */
  strict: boolean;
  /** Stop after this many records; null: never. */
  count: number | null;
  /** Add body.collector_peer to records that have a body. */
  tagPeer: boolean;
  maxLine: number;
  /** Called once when the collector wants to end (the count reached, or a bad line under --strict). */
  onFinish: () => void;
  /** Epoch seconds now: the _time of a metric record made from a StatsD line. */
  now?: () => number;
}

export class Collector {
  records = 0;
  bad = 0;
  /** TCP and unix connections, distinct UDP senders, NATS server connections. */
  connections = 0;
  /** No more records are taken (finished, or stopping). */
  stopped = false;
  /** Called on every line received (for --idle-exit). */
  onActivity: () => void = () => {};
  /** The longest line taken, in bytes. */
  readonly maxLine: number;
  private readonly writer: NdjsonWriter;

  constructor(private readonly options: CollectorOptions) {
    this.writer = createNdjsonWriter(options.out);
    this.maxLine = options.maxLine;
  }

  /** A new connection or sender. */
  connected(): void {
    this.connections++;
  }

  /**
   * The lines `source` (a peer URL, named in messages and by --tag-peer) completed. Resolves when
   * stdout can take more; a stream source pauses until then so a slow reader slows the senders.
   */
  feed(source: string, items: LineItem[]): Promise<void> | null {
    let wait: Promise<void> | null = null;
    for (const item of items) {
      if (this.stopped) return null;
      this.onActivity();
      if (item.kind === 'overflow') {
        this.report(source, item.line, `line longer than ${this.options.maxLine} bytes (dropped)`, '');
        continue;
      }
      const text = this.recordText(source, item.line, item.bytes);
      if (text === null) continue;
      const written = this.writer.writeLine(text);
      if (this.options.out.writableNeedDrain) wait = written;
      this.records++;
      if (this.options.count !== null && this.records >= this.options.count) this.finish();
    }
    return wait;
  }

  /** Flush what stdout still holds. */
  async end(): Promise<void> {
    this.stopped = true;
    await this.writer.end();
  }

  summary(): string {
    const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
    return `${TOOL}: ${plural(this.records, 'record', 'records')} from ${plural(this.connections, 'connection', 'connections')}, ` + `${plural(this.bad, 'bad line', 'bad lines')}`;
  }

  /** The text to write for one line, or null (blank, or bad and reported). */
  private recordText(source: string, line: number, bytes: Buffer): string | null {
    if (!isUtf8(bytes)) {
      this.report(source, line, 'not valid UTF-8', bytes.toString('latin1'));
      return null;
    }
    const text = bytes.toString('utf8').trim();
    if (text === '') return null;
    if (text.startsWith('{')) {
      const record = parseRecord(text);
      if (typeof record === 'string') {
        this.report(source, line, record, text);
        return null;
      }
      return this.options.tagPeer ? (tagPeer(text, source) ?? text) : text;
    }
    const parsed = parseLine(text);
    if (parsed.kind !== 'metric') {
      this.report(source, line, parsed.kind === 'bad' ? parsed.why : 'not a JSON object or a StatsD line', text);
      return null;
    }
    const now = this.options.now ?? (() => Math.round(Date.now()) / 1000);
    const record = metricRecord(parsed.metric, now());
    return this.options.tagPeer ? (tagPeer(record, source) ?? record) : record;
  }

  private report(source: string, line: number, reason: string, text: string): void {
    this.bad++;
    this.options.warn(formatBadLine(TOOL, { source, line, reason, text: text.slice(0, 120) }));
    if (this.options.strict) this.finish();
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.onFinish();
  }
}
