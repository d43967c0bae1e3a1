/**
 * --from nats://host:port/subject: subscribe to `<subject>.>` (scope-export publishes events to
 * `<subject>.<host>.<sourcetype>` and metrics to `<subject>.<host>.metric`, one NDJSON record a
 * message). The client reconnects forever and resubscribes by itself; we only say on stderr when the
 * server goes away and when it is back.
 */
import { connect, Events } from 'nats';
import type { NatsConnection } from 'nats';
import { hostPort } from '@scope/core';
import type { Collector } from './collector.js';
import { LineSplitter } from './lines.js';

export interface Subscription {
  close(): Promise<void>;
}

export interface NatsSource {
  /** As the user wrote it (for messages). */
  url: string;
  host: string;
  port: number;
  subject: string;
}

export interface SubscribeOptions {
  queueGroup: string | null;
  warn: (message: string) => void;
  /** Between reconnect attempts (the client adds jitter). */
  reconnectWaitMs?: number;
}

/**
 * Start receiving from one server. Returns at once: the first connection is also retried forever, so
 * a collector can start before its NATS server does.
 */
export function subscribe(source: NatsSource, collector: Collector, options: SubscribeOptions): Subscription {
  const server = `nats://${hostPort(source.host, source.port)}`;
  const wildcard = `${source.subject}.>`;
  let nc: NatsConnection | null = null;
  let closed = false;
  // Line numbers per subject (one sender's stream of one kind of record).
  const lines = new Map<string, number>();

  options.warn(`scope-collect: connecting to ${server} (retrying until it answers)`);
  void (async () => {
    const conn = await connect({
      servers: hostPort(source.host, source.port),
      name: 'scope-collect',
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 1000,
      waitOnFirstConnect: true,
    });
    if (closed) {
      await conn.close();
      return;
    }
    nc = conn;
    collector.connected();
    void (async () => {
      for await (const status of conn.status()) {
        if (status.type === Events.Disconnect) options.warn(`scope-collect: ${server}: server went away; reconnecting`);
        else if (status.type === Events.Reconnect) {
          // Said once the server has our subscription again (a round trip after the client resent it).
          await conn.flush().catch(() => {});
          options.warn(`scope-collect: ${server}: reconnected; receiving ${wildcard} again`);
        }
      }
    })();
    conn.subscribe(wildcard, {
      ...(options.queueGroup === null ? {} : { queue: options.queueGroup }),
      callback: (err, msg) => {
        if (err !== null) {
          options.warn(`scope-collect: ${server}: ${err.message}`);
          return;
        }
        const where = `${server}/${msg.subject}`;
        const offset = lines.get(where) ?? 0;
        const split = new LineSplitter(collector.maxLine);
        const data = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
        const items = [...split.push(data), ...split.end()];
        lines.set(where, offset + items.reduce((n, item) => Math.max(n, item.line), 0));
        collector.feed(
          where,
          items.map((item) => ({ ...item, line: item.line + offset })),
        );
      },
    });
    // The server has the subscription once a round trip is done: only then say we receive.
    await conn.flush();
    const group = options.queueGroup === null ? '' : ` in queue group ${options.queueGroup}`;
    options.warn(`scope-collect: receiving ${wildcard} from ${server}${group}`);
  })().catch((err: Error) => {
    if (!closed) options.warn(`scope-collect: ${server}: ${err.message}`);
  });

  return {
    close: async () => {
      closed = true;
      // Stopping: what is in flight is not wanted any more (the collector takes no more records).
      const conn = nc as NatsConnection | null;
      if (conn !== null) await conn.close().catch(() => {});
    },
  };
}
