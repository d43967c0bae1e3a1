/**
 * The control socket of a scoped process (DESIGN: an abstract unix socket named after the pid,
 * `@scope/<pid>`, peer uid checked by the library): one JSON request line, one JSON answer line.
 * The scoped processes of this machine are found in /proc/net/unix, where their sockets are listed.
 */
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';
import { ScopeError } from './errors.js';
import type { JsonObject } from './ndjson.js';

/** `@scope/<pid>` as node names an abstract socket. */
export function controlSocketPath(pid: number): string {
  return `\u0000scope/${pid}`;
}

/** A destination's state as the library reports it. */
export interface DestinationStatus {
  name: string;
  url: string;
  /** connecting: a network destination resolving, connecting or in its TLS handshake */
  state: 'connected' | 'connecting' | 'down' | 'off' | string;
  attempts?: number;
  failures?: number;
  last_failure?: string | null;
  last_failure_time?: number | null;
  connected_since?: number | null;
  /** lines delivered and dropped since the destination was opened */
  lines?: number;
  dropped?: number;
  /** network destinations: bytes waiting in libscope's buffer */
  buffered?: number;
}

/** The answer to `{"req":"status"}`. */
export interface ControlStatus {
  ok: true;
  pid: number;
  scoped: boolean;
  mode: 'preload' | 'attach' | string;
  version?: string;
  config: Record<string, string>;
  destinations: DestinationStatus[];
  counters?: Record<string, number>;
}

export type ControlAnswer = ({ ok: true } & JsonObject) | { ok: false; error: string };

/**
 * Send one request and read the answer. Rejects with a ScopeError when nothing listens (the process
 * is not scoped, or gone), when the answer is not JSON, or after `timeoutMs`.
 */
export function controlRequest(pid: number, request: JsonObject, timeoutMs = 10_000): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path: controlSocketPath(pid) });
    let buf = '';
    let done = false;
    const finish = (err: Error | null, answer?: ControlAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(answer as ControlAnswer);
    };
    const timer = setTimeout(() => finish(new ScopeError(`pid ${pid}: its control socket did not answer within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(request) + '\n'));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) parseAnswer(buf.slice(0, nl));
    });
    sock.on('end', () => parseAnswer(buf));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A library that answered and closed before reading (older libscope refusing a peer) makes the
      // write fail: what it said may still be here.
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && buf.includes('\n')) return parseAnswer(buf.slice(0, buf.indexOf('\n')));
      const why = err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'no scoped process listens for it (not scoped, or gone)' : err.message;
      finish(new ScopeError(`pid ${pid}: ${why}`));
    });
    function parseAnswer(line: string) {
      if (done) return;
      if (line.trim() === '') return finish(new ScopeError(`pid ${pid}: the control socket closed without an answer`));
      try {
        const v = JSON.parse(line) as ControlAnswer;
        if (v === null || typeof v !== 'object' || typeof v.ok !== 'boolean') throw new Error('no "ok"');
        finish(null, v);
      } catch (err) {
        finish(new ScopeError(`pid ${pid}: a control answer that is not one JSON object (${(err as Error).message}): ${line.slice(0, 120)}`));
      }
    }
  });
}

/** The pids whose control sockets are bound on this machine (from /proc/net/unix). */
export function controlSocketPids(netUnix = '/proc/net/unix'): number[] {
  let text: string;
  try {
    text = readFileSync(netUnix, 'utf8');
  } catch {
    return [];
  }
  const pids = new Set<number>();
  for (const m of text.matchAll(/ @scope\/(\d+)$/gm)) pids.add(Number(m[1]));
  return [...pids].sort((a, b) => a - b);
}
