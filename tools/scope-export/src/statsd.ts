/**
 * The StatsD sink: metrics as StatsD lines with DogStatsD tags (core's statsdLine), several lines per
 * UDP datagram joined by `\n`, no datagram longer than the maximum (libscope's statsdmaxlen, 512 by
 * default). A line longer than the maximum on its own is dropped and counted: a receiver would cut
 * it. UDP says nothing about delivery: "sent" means handed to the kernel.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { statsdLine } from '@scope/core';
import type { SendResult, Sink } from './destination.js';
import type { Item } from './item.js';

export interface StatsdOptions {
  url: string;
  host: string;
  port: number;
  prefix: string;
  maxLength: number;
}

/** The lines of `items` packed into datagrams of at most `max` bytes; `tooLong` counts lines that fit in none. */
export function packDatagrams(lines: string[], max: number): { datagrams: string[]; tooLong: number } {
  const datagrams: string[] = [];
  let current = '';
  let tooLong = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line);
    if (size > max) {
      tooLong++;
      continue;
    }
    if (current !== '' && Buffer.byteLength(current) + 1 + size > max) {
      datagrams.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') datagrams.push(current);
  return { datagrams, tooLong };
}

export class StatsdSink implements Sink {
  readonly url: string;
  private socket: Socket | null = null;
  private wasTried = false;
  private wasReached = false;

  constructor(private readonly o: StatsdOptions) {
    this.url = o.url;
  }

  accepts(item: Item): boolean {
    return item.kind === 'metric';
  }

  reached(): boolean {
    return this.wasReached;
  }

  tried(): boolean {
    return this.wasTried;
  }

  private open(): Socket {
    if (!this.socket) {
      this.socket = createSocket(isIPv6(this.o.host) ? 'udp6' : 'udp4');
      // An ICMP error for an earlier datagram arrives as a socket error: it is the next send's problem.
      this.socket.on('error', () => {});
      this.socket.unref();
    }
    return this.socket;
  }

  async send(items: Item[]): Promise<SendResult> {
    this.wasTried = true;
    const lines: string[] = [];
    for (const item of items) {
      if (item.kind !== 'metric') continue;
      const m = item.metric;
      lines.push(statsdLine(this.o.prefix + m.name, m.type, m.value, m.dims));
    }
    const { datagrams, tooLong } = packDatagrams(lines, this.o.maxLength);
    const socket = this.open();
    for (let i = 0; i < datagrams.length; i++) {
      try {
        await new Promise<void>((resolve, reject) => socket.send(datagrams[i] as string, this.o.port, this.o.host, (err) => (err ? reject(err) : resolve())));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // Whole datagrams already sent are not sent again.
        const done = datagrams.slice(0, i).reduce((n, d) => n + d.split('\n').length, 0);
        const rest = items.slice(done + countTooLongBefore(lines, done, this.o.maxLength));
        return { sent: done, retry: { items: rest, why: `UDP send to ${this.o.host}:${this.o.port}: ${e.code ?? e.message}` } };
      }
    }
    this.wasReached = true;
    const result: SendResult = { sent: lines.length - tooLong };
    if (tooLong > 0) result.refused = { count: tooLong, why: `a StatsD line is longer than ${this.o.maxLength} bytes (--statsd-max)` };
    return result;
  }

  async close(): Promise<void> {
    this.socket?.close();
    this.socket = null;
  }
}

/** Lines skipped as too long among the first `done` sent ones (so a retry starts at the right item). */
function countTooLongBefore(lines: string[], done: number, max: number): number {
  let seen = 0;
  let skipped = 0;
  for (const line of lines) {
    if (seen >= done) break;
    if (Buffer.byteLength(line) > max) skipped++;
    else seen++;
  }
  return skipped;
}
