/**
 * One destination's queue and delivery loop, the same for every kind: a bounded queue that drops its
 * oldest records when full, batches of up to N records sent when full or after a flush interval,
 * and retries with exponential backoff and jitter (or the server's Retry-After) until the batch is
 * delivered, refused for good, or the drain deadline passes. A Sink knows only how to send a batch.
 */
import type { Item } from './item.js';

export interface SendResult {
  /** Records delivered by this attempt. */
  sent: number;
  /** Records the destination refused for good (an HTTP 4xx): counted, never retried. */
  refused?: { count: number; why: string };
  /** Records to send again after a pause (all of them, or the part that failed). */
  retry?: { items: Item[]; why: string; afterMs?: number };
}

export interface Sink {
  /** The URL as given, for messages and the summary. */
  readonly url: string;
  /** Whether the destination takes this kind of record (the others are counted as skipped). */
  accepts(item: Item): boolean;
  send(items: Item[], signal: AbortSignal): Promise<SendResult>;
  /** After the last batch: flush what the client buffers. */
  close(signal: AbortSignal): Promise<void>;
  /** The destination answered at least once (a connection, a response). */
  reached(): boolean;
  /** It was tried (a send, or a connection begun at start). */
  tried(): boolean;
}

export interface DestinationOptions {
  /** Most records held while the destination is slow or down. */
  queue: number;
  /** Most bytes (of the records' lines) held while the destination is slow or down. */
  queueBytes: number;
  /** Records per batch. */
  batch: number;
  /** Longest wait for a batch to fill, ms. */
  flushMs: number;
  warn: (message: string) => void;
  /** The tool's name, for messages. */
  tool: string;
}

export interface DestinationStats {
  sent: number;
  dropped: number;
  failedBatches: number;
  retries: number;
  skipped: number;
}

export const BACKOFF_START_MS = 250;
export const BACKOFF_CAP_MS = 30_000;

/** Exponential backoff with jitter: the nth retry waits between half and all of min(cap, start·2ⁿ). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_START_MS * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}

/** What a queued record counts against --queue-bytes. */
function itemBytes(item: Item): number {
  return item.line.length;
}

export class Destination {
  readonly stats: DestinationStats = { sent: 0, dropped: 0, failedBatches: 0, retries: 0, skipped: 0 };
  // A queue as an array and a head index; taken and dropped slots are cleared at once (so a record
  // dropped is freed, not kept alive by the array) and the array is compacted when half of it is
  // dead slots, so neither a dead destination nor a fast producer makes it grow past the bounds.
  private items: (Item | undefined)[] = [];
  private head = 0;
  /** Bytes held: the sum of the queued records' line lengths (UTF-16 units, close to UTF-8 bytes for JSON). */
  private bytes = 0;
  private ended = false;
  private wake: (() => void) | null = null;
  private warnedFull = false;
  private warnedRefused = false;

  constructor(
    readonly sink: Sink,
    private readonly o: DestinationOptions,
  ) {}

  private get size(): number {
    return this.items.length - this.head;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Queue a record (or count it as skipped when the destination does not take its kind). */
  offer(item: Item): void {
    if (!this.sink.accepts(item)) {
      this.stats.skipped++;
      return;
    }
    const cost = itemBytes(item);
    if (cost > this.o.queueBytes) {
      // Alone larger than the whole queue: it could only be held by dropping everything else.
      this.drop(`a record of ${cost} bytes is larger than the queue (${this.o.queueBytes} bytes); it is dropped`);
      return;
    }
    // Drop the oldest until the new one fits: a live feed's newest records say most about now.
    while (this.size > 0 && (this.size >= this.o.queue || this.bytes + cost > this.o.queueBytes)) {
      const full = this.size >= this.o.queue ? `${this.o.queue} records` : `${this.o.queueBytes} bytes`;
      this.shift();
      this.drop(`queue full (${full}); dropping the oldest`);
    }
    this.items.push(item);
    this.bytes += cost;
    // Wake the loop for a first record (it starts the flush clock) and for a full batch.
    if (this.size === 1 || this.size >= this.o.batch) this.notify();
  }

  /** Count one dropped record, and say so once. */
  private drop(why: string): void {
    this.stats.dropped++;
    if (!this.warnedFull) {
      this.warnedFull = true;
      this.o.warn(`${this.o.tool}: ${this.sink.url}: ${why} (counted in the summary)`);
    }
  }

  /** Remove the oldest record, freeing its slot. */
  private shift(): Item {
    const item = this.items[this.head] as Item;
    this.items[this.head] = undefined;
    this.head++;
    this.bytes -= itemBytes(item);
    this.compact();
    return item;
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** No more input: send what is queued, then stop. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  private take(): Item[] {
    const n = Math.min(this.o.batch, this.size);
    const batch: Item[] = [];
    for (let i = 0; i < n; i++) batch.push(this.shift());
    return batch;
  }

  /** Wait until notified, `ms` passed (null: no limit), or the signal aborts. */
  private wait(ms: number | null, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      if (ms !== null) timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      this.wake = done;
    });
  }

  /**
   * Deliver until the input has ended and the queue is empty, or `signal` aborts (the drain deadline,
   * or a second Ctrl-C): what is still queued then is counted as dropped.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.size === 0) {
        if (this.ended) break;
        await this.wait(null, signal);
        continue;
      }
      if (this.size < this.o.batch && !this.ended) {
        await this.wait(this.o.flushMs, signal);
        if (signal.aborted) break;
      }
      await this.deliver(this.take(), signal);
    }
    this.stats.dropped += this.size;
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }

  private async deliver(batch: Item[], signal: AbortSignal): Promise<void> {
    let pending = batch;
    let failing: string | null = null;
    for (let attempt = 0; ; attempt++) {
      let result: SendResult;
      try {
        result = await this.sink.send(pending, signal);
      } catch (err) {
        result = { sent: 0, retry: { items: pending, why: (err as Error).message } };
      }
      this.stats.sent += result.sent;
      if (result.refused) {
        this.stats.dropped += result.refused.count;
        this.stats.failedBatches++;
        if (!this.warnedRefused) {
          this.warnedRefused = true;
          this.o.warn(`${this.o.tool}: ${this.sink.url}: ${result.refused.why}; the batch is dropped (further ones are counted in the summary)`);
        }
      }
      if (!result.retry) {
        if (failing !== null) this.o.warn(`${this.o.tool}: ${this.sink.url}: delivering again`);
        return;
      }
      pending = result.retry.items;
      if (failing !== result.retry.why) {
        failing = result.retry.why;
        this.o.warn(`${this.o.tool}: ${this.sink.url}: ${failing}; retrying`);
      }
      this.stats.retries++;
      const pause = result.retry.afterMs ?? backoffMs(attempt);
      if (!(await sleep(pause, signal))) {
        this.stats.dropped += pending.length;
        this.stats.failedBatches++;
        return;
      }
    }
  }

  /** `otlp+http://…: 120 sent, 0 dropped, 0 failed batches` and what else is worth saying. */
  summary(): string {
    const s = this.stats;
    let text = `${this.sink.url}: ${s.sent} sent, ${s.dropped} dropped, ${s.failedBatches} failed batch${s.failedBatches === 1 ? '' : 'es'}`;
    if (s.retries > 0) text += `, ${s.retries} retr${s.retries === 1 ? 'y' : 'ies'}`;
    if (s.skipped > 0) text += `, ${s.skipped} skipped (not exported to ${this.sink.url.split(':')[0]})`;
    if (this.neverUp()) text += ', never reached';
    return text;
  }

  neverUp(): boolean {
    return this.sink.tried() && !this.sink.reached();
  }

  /** Everything offered was delivered (skipped kinds aside). */
  ok(): boolean {
    return this.stats.dropped === 0 && this.stats.failedBatches === 0 && !this.neverUp();
  }
}
