import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The package directory (tests run from dist/test). */
export const pkg = fileURLToPath(new URL('../../', import.meta.url));
export const bin = `${pkg}bin/scope-collect.js`;
export const umbrella = fileURLToPath(new URL('../../../scope/bin/scope.js', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until cond() holds, with a generous deadline (no timing is asserted, only the outcome). */
export async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

export interface Collect {
  child: ChildProcess;
  /** Where it listens, in the order of the --listen flags (read from its stderr). */
  urls: string[];
  out: () => string;
  err: () => string;
  lines: () => string[];
  /** Resolves with the exit status once it has ended. */
  done: Promise<number | null>;
  /** SIGTERM, then its status. */
  stop: () => Promise<number | null>;
}

/**
 * Start scope-collect (or `command` + args) and wait until it says where it listens (`listening`
 * lines expected: one per --listen, unless given).
 */
export async function startCollect(args: string[], opts: { listening?: number; command?: string[] } = {}): Promise<Collect> {
  const child = spawn(process.execPath, [...(opts.command ?? [bin]), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  let exited = false;
  const done = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const want = opts.listening ?? args.filter((a) => a === '--listen' || a === '-l').length;
  const listening = () => [...stderr.matchAll(/^scope-collect: listening on (\S+)$/gm)].map((m) => m[1] as string);
  await waitFor(() => listening().length >= want || exited, `scope-collect to listen (stderr: ${stderr})`);
  return {
    child,
    urls: listening(),
    out: () => stdout,
    err: () => stderr,
    lines: () => stdout.split('\n').filter((l) => l !== ''),
    done,
    stop: () => {
      if (!exited) child.kill('SIGTERM');
      return done;
    },
  };
}

/** host and port of a tcp:// or udp:// URL. */
export function hostPortOf(url: string): { host: string; port: number } {
  const m = /^[a-z]+:\/\/(.*):(\d+)$/.exec(url);
  if (!m) throw new Error(`not host:port: ${url}`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/** A connected stream client: tcp://host:port, unix:///path or unix://@name. */
export function client(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = url.startsWith('unix://@')
      ? connect({ path: `\0${url.slice('unix://@'.length)}` })
      : url.startsWith('unix://')
        ? connect({ path: url.slice('unix://'.length) })
        : connect(hostPortOf(url));
    sock.once('connect', () => resolve(sock));
    sock.once('error', reject);
  });
}

/** Write `data` in pieces of `size` bytes, each its own write, waiting a turn between them. */
export async function writeInPieces(sock: Socket, data: Buffer, size: number): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    await new Promise<void>((resolve, reject) => sock.write(data.subarray(i, i + size), (err) => (err ? reject(err) : resolve())));
    // Let the bytes leave as a segment of their own, so a record really arrives split.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Close a client after everything it wrote is sent. */
export function finish(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    sock.once('close', () => resolve());
    sock.end();
  });
}

/** Send each payload as one UDP datagram. */
export async function sendDatagrams(url: string, payloads: (string | Buffer)[]): Promise<void> {
  const { host, port } = hostPortOf(url);
  const sock = createSocket('udp4');
  for (const p of payloads) {
    await new Promise<void>((resolve, reject) => sock.send(typeof p === 'string' ? Buffer.from(p) : p, port, host, (err) => (err ? reject(err) : resolve())));
  }
  await new Promise<void>((resolve) => sock.close(() => resolve()));
}

/** An event record as libscope writes one (with characters that re-serialising would change). */
export function eventLine(client: number, n: number): string {
  return (
    `{"type":"evt","id":"h-app${client}-app${client}","_channel":"${1000 + n}","body":{"sourcetype":"fs","_time":1700000000.500000,` +
    `"source":"fs.open","host":"h","proc":"app${client}","cmd":"app${client} --n ${n}","pid":${100 + client},` +
    `"data":{"file":"/tmp/f\\u00e9 ${n} \\/x","op":"open","n":${n},"v":1.0e0}}}`
  );
}
