/**
 * The listening ends: TCP and unix stream sockets (many connections, each split into lines of its
 * own) and UDP (each datagram one or more lines). Each resolves once bound, naming where it really
 * listens (port 0 becomes the port the kernel picked); a bind that fails is a ScopeError naming the URL.
 */
import { createSocket } from 'node:dgram';
import { lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, isIPv6 } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { hostPort, ScopeError } from '@scope/core';
import type { Endpoint } from '@scope/core';
import type { Collector } from './collector.js';
import { LineSplitter } from './lines.js';

export interface Listener {
  /** Where it listens, as a URL (the real port). */
  url: string;
  /** Stop listening and drop the connections (what they sent in whole lines is already out). */
  close(): Promise<void>;
  /** For a unix path: the socket file, to remove at exit. */
  socketPath?: string;
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'address in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
};

/** A bind failure in words: `tcp://127.0.0.1:9109: address in use`. */
function bindError(url: string, err: NodeJS.ErrnoException): ScopeError {
  return new ScopeError(`${url}: ${WHY[err.code ?? ''] ?? err.message}`);
}

export function listen(ep: Endpoint, collector: Collector): Promise<Listener> {
  switch (ep.scheme) {
    case 'tcp':
      return listenStream(ep.url, { host: ep.host, port: ep.port }, collector);
    case 'udp':
      return listenUdp(ep.url, ep.host, ep.port, collector);
    case 'unix':
      return listenUnix(ep.url, ep.path, ep.abstract, collector);
    default:
      return Promise.reject(new ScopeError(`${ep.url}: cannot listen on ${ep.scheme}`));
  }
}

/** Lines from one stream connection; reading pauses while stdout is full. */
function serve(sock: Socket, peer: string, collector: Collector, sockets: Set<Socket>): void {
  sockets.add(sock);
  collector.connected();
  const split = new LineSplitter(collector.maxLine);
  sock.on('data', (chunk: Buffer) => {
    const wait = collector.feed(peer, split.push(chunk));
    if (wait !== null) {
      sock.pause();
      void wait.then(() => sock.resume());
    }
  });
  sock.on('end', () => {
    collector.feed(peer, split.end());
    sock.end();
  });
  // A peer that resets: what it sent in whole lines is already out; its partial last line is lost.
  sock.on('error', () => {});
  sock.on('close', () => sockets.delete(sock));
}

type Where = { host: string; port: number } | { path: string; shown: string };

function listenStream(url: string, where: Where, collector: Collector): Promise<Listener> {
  const sockets = new Set<Socket>();
  let seq = 0;
  const server = createServer((sock) => {
    seq++;
    // A unix peer has no address of its own: name it by the listener and a connection number.
    const peer = 'path' in where ? `${where.shown}#${seq}` : `tcp://${hostPort(sock.remoteAddress ?? '?', sock.remotePort ?? 0)}`;
    serve(sock, peer, collector, sockets);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(bindError(url, err)));
    server.listen('path' in where ? { path: where.path } : where, () => {
      const address = server.address();
      const real = 'path' in where ? where.shown : `tcp://${hostPort((address as AddressInfo).address, (address as AddressInfo).port)}`;
      resolve({
        url: real,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const sock of sockets) sock.destroy();
          }),
      });
    });
  });
}

function listenUdp(url: string, host: string, port: number, collector: Collector): Promise<Listener> {
  const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  // Line numbers go on from one datagram to the next of the same sender.
  const lines = new Map<string, number>();
  sock.on('message', (msg, rinfo) => {
    const peer = `udp://${hostPort(rinfo.address, rinfo.port)}`;
    const before = lines.get(peer);
    if (before === undefined) collector.connected();
    const split = new LineSplitter(collector.maxLine);
    const items = [...split.push(msg), ...split.end()];
    const offset = before ?? 0;
    lines.set(peer, offset + items.reduce((n, item) => Math.max(n, item.line), 0));
    collector.feed(
      peer,
      items.map((item) => ({ ...item, line: item.line + offset })),
    );
  });
  return new Promise((resolve, reject) => {
    sock.once('error', (err: NodeJS.ErrnoException) => reject(bindError(url, err)));
    sock.bind({ address: host, port }, () => {
      const address = sock.address();
      resolve({
        url: `udp://${hostPort(address.address, address.port)}`,
        close: () => new Promise<void>((done) => sock.close(() => done())),
      });
    });
  });
}

/** Whether something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function listenUnix(url: string, path: string, abstract: boolean, collector: Collector): Promise<Listener> {
  if (abstract) {
    // Linux abstract namespace: no file, gone with the socket.
    return listenStream(url, { path: `\0${path}`, shown: `unix://@${path}` }, collector);
  }
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(path);
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    if (!existing.isSocket()) throw new ScopeError(`${url}: ${path} exists and is not a socket`);
    if (await answers(path)) throw new ScopeError(`${url}: address in use`);
    // Left behind by a listener that is gone: nothing would ever connect to it again.
    unlinkSync(path);
  }
  const listener = await listenStream(url, { path, shown: `unix://${path}` }, collector);
  const close = listener.close;
  return {
    ...listener,
    socketPath: path,
    close: async () => {
      await close();
      removeSocket(path);
    },
  };
}

/** Remove our socket file (it may be gone already). */
export function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already removed (node removes it on close), or never made.
  }
}
