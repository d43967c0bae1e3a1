/**
 * What the end-to-end tests share: run the real `scope` bin in a fresh SCOPE_HOME, read the session
 * it made, and check every record against schemas/.
 */
import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastSession } from '@scope/core';
import type { Session } from '@scope/core';
import { formatFailures, validateNdjsonFile } from '@scope/schemas';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const scopeBin = join(repoRoot, 'tools/scope/bin/scope.js');
export const scopeRunBin = join(repoRoot, 'tools/scope-run/bin/scope-run.js');

export function newHome(): string {
  return mkdtempSync(join(tmpdir(), 'scope-e2e-'));
}

export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a node bin with args; stdout and stderr are pipes unless `stdio` says otherwise. */
export function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv, options: SpawnOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/** The environment for a run: ours, minus anything SCOPE_* that could leak in, plus a fresh home. */
export function envFor(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SCOPE_') && k !== 'LD_PRELOAD') env[k] = v;
  return { ...env, SCOPE_HOME: home, ...extra };
}

export type Rec = Record<string, any>;

export function parseLines(text: string): Rec[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Rec);
}

export interface SessionRecords {
  session: Session;
  events: Rec[];
  metrics: Rec[];
}

export async function readLast(home: string): Promise<SessionRecords> {
  const session = await lastSession(home);
  if (!session) throw new Error(`no session in ${home}`);
  return {
    session,
    events: parseLines(readFileSync(session.paths.events, 'utf8')),
    metrics: parseLines(readFileSync(session.paths.metrics, 'utf8')),
  };
}

/** Throws with every failing line when a session's files hold a record schemas/ rejects. */
export async function assertValidSession(session: Session): Promise<void> {
  for (const file of [session.paths.events, session.paths.metrics]) {
    const report = await validateNdjsonFile(file);
    if (report.failures.length > 0) throw new Error(formatFailures(report, file));
  }
}

export const events = (recs: Rec[], source: string) => recs.filter((r) => r['type'] === 'evt' && r['body']?.source === source);
export const metrics = (recs: Rec[], name: string) => recs.filter((r) => r['type'] === 'metric' && r['body']?._metric === name);
export const startRecords = (recs: Rec[]) => recs.filter((r) => r['format'] === 'ndjson' && r['info']?.process);
