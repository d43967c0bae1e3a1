/**
 * The process's streams and environment, passed in so that the commands can be driven from tests.
 */
import type { Readable, Writable } from 'node:stream';
import { UsageError } from '@scope/core';

export interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Whether to print for people: --pretty / --json force it, else a terminal on stdout. */
export function peopleFormat(parsed: { json?: boolean; pretty?: boolean }, stdout: { isTTY?: boolean }): boolean {
  if (parsed.json === true && parsed.pretty === true) throw new UsageError('--json and --pretty cannot be used together');
  if (parsed.pretty === true) return true;
  if (parsed.json === true) return false;
  return stdout.isTTY === true;
}

/** These tools take no positional arguments. */
export function noPositionals(parsed: { _: string[] }): void {
  const extra = parsed._[0];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
}
