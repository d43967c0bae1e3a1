/**
 * scope-run: start a command with libscope, record it in a session directory, stream the records
 * while it runs when stdout is a pipe, and exit with the command's status.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { accessSync, closeSync, constants as fsConstants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
// Not @scope/core's index: loading all of it cost `scope run -- true` tens of milliseconds (run-api.ts).
// What only some runs need (streaming, the proof of a silent run) is imported where it is used.
import {
  argText,
  createSession,
  destinationProblem,
  loadScopeYaml,
  redactArgs,
  redactArgsOn,
  resolveConfig,
  SCOPE_VERSION,
  scopeEnvPairs,
  ScopeError,
  scopeHome,
  writeManifest,
  writeSessionConfig,
} from '@scope/core/run-api';
import type { ScopePairs, Session } from '@scope/core/run-api';
import { GO_PROGRAM, STATIC_EXECUTABLE, libscopePath, notBuilt, scopeSupervisePath, seenFromOutside } from '@scope/libscope';
import { preloadValue, resolveCommand, unscopableReason } from './launch.js';
import { allUtf8, spawnBytes } from './bytes.js';

export interface RunOptions {
  /** argv of the command; argv[0] is looked up on PATH. */
  argv: string[];
  /** The same arguments as the bytes they are (see bytes.ts); default: the strings' UTF-8. */
  argvBytes?: Buffer[] | undefined;
  /** SCOPE_* pairs from the command-line flags. */
  flagPairs: ScopePairs;
  userconfig?: string | undefined;
  librarypath?: string | undefined;
  passthrough: boolean;
  /** Write the session's records to `stdout` while the command runs. */
  stream: boolean;
  /** Where the app's stdout goes when streaming (default: our stderr). */
  appStdout?: string | undefined;
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  /** Messages for people (notices, warnings). */
  warn: (message: string) => void;
}

/**
 * scope-supervise's command line for a static or Go program: libscope reports for it; its pid on
 * fd 3; its LD_PRELOAD given apart (the supervisor's own must not load libscope), so that dynamic
 * programs it runs load libscope and report for themselves.
 */
function supervisorArgv(lib: string, preload: string, file: string, argv: string[], pidFd: boolean): string[] {
  return ['scope-supervise', '--lib', lib, '--preload', preload, ...(pidFd ? ['--pid-fd', '3'] : []), '--argv0', argv[0]!, '--', file, ...argv.slice(1)];
}

/** The exit status a shell reports: the code, or 128+N when killed by signal N. */
export function shellStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (osConstants.signals[signal] ?? 0);
  return code ?? 1;
}

function libraryFile(librarypath: string | undefined, env: NodeJS.ProcessEnv): string {
  if (librarypath === undefined) return libscopePath(env);
  let file = librarypath;
  if (existsSync(librarypath) && statSync(librarypath).isDirectory()) file = join(librarypath, 'libscope.so');
  if (!existsSync(file)) throw new ScopeError(`--librarypath: ${file}: no such file`, 2);
  return file;
}

/**
 * Lines in a file, read in chunks (a session's files can be larger than a string may be); `onLine`
 * sees each complete one. Read with synchronous calls: the command has ended and there is nothing
 * else to do meanwhile (a stream, or a promise per chunk, cost a thread-pool round trip each).
 */
function countLines(file: string, onLine?: (line: string) => void): number {
  let lines = 0;
  let partial = '';
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return 0; // not written (a destination elsewhere, or an unscoped run)
  }
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(64 * 1024);
  const take = (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      lines++;
      onLine?.(line);
    }
  };
  try {
    for (;;) {
      const bytesRead = readSync(fd, buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      take(decoder.write(buf.subarray(0, bytesRead)));
    }
    take(decoder.end());
  } catch {
    return lines;
  } finally {
    closeSync(fd);
  }
  return partial === '' ? lines : lines + 1;
}

/** At most this many distinct notices are kept in session.json (each process may say one). */
const MAX_NOTICES = 50;

/**
 * Count the lines libscope wrote and the drops its notices reported, for session.json; collect
 * its other notices (blind spots: a Go program, a static executable exec'd), each message once; and
 * say whether the process-start record of `pid` was among the events (recordedNothing's proof, seen
 * on the way).
 */
function tally(session: Session, pid: number | null): { events: number; metrics: number; drops: number; notices: string[]; startSeen: boolean } {
  let drops = 0;
  let startSeen = false;
  const notices = new Set<string>();
  const events = countLines(session.paths.events, (line) => {
    // as hasStartRecord tells it
    if (!startSeen && pid !== null && line.startsWith('{"format"')) {
      try {
        startSeen = (JSON.parse(line) as { info?: { process?: { pid?: unknown } } }).info?.process?.pid === pid;
      } catch {
        // a line still being written
      }
    }
    if (!line.includes('"source":"notice"')) return;
    // Each drop notice tells how many records were dropped since the previous one of its process.
    const m = /"message":"libscope dropped (\d+) records/.exec(line);
    if (m) {
      drops += Number(m[1]);
      return;
    }
    try {
      const message = (JSON.parse(line) as { body?: { data?: { message?: unknown } } }).body?.data?.message;
      if (typeof message === 'string' && notices.size < MAX_NOTICES) notices.add(message);
    } catch {
      // not ours to judge here: scope-events reports bad lines
    }
  });
  // Lines a destination could not take (a stuck pipe at exit, a full disk) are said in the log only:
  // each process's last word on a destination (`… N lines delivered, M dropped`).
  countLines(session.paths.log, (line) => {
    const m = / destination \S+: \d+ lines delivered, (\d+) dropped$/.exec(line);
    if (m) drops += Number(m[1]);
  });
  return { events, metrics: countLines(session.paths.metrics), drops, notices: [...notices], startSeen };
}

/** Run the command; resolves to its shell exit status. */
export async function run(options: RunOptions): Promise<number> {
  if (options.argv.length === 0) throw new ScopeError('no command given (scope run [options] -- command [args…])', 2);
  const bytes = options.argvBytes ?? options.argv.map((a) => Buffer.from(a, 'utf8'));
  // Strings when they are the bytes; else the bytes themselves, started through scope-exec.
  const argv: (string | Buffer)[] = allUtf8(bytes) ? bytes.map((b) => b.toString('utf8')) : bytes;
  const name = argText(bytes[0] as Buffer);
  const head = argv[0] as string | Buffer;
  const resolved = typeof head === 'string' ? resolveCommand(head, options.env['PATH']) : resolveCommand(head, options.env['PATH']);
  if ('error' in resolved) {
    const where = argText(typeof resolved.path === 'string' ? Buffer.from(resolved.path) : resolved.path);
    if (resolved.error === 'not-found') throw new ScopeError(`command not found: ${name}`, 127);
    if (resolved.error === 'directory') throw new ScopeError(`${where}: is a directory`, 126);
    throw new ScopeError(`permission denied: ${where}`, 126);
  }
  const yaml = options.userconfig === undefined ? undefined : await loadScopeYaml(options.userconfig);
  const lib = libraryFile(options.librarypath, options.env);
  if (!existsSync(lib)) throw new ScopeError(notBuilt(lib));

  const unscopable = unscopableReason(resolved.path);
  // A static executable or a Go program is followed from outside instead (libscope/supervise/): by
  // scope-supervise, whose helpers report its calls through libscope. Not with arguments that are
  // not UTF-8 (they go through scope-exec), nor without scope-supervise.
  const supervisor = scopeSupervisePath(options.env);
  const supervised = (unscopable === STATIC_EXECUTABLE || unscopable === GO_PROGRAM) && typeof resolved.path === 'string' && argv.every((a) => typeof a === 'string') && existsSync(supervisor);
  let reason = supervised ? null : unscopable;
  const notices: string[] = [];
  const unscopedNotice = (why: string) => {
    notices.push(`${name} ${why}; running it unscoped`);
    options.warn(`notice: ${name} ${why}: libscope cannot be loaded into it, so it runs unscoped`);
  };
  if (reason) unscopedNotice(reason);
  if (supervised) {
    const said = `${name} ${unscopable}, followed from outside (scope-supervise): ${seenFromOutside(unscopable)}`;
    notices.push(said);
    options.warn(`notice: ${said}`);
  }

  const childEnv: NodeJS.ProcessEnv = { ...options.env };
  const preload = preloadValue(lib, options.env['LD_PRELOAD']);
  if (!unscopable) childEnv['LD_PRELOAD'] = preload;
  // the supervisor gives the program its LD_PRELOAD (--preload); libscope is not loaded into it
  if (supervised) delete childEnv['LD_PRELOAD'];

  if (options.passthrough) {
    // No session: libscope takes its settings from SCOPE_* in the environment, as AppScope's does.
    if (supervised) return spawnAndWait(supervisor, supervisorArgv(lib, preload, resolved.path as string, argv as string[], false), childEnv, 'inherit');
    return spawnAndWait(resolved.path, argv, childEnv, 'inherit');
  }

  let stdio: StdioOptions = 'inherit';
  if (options.stream) {
    let appOut = 2;
    if (options.appStdout !== undefined) {
      try {
        appOut = openSync(options.appStdout, 'w', 0o644);
      } catch (err) {
        throw new ScopeError(`--app-stdout: ${options.appStdout}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
      }
    }
    stdio = ['inherit', appOut, 'inherit'];
  }

  // args.json and session.json keep no credentials given on the command line, like libscope's
  // `cmd` (SCOPE_REDACT_ARGS, scope.yml event.redact.args; on unless set false).
  const inForce = resolveConfig(yaml?.pairs ?? {}, options.flagPairs, scopeEnvPairs(options.env));
  checkDestinations(inForce);
  const redact = redactArgsOn(inForce['SCOPE_REDACT_ARGS']);
  const home = scopeHome(options.env);
  let session: Session;
  let pairs: ScopePairs;
  try {
    session = await createSession({
      home,
      args: redact ? redactBytes(bytes) : bytes,
      scopeVersion: SCOPE_VERSION,
      scoped: reason === null,
      notices,
    });
    pairs = await writeSessionConfig(session, {
      yaml: yaml && options.userconfig ? { pairs: yaml.pairs, file: options.userconfig } : undefined,
      flagPairs: options.flagPairs,
      env: options.env,
    });
  } catch (err) {
    // SCOPE_HOME full, read-only or not ours: said plainly, and the command is not started
    const e = err as NodeJS.ErrnoException;
    if (e.code === undefined || err instanceof ScopeError) throw err;
    throw new ScopeError(`cannot make a session in ${home}: ${e.code}${e.path ? ` (${e.path})` : ''}${e.code === 'ENOSPC' ? ': the file system is full' : ''}; the command was not started`);
  }
  childEnv['SCOPE_CONF_PATH'] = session.paths.env;

  const stop = new AbortController();
  // The stream is NDJSON: StatsD metric lines stay in the session's metrics.json.
  const streamed = [session.paths.events, ...(pairs['SCOPE_METRIC_FORMAT'] === 'statsd' ? [] : [session.paths.metrics])];
  const streaming = options.stream ? pump(streamed, options.stdout, stop.signal) : Promise.resolve();
  // The stream's reader going away (`scope run -- yes | head -3`): when the app's stdout is not its own
  // (it goes to our stderr alongside the stream), the run ends as the command in a pipeline would — the
  // command gets SIGPIPE and we end with 141. With --app-stdout the app's output is independent of the
  // stream: only the stream stops, and the command finishes.
  const coupled = options.stream && options.appStdout === undefined;
  let readerGone = false;
  let killChild: ((sig: NodeJS.Signals) => void) | null = null;
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' || readerGone) return;
    readerGone = true;
    if (coupled) killChild?.('SIGPIPE');
  };
  if (options.stream) options.stdout.on('error', onStdoutError);
  let status: number;
  let signal: NodeJS.Signals | null = null;
  let started: Promise<void> = Promise.resolve();
  try {
    const onStart = (pid: number, kill: (sig: NodeJS.Signals) => void) => {
      session.manifest.pid = pid;
      killChild = kill;
      if (readerGone && coupled) kill('SIGPIPE');
      started = writeManifest(session.paths, session.manifest);
    };
    let result: { status: number; signal: NodeJS.Signals | null };
    if (supervised) {
      // the supervisor says the program's pid on descriptor 3 once it follows it; without that line
      // it could not follow it (no ptrace here, say): the program has not run, and runs unscoped
      let followed = false;
      const three: StdioOptions = typeof stdio === 'string' ? [stdio, stdio, stdio, 'pipe'] : [...stdio.slice(0, 3), 'pipe'];
      result = await spawnChild(supervisor, supervisorArgv(lib, preload, resolved.path as string, argv as string[], true), childEnv, three, (_pid, kill, child) => {
        killChild = kill;
        const pidPipe = child.stdio[3] as Readable | null;
        let text = '';
        pidPipe?.on('data', (b: Buffer) => {
          text += b.toString();
          const m = /^(\d+)\n/.exec(text);
          if (m && !followed) {
            followed = true;
            onStart(Number(m[1]), kill);
          }
        });
        pidPipe?.on('error', () => {});
      });
      if (!followed && result.status === 125) {
        reason = 'could not be followed from outside';
        unscopedNotice(reason);
        session.manifest.notices.push(...notices.filter((n) => !session.manifest.notices.includes(n)));
        result = await spawnChild(resolved.path, argv, childEnv, stdio, onStart);
      }
    } else {
      result = await spawnChild(resolved.path, argv, childEnv, stdio, onStart);
    }
    killChild = null;
    status = result.status;
    signal = result.signal;
  } finally {
    stop.abort();
    await streaming;
    options.stdout.off('error', onStdoutError);
  }
  await started; // the manifest with the pid must not land after the final one
  const counts = tally(session, session.manifest.pid);
  const silent = await recordedNothing(session, pairs, reason === null, counts.startSeen);
  if (silent) {
    session.manifest.notices.push(silent);
    options.warn(`error: ${silent}`);
  }
  Object.assign(session.manifest, {
    end: new Date().toISOString(),
    exitStatus: status,
    signal,
    records: { events: counts.events, metrics: counts.metrics },
    drops: counts.drops,
    notices: [...session.manifest.notices, ...counts.notices.filter((n) => !session.manifest.notices.includes(n))],
  });
  for (const notice of counts.notices) options.warn(`notice: ${notice}`);
  try {
    await writeManifest(session.paths, session.manifest);
  } catch (err) {
    // A full SCOPE_HOME (ENOSPC) or one gone read-only: the command's status is kept, the session is
    // marked as cut short in place (its first session.json already holds the blocks), and we say what.
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const why = `session cut short: writing ${session.paths.manifest} failed (${code}${code === 'ENOSPC' ? `: ${session.dir} is on a full file system` : ''}); records written after the disk filled are lost`;
    session.manifest.notices.push(why);
    options.warn(`error: ${why}`);
    await rm(`${session.paths.manifest}.tmp`, { force: true }).catch(() => {});
    await rewriteInPlace(session.paths.manifest, JSON.stringify(session.manifest, null, 2) + '\n').catch((again: NodeJS.ErrnoException) =>
      options.warn(`error: ${session.paths.manifest} could not be completed either (${again.code ?? again.message}): it still says the command is running`),
    );
  }
  if (counts.drops > 0) options.warn(`warning: libscope dropped ${counts.drops} records (see ${session.paths.log})`);
  if (readerGone && coupled) return EXIT_SIGPIPE;
  // A run that recorded nothing never ends as a success: the command's own failure is kept.
  return silent && status === 0 ? EXIT_NOTHING_RECORDED : status;
}

/** What a shell reports for a writer killed by SIGPIPE: scope run's status when its stream's reader left. */
export const EXIT_SIGPIPE = 128 + (osConstants.signals.SIGPIPE ?? 13);

/** Overwrite a file's bytes where they are (no new file, so no new blocks when it shrinks or stays in its block). */
async function rewriteInPlace(file: string, text: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const buf = Buffer.from(text, 'utf8');
    await handle.write(buf, 0, buf.length, 0);
    await handle.truncate(buf.length);
  } finally {
    await handle.close();
  }
}

/** scope run's own status when the command succeeded but left no record (env and timeout use 125 alike). */
export const EXIT_NOTHING_RECORDED = 125;

/**
 * Why the scoped command left no record in the session (no process-start record of its pid in
 * events.json: libscope did not load into it, or could not write), or null. Only when its events go
 * to the session's own file; what went elsewhere is not ours to read.
 */
async function recordedNothing(session: Session, pairs: ScopePairs, scoped: boolean, startSeen: boolean): Promise<string | null> {
  const pid = session.manifest.pid;
  if (!scoped || pid === null || pairs['SCOPE_EVENT_ENABLE'] === 'false' || pairs['SCOPE_EVENT_DEST'] !== `file://${session.paths.events}`) return null;
  // tally saw the start record: the usual case, with no second read of the events
  if (startSeen) return null;
  const { hasRecordOf, hasStartRecord } = await import('@scope/core/recorded');
  if (await hasStartRecord(session.paths.events, pid)) return null;
  // scope filters may leave the process-start record out; any record of the process proves it too
  if (
    pairs['SCOPE_FILTER'] &&
    ((await hasRecordOf(session.paths.events, pid)) || (pairs['SCOPE_METRIC_DEST'] === `file://${session.paths.metrics}` && (await hasRecordOf(session.paths.metrics, pid))))
  )
    return null;
  const log = (await readFile(session.paths.log, 'utf8').catch(() => '')).trim().split('\n').pop();
  return `${session.manifest.cmd} (pid ${pid}) left no record in ${session.dir}: libscope did not load into it or could not write there${log ? ` (its log: ${log})` : ''}`;
}

const DEST_KEYS: Record<string, string> = { SCOPE_EVENT_DEST: 'events', SCOPE_METRIC_DEST: 'metrics', SCOPE_LOG_DEST: 'the log' };

/**
 * The destinations we can check before the command starts: a malformed URL, and a file destination
 * whose directory is missing or not writable (libscope could only drop everything sent there, and
 * say so in a log the user may never read). A usage error (status 2) naming the setting and why.
 */
function checkDestinations(pairs: ScopePairs): void {
  for (const [key, what] of Object.entries(DEST_KEYS)) {
    const url = pairs[key];
    if (url === undefined || url === '') continue;
    const bad = destinationProblem(url);
    if (bad) throw new ScopeError(`${key} (${what}): ${bad}`, 2);
    if (!url.startsWith('file:///')) continue;
    const file = url.slice('file://'.length);
    const dir = dirname(file);
    let problem: string | null = null;
    try {
      if (!statSync(dir).isDirectory()) problem = `${dir} is not a directory`;
      else if (existsSync(file) && statSync(file).isDirectory()) problem = `${file} is a directory`;
      else if (existsSync(file)) accessSync(file, fsConstants.W_OK);
      else accessSync(dir, fsConstants.W_OK | fsConstants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' ? `directory ${dir} does not exist` : `${existsSync(file) ? file : dir} is not writable (${code ?? (err as Error).message})`;
    }
    if (problem) throw new ScopeError(`${key} (${what}): ${url}: ${problem}; nothing could be written there, so the command was not started`, 2);
  }
}

/** redactArgs over the arguments that are text; an argument that is not UTF-8 is kept as its bytes. */
function redactBytes(bytes: Buffer[]): (string | Buffer)[] {
  const texts = bytes.map((b) => {
    const t = b.toString('utf8');
    return Buffer.from(t, 'utf8').equals(b) ? t : null;
  });
  const redacted = redactArgs(texts.map((t) => t ?? ''));
  return bytes.map((b, i) => (texts[i] === null ? b : (redacted[i] as string)));
}

/**
 * Copy the session's records to `out` as libscope appends them, until `signal` aborts or `out` fails
 * (its reader went away: stdout is never destroyed, so each later write would fail again, slowly).
 */
async function pump(files: string[], out: Writable, signal: AbortSignal): Promise<void> {
  let failed = false;
  const onError = () => {
    failed = true;
  };
  out.once('error', onError);
  try {
    // Loaded only when streaming (--no-stream runs never need them). Following starts at the files'
    // first byte and drains them after an abort, so starting a little later loses nothing.
    const [{ createNdjsonWriter }, { followLines }] = await Promise.all([import('@scope/core/ndjson'), import('@scope/core/follow')]);
    const writer = createNdjsonWriter(out);
    for await (const line of followLines(files, { signal })) {
      if (failed) return;
      await writer.writeLine(line);
    }
    await writer.end();
  } finally {
    out.off('error', onError);
  }
}

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

function spawnChild(
  file: string | Buffer,
  argv: (string | Buffer)[],
  env: NodeJS.ProcessEnv,
  stdio: StdioOptions,
  onStart: (pid: number, kill: (sig: NodeJS.Signals) => void, child: ChildProcess) => void,
): Promise<{ status: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child =
      typeof file === 'string' && argv.every((a) => typeof a === 'string')
        ? spawn(file, argv.slice(1) as string[], { argv0: argv[0] as string, env, stdio })
        : spawnBytes(
            Buffer.from(file),
            argv.map((a) => Buffer.from(a)),
            env,
            stdio,
          );
    // A terminal's ^C reaches the whole foreground group, the command included: let the command decide
    // what it means and report how it ended. Signals sent to us alone are passed on.
    const onInt = () => {};
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', onInt);
    for (const sig of FORWARDED) process.on(sig, forward);
    const cleanup = () => {
      process.off('SIGINT', onInt);
      for (const sig of FORWARDED) process.off(sig, forward);
    };
    child.once('spawn', () => {
      if (child.pid !== undefined) onStart(child.pid, (sig) => child.kill(sig), child);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      const what = argText(Buffer.from(argv[0] ?? ''));
      reject(new ScopeError(`${what}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`, err.code === 'ENOENT' ? 127 : 126));
    });
    child.once('exit', (code, sig) => {
      cleanup();
      resolve({ status: shellStatus(code, sig), signal: sig });
    });
  });
}

async function spawnAndWait(file: string | Buffer, argv: (string | Buffer)[], env: NodeJS.ProcessEnv, stdio: StdioOptions): Promise<number> {
  return (await spawnChild(file, argv, env, stdio, () => {})).status;
}
