/**
 * scope attach to a program libscope cannot be loaded into (a static executable) or would see
 * nothing of (a Go program, whose runtime calls the kernel itself): scope-supervise follows it from
 * outside (libscope/supervise/, `--attach`). It seizes every thread, has one of them install the
 * seccomp filter in all and puts it back as it was, then reports the process's calls through
 * helpers that load libscope with the session's settings. The session's files are opened here and
 * given to the supervisor as descriptors (the target's user may not be able to open them).
 *
 * A seccomp filter cannot be taken out again, and without its tracer the watched calls would fail:
 * scope detach ends the reporting, and the supervisor follows the process in silence until it
 * exits (its calls still stop for it). Such a process cannot be attached again before it restarts.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { commandLine, formatEnvFile, hasStartRecord, writeManifest } from '@scope/core';
import type { ProcessInfo, ScopePairs, Session } from '@scope/core';
import { notBuilt, scopeSupervisePath, seenFromOutside } from '@scope/libscope';
import type { StatusRecord } from './attach.js';

const READY_MS = 10_000;
const VERIFY_MS = 6000;

/** The pid of the process tracing pid (0: none), from its status. */
export function tracerOf(pid: number): number {
  try {
    const m = /^TracerPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** pid's tracer when it is our scope-supervise (the one this installation runs), else null. */
export function supervisorOf(pid: number, env: NodeJS.ProcessEnv): number | null {
  const tracer = tracerOf(pid);
  return tracer && isSupervisor(tracer, env) ? tracer : null;
}

/** Why a static or Go process cannot be followed now, or null. */
export function outsideRefusal(target: ProcessInfo, env: NodeJS.ProcessEnv): string | null {
  const tracer = tracerOf(target.pid);
  if (!tracer) return existsSync(scopeSupervisePath(env)) ? null : notBuilt(scopeSupervisePath(env));
  if (supervisorOf(target.pid, env) !== null) {
    return `pid ${target.pid} is followed by scope-supervise (pid ${tracer}) already, from an earlier scope run or attach: its filter cannot be taken out, so it cannot be attached again until it restarts`;
  }
  let comm = '?';
  try {
    comm = readFileSync(`/proc/${tracer}/comm`, 'utf8').trim();
  } catch {
    // gone meanwhile
  }
  return `pid ${target.pid} is traced by pid ${tracer} (${comm}): a traced process cannot be followed from outside`;
}

/** Bytes of a stream until it ends, at most `max`. */
function collect(stream: Readable | null, max = 4096): () => string {
  let text = '';
  stream?.on('data', (b: Buffer) => {
    if (text.length < max) text += b.toString();
  });
  stream?.on('error', () => {});
  return () => text.trim();
}

/**
 * Follow target from outside, in session; resolves to the status record. `fail` removes the
 * session and throws with the reason.
 */
export async function attachOutside(
  t: ProcessInfo,
  kind: string,
  lib: string,
  session: Session,
  pairs: ScopePairs,
  env: NodeJS.ProcessEnv,
  fail: (why: string) => Promise<never>,
): Promise<StatusRecord> {
  const supervisor = scopeSupervisePath(env);
  // the session's files, handed as descriptors 4, 5, 6 (the ones the settings send records to)
  const wanted: [string, string, string][] = [
    ['SCOPE_EVENT_FD', 'SCOPE_EVENT_DEST', session.paths.events],
    ['SCOPE_METRIC_FD', 'SCOPE_METRIC_DEST', session.paths.metrics],
    ['SCOPE_LOG_FD', 'SCOPE_LOG_DEST', session.paths.log],
  ];
  const fds: number[] = [];
  const hands: string[] = [];
  try {
    for (const [variable, key, path] of wanted) {
      if (pairs[key] !== `file://${path}`) continue;
      fds.push(openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW));
      hands.push('--hand', `${variable}=${3 + fds.length}`);
    }
  } catch (err) {
    fds.forEach((fd) => closeSync(fd));
    return fail(`pid ${t.pid}: cannot open the session's files for it: ${(err as Error).message}`);
  }
  const child = spawn(supervisor, ['--lib', lib, '--attach', String(t.pid), '--ready-fd', '3', '--config-fd', '0', '--session', session.dir, ...hands], {
    detached: true, // a session of its own: a terminal's ^C is not for it (its end would end the process)
    stdio: ['pipe', 'ignore', 'pipe', 'pipe', ...fds],
    env: { ...env, LD_PRELOAD: '' },
  });
  fds.forEach((fd) => closeSync(fd));
  const stderr = collect(child.stderr);
  (child.stdin as Writable).on('error', () => {});
  (child.stdin as Writable).end(formatEnvFile(pairs));
  const ready = await new Promise<boolean>((resolve) => {
    const pipe = child.stdio[3] as Readable;
    const timer = setTimeout(() => resolve(false), READY_MS);
    pipe.once('data', () => {
      clearTimeout(timer);
      resolve(true);
    });
    pipe.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
    pipe.on('error', () => {});
    child.once('error', () => resolve(false));
  });
  if (!ready) {
    const status = await new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else {
        const timer = setTimeout(() => resolve(null), 2000);
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      }
    });
    const why = stderr().replace(/^scope-supervise: /, '') || (status === null ? 'it did not answer' : `it exited with ${status}`);
    return fail(`pid ${t.pid} could not be followed from outside: ${why}`);
  }
  for (const s of [child.stdio[2], child.stdio[3]]) (s as Readable | null)?.destroy();
  child.unref();
  const toSession = pairs['SCOPE_EVENT_DEST'] === `file://${session.paths.events}` && pairs['SCOPE_EVENT_ENABLE'] !== 'false';
  if (toSession) {
    const until = Date.now() + VERIFY_MS;
    while (!(await hasStartRecord(session.paths.events, t.pid))) {
      if (Date.now() >= until) {
        // said failed: the reporting ends; the process stays followed in silence until it exits
        if (child.pid) process.kill(child.pid, 'SIGUSR1');
        return fail(
          `pid ${t.pid} cannot record: no process-start record in ${session.paths.events} after ${VERIFY_MS / 1000} s; reporting stopped (scope-supervise, pid ${child.pid}, follows it in silence until it exits)`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  process.stderr.write(
    `scope-attach: notice: pid ${t.pid} (${t.exe ?? t.comm}) ${kind}, followed from outside (scope-supervise, pid ${child.pid}): ${seenFromOutside(kind)}; scope detach ends the reporting, not the following\n`,
  );
  session.manifest.notices.push(`${t.exe ?? t.comm} ${kind}, followed from outside (scope-supervise): ${seenFromOutside(kind)}`);
  await writeManifest(session.paths, session.manifest);
  return { type: 'status', verb: 'attach', pid: t.pid, command: commandLine(t), ok: true, session: session.dir };
}

/** The session a supervisor reports to (its --session, from scope attach), or null. */
export function supervisorSession(supervisor: number): string | null {
  try {
    const args = readFileSync(`/proc/${supervisor}/cmdline`, 'utf8').split('\0');
    const i = args.indexOf('--session');
    return i >= 0 && args[i + 1] ? args[i + 1]! : null;
  } catch {
    return null;
  }
}

/** Whether pid runs our scope-supervise (a supervisor, or one of its helpers, which load libscope). */
export function isSupervisor(pid: number, env: NodeJS.ProcessEnv): boolean {
  try {
    return realpathSync(readlinkSync(`/proc/${pid}/exe`)) === realpathSync(scopeSupervisePath(env));
  } catch {
    return false;
  }
}

/** scope detach of a process followed from outside: its supervisor ends the reporting. */
export function detachOutside(target: ProcessInfo, supervisor: number): { ok: boolean; session: string | null; error?: string } {
  const session = supervisorSession(supervisor);
  try {
    process.kill(supervisor, 'SIGUSR1');
  } catch (err) {
    return { ok: false, session, error: `pid ${target.pid}: its supervisor (pid ${supervisor}) could not be told: ${(err as Error).message}` };
  }
  return { ok: true, session };
}
