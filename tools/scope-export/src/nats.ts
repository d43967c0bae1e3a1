/**
 * The NATS sink: each record's NDJSON line published on `<subject>.<host>.<kind>` (kind: the event's
 * sourcetype, `metric`, `start` for a process-start record). When a JetStream stream covers a subject
 * (asked once per subject with the JetStream manager), records on it are published with acks and a
 * failed ack means a retry; otherwise with a core publish, flushed at the end.
 */
import { connect } from 'nats';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { hostPort } from '@scope/core';
import type { SendResult, Sink } from './destination.js';
import { hostOf } from './item.js';
import type { Item } from './item.js';

export interface NatsOptions {
  url: string;
  host: string;
  port: number;
  subject: string;
  warn: (message: string) => void;
  tool: string;
}

/** A value as one subject token: no `.`, whitespace, `*` or `>`; never empty. */
export function subjectToken(value: string): string {
  const t = value.replace(/[.\s*>]/g, '_');
  return t === '' ? 'unknown' : t;
}

/** The subject a record is published on. */
export function subjectOf(base: string, item: Item): string {
  let kind: string;
  if (item.kind === 'event') kind = typeof item.body['sourcetype'] === 'string' ? item.body['sourcetype'] : 'event';
  else if (item.kind === 'metric') kind = 'metric';
  else if (item.kind === 'start') kind = 'start';
  else kind = typeof item.record['type'] === 'string' ? item.record['type'] : 'record';
  return `${base}.${subjectToken(hostOf(item))}.${subjectToken(kind)}`;
}

/** Resolves with the promise's value, or with null once `signal` aborts. */
function orAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

const encoder = new TextEncoder();

export class NatsSink implements Sink {
  readonly url: string;
  private readonly connection: Promise<NatsConnection>;
  private nc: NatsConnection | null = null;
  private jsm: JetStreamManager | null = null;
  private js: JetStreamClient | null = null;
  /** Per subject: is it in a JetStream stream? */
  private readonly streamed = new Map<string, Promise<boolean>>();

  constructor(private readonly o: NatsOptions) {
    this.url = o.url;
    // Connect at once (and keep trying): the summary can then say a server that never came up.
    this.connection = connect({
      servers: hostPort(o.host, o.port),
      name: 'scope-export',
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    }).then(async (nc) => {
      this.nc = nc;
      try {
        this.jsm = await nc.jetstreamManager();
        this.js = nc.jetstream();
      } catch {
        // No JetStream on this server or account: core publish only.
      }
      return nc;
    });
    this.connection.catch(() => {});
  }

  accepts(): boolean {
    return true;
  }

  reached(): boolean {
    return this.nc !== null;
  }

  tried(): boolean {
    return true;
  }

  private inStream(subject: string): Promise<boolean> {
    let known = this.streamed.get(subject);
    if (!known) {
      const jsm = this.jsm;
      known =
        jsm === null
          ? Promise.resolve(false)
          : jsm.streams.find(subject).then(
              () => true,
              () => false,
            );
      this.streamed.set(subject, known);
      void known.then((yes) => {
        if (yes) this.o.warn(`${this.o.tool}: ${this.url}: ${subject} is in a JetStream stream: publishing with acks`);
      });
    }
    return known;
  }

  async send(items: Item[], signal: AbortSignal): Promise<SendResult> {
    let nc: NatsConnection | null;
    try {
      nc = await orAbort(this.connection, signal);
    } catch (err) {
      return { sent: 0, retry: { items, why: `connect: ${(err as Error).message}` } };
    }
    if (nc === null) return { sent: 0, retry: { items, why: 'not connected' } };
    const acked: Promise<unknown>[] = [];
    const ackedItems: Item[] = [];
    let sent = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as Item;
      const subject = subjectOf(this.o.subject, item);
      const data = encoder.encode(item.line);
      if (this.js !== null && (await this.inStream(subject))) {
        acked.push(this.js.publish(subject, data));
        ackedItems.push(item);
        continue;
      }
      try {
        nc.publish(subject, data);
        sent++;
      } catch (err) {
        const rest = items.slice(i).filter((x) => !ackedItems.includes(x));
        return { sent, retry: { items: rest, why: `publish: ${(err as Error).message}` } };
      }
    }
    const settled = await Promise.allSettled(acked);
    const failed: Item[] = [];
    let why = '';
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') sent++;
      else {
        failed.push(ackedItems[i] as Item);
        why = `JetStream publish: ${(s.reason as Error).message}`;
      }
    });
    return failed.length === 0 ? { sent } : { sent, retry: { items: failed, why } };
  }

  async close(signal: AbortSignal): Promise<void> {
    const nc = this.nc;
    if (nc === null) {
      // Never connected: stop trying.
      void this.connection.then((c) => c.close());
      return;
    }
    try {
      await orAbort(nc.flush(), signal);
    } catch {
      // Closing anyway; what was not flushed is what core NATS does not promise.
    }
    await nc.close();
  }
}
