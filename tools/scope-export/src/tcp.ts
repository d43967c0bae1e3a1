/**
 * The TCP sink: the NDJSON lines as they came (a StatsD input line as the metric record made from
 * it), over one connection, made again with backoff when it fails or the peer closes it. A batch is
 * sent again whole on a new connection when its write failed; lines written into a connection the
 * peer had already closed, before we learn of it, cannot be known lost (TCP has no acks for us).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { hostPort } from '@scope/core';
import type { SendResult, Sink } from './destination.js';
import type { Item } from './item.js';

export interface TcpOptions {
  url: string;
  host: string;
  port: number;
  warn: (message: string) => void;
  tool: string;
}

export class TcpSink implements Sink {
  readonly url: string;
  private socket: Socket | null = null;
  private wasTried = false;
  private wasReached = false;

  constructor(private readonly o: TcpOptions) {
    this.url = o.url;
  }

  accepts(): boolean {
    return true;
  }

  reached(): boolean {
    return this.wasReached;
  }

  tried(): boolean {
    return this.wasTried;
  }

  private connect(signal: AbortSignal): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.wasTried = true;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.o.host, port: this.o.port, signal });
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        this.wasReached = true;
        this.socket = socket;
        socket.setNoDelay(true);
        // The peer never writes to us; its end of the stream means it closed: stop using it now.
        socket.on('data', () => {});
        socket.once('end', () => this.lost(socket, 'the peer closed the connection'));
        socket.on('error', (err: NodeJS.ErrnoException) => this.lost(socket, err.code ?? err.message));
        resolve(socket);
      });
    });
  }

  private lost(socket: Socket, why: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    socket.destroy();
    this.o.warn(`${this.o.tool}: ${this.url}: ${why}; reconnecting`);
  }

  async send(items: Item[], signal: AbortSignal): Promise<SendResult> {
    let socket: Socket;
    try {
      socket = await this.connect(signal);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { sent: 0, retry: { items, why: `connect to ${hostPort(this.o.host, this.o.port)}: ${e.code ?? e.message}` } };
    }
    const text = items.map((i) => i.line).join('\n') + '\n';
    try {
      await new Promise<void>((resolve, reject) => socket.write(text, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.lost(socket, e.code ?? e.message);
      return { sent: 0, retry: { items, why: `write: ${e.code ?? e.message}` } };
    }
    if (this.socket !== socket) return { sent: 0, retry: { items, why: 'connection lost during the write' } };
    return { sent: items.length };
  }

  async close(signal: AbortSignal): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        socket.destroy();
        resolve();
      };
      signal.addEventListener('abort', done);
      socket.end(done);
    });
  }
}
