/**
 * Long-running processes in end-to-end tests: start one with its output kept, wait for what it says,
 * stop it; and a real nats-server on a loopback port (Debian's package, test/apps/install.sh).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `cond` until it holds; past the deadline, fail naming what was awaited (a condition, not a timing). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what()}`);
    await sleep(25);
  }
}

export interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves with the exit code (null when a signal ended it). */
  done: Promise<number | null>;
}

export function start(cmd: string, args: string[], options: { stdin?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(cmd, args, { stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, done };
}

/** SIGTERM unless it already ended; resolves with its exit code. */
export async function stop(p: Proc): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  return p.done;
}

/** nats-server on 127.0.0.1:port (with JetStream storing in `jsDir` when given), once it is ready. */
export async function natsServer(port: number, jsDir?: string): Promise<Proc> {
  const server = start('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...(jsDir === undefined ? [] : ['-js', '-sd', jsDir])]);
  let exited = false;
  void server.done.then(() => (exited = true));
  await waitFor(
    () => /Server is ready/.test(server.err()) || exited,
    () => `nats-server to start: ${server.err()}`,
  );
  if (exited) throw new Error(`nats-server did not start: ${server.err()}`);
  return server;
}
