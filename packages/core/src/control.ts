/**
 * The control socket of a scoped process (DESIGN: an abstract unix socket named after the pid,
 * `@scope/<pid>`, peer uid checked by the library): one JSON request line, one JSON answer line.
 * The scoped processes of this machine are found in /proc/net/unix, where their sockets are listed.
 *
 * Any user can bind an abstract name, so a name proves nothing: before sending a byte, the client
 * reads who listens (SO_PEERCRED, through the addon's peerConnect, which a tool hands over with
 * {@link useControlPeerCheck}) and talks only to a listener whose pid is the target's and whose uid
 * is root or one of the target's. A library finding `@scope/<pid>` taken listens on
 * `@scope/<pid>.<random hex>`; every name of that pid in /proc/net/unix is tried.
 */
import { Socket } from 'node:net';
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

/** What the addon's peerConnect answers: a connected descriptor and who listens, or why not. */
export type PeerConnection = { fd: number; pid: number; uid: number; gid: number } | { error: string; code: string };

export interface ControlPeerCheck {
  /** Connect to the abstract socket `@name` without blocking; read its listener's SO_PEERCRED. */
  peerConnect(name: string): PeerConnection;
  /** Close a descriptor peerConnect returned. */
  close(fd: number): void;
}

let peerCheck: ControlPeerCheck | undefined;

/**
 * Give the control client its way to read a listener's credentials (node's net cannot): the
 * tools pass `@scope/libscope`'s peerConnect and handoverClose. Without it no request is sent.
 */
export function useControlPeerCheck(check: ControlPeerCheck): void {
  peerCheck = check;
}

/** Raised when the only listeners under a pid's names are other processes: nothing was sent. */
export class ControlImpostorError extends ScopeError {
  constructor(message: string) {
    super(message);
    this.name = 'ControlImpostorError';
  }
}

/** A process's real, effective, saved and fs uids (/proc/<pid>/status), or null when it is gone. */
function uidsOf(pid: number): number[] | null {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? m.slice(1, 5).map(Number) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A connected socket whose listener is process `pid` itself: its pid (SO_PEERCRED) is the target's
 * and its uid root or one of the target's (a process that had this pid before and left a listener
 * behind, or a squatter, has another uid: a same-uid one could trace the target anyway).
 */
async function connectVerified(pid: number, deadline: number): Promise<Socket> {
  if (!peerCheck) throw new ScopeError(`pid ${pid}: internal error: the control client has no peer check (useControlPeerCheck was not called); nothing sent`);
  const uids = uidsOf(pid);
  if (!uids) throw new ScopeError(`pid ${pid}: no such process`);
  const names = controlSocketNames(pid);
  if (!names.includes(`scope/${pid}`)) names.unshift(`scope/${pid}`);
  // The socket file first: only its uid and root can connect to it, so another user's connects
  // cannot keep it busy; reached through the target's root (its /tmp may be private), then by our
  // own view of the path (a listener there that is not the target is refused like any other).
  const files = controlSocketFiles(pid)
    .flatMap((f) => [`/proc/${pid}/root${f}`, f])
    .filter((f) => Buffer.byteLength(f) < 108);
  names.unshift(...files);
  const impostors: string[] = [];
  let busy = false;
  for (;;) {
    busy = false;
    for (const name of names) {
      const c = peerCheck.peerConnect(name);
      if ('error' in c) {
        if (c.code === 'EAGAIN' && !name.startsWith('/')) busy = true;
        continue;
      }
      if (c.pid === pid && (c.uid === 0 || uids.includes(c.uid))) {
        const me = process.geteuid?.() ?? 0;
        if (me !== 0 && me !== c.uid) {
          peerCheck.close(c.fd);
          throw new ScopeError(`pid ${pid}: permission denied: it runs as uid ${c.uid}; only that user or root may control it`);
        }
        return new Socket({ fd: c.fd, readable: true, writable: true });
      }
      peerCheck.close(c.fd);
      const what = `${name.startsWith('/') ? '' : '@'}${name} is held by pid ${c.pid === 0 ? '?' : c.pid} (uid ${c.uid})`;
      if (!impostors.includes(what)) impostors.push(what);
    }
    if (!busy || Date.now() >= deadline) break;
    await sleep(20); // a full backlog: the library accepts every 100 ms at most
  }
  if (impostors.length > 0)
    throw new ControlImpostorError(`pid ${pid}: refused to talk to a control socket of another process: ${impostors.join(', ')}, not by pid ${pid}; nothing sent (is pid ${pid} scoped?)`);
  if (busy) throw new ScopeError(`pid ${pid}: its control socket is busy (backlog full); try again`);
  throw new ScopeError(`pid ${pid}: no scoped process listens for it (not scoped, or gone)`);
}

/**
 * Send one request and read the answer, to the process `pid` itself and nobody else (see
 * {@link connectVerified}). Rejects with a ScopeError when nothing listens (the process is not
 * scoped, or gone), when the listener is another process (ControlImpostorError, nothing sent),
 * when the answer is not JSON, or after `timeoutMs`.
 */
export async function controlRequest(pid: number, request: JsonObject, timeoutMs = 10_000): Promise<ControlAnswer> {
  const sock = await connectVerified(pid, Date.now() + timeoutMs);
  return new Promise((resolve, reject) => {
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
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) parseAnswer(buf.slice(0, nl));
    });
    sock.on('end', () => parseAnswer(buf));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A library that answered and closed before reading (one refusing a peer) makes the write
      // fail: what it said may still be here.
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && buf.includes('\n')) return parseAnswer(buf.slice(0, buf.indexOf('\n')));
      const why =
        err.code === 'EPIPE' || err.code === 'ECONNRESET' ? 'the process closed its control connection without an answer (a process that changed its credentials answers root only)' : err.message;
      finish(new ScopeError(`pid ${pid}: ${why}`));
    });
    sock.write(JSON.stringify(request) + '\n');
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

function readNetUnix(netUnix: string): string {
  try {
    return readFileSync(netUnix, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The names (without '@') bound for `pid` in /proc/net/unix: `scope/<pid>` and the
 * `scope/<pid>.<hex>` a library takes when the first is taken. Who holds them is not known here.
 */
export function controlSocketNames(pid: number, netUnix = '/proc/net/unix'): string[] {
  const names = new Set<string>();
  for (const m of readNetUnix(netUnix).matchAll(/ @(scope\/(\d+)(?:\.[0-9a-f]{16})?)$/gm)) if (Number(m[2]) === pid) names.add(m[1] as string);
  return [...names].sort();
}

/**
 * The control socket files a process listens on, as its own mount namespace names them: the
 * `<tmp>/scope-<euid>/ctl.<pid>` sockets listed in the target's network namespace's table
 * (/proc/<pid>/net/unix). Who listens is not known here: the caller checks it.
 */
export function controlSocketFiles(pid: number, netUnix = `/proc/${pid}/net/unix`): string[] {
  const files = new Set<string>();
  for (const m of readNetUnix(netUnix).matchAll(/ (\/\S*\/ctl\.(\d+))$/gm)) if (Number(m[2]) === pid) files.add(m[1] as string);
  return [...files].sort();
}

/**
 * The pids with a control socket name bound on this machine (from /proc/net/unix). Anyone may bind
 * such a name: a request ({@link controlRequest}) is what proves the process scoped.
 */
export function controlSocketPids(netUnix = '/proc/net/unix'): number[] {
  const pids = new Set<number>();
  for (const m of readNetUnix(netUnix).matchAll(/ @scope\/(\d+)(?:\.[0-9a-f]{16})?$/gm)) pids.add(Number(m[1]));
  return [...pids].sort((a, b) => a - b);
}
