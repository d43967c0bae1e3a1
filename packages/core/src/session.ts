/**
 * The session directory, the contract between tools: one directory per `scope run` under
 * $SCOPE_HOME/history, holding the manifest, the config in force and what libscope wrote. This module
 * is the only code that knows the paths.
 */
import { closeSync, constants, copyFileSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ScopeError } from './errors.js';
import { scopeHome } from './home.js';
import { DEFAULTS, formatEnvFile, pairsToYaml, resolveConfig, scopeEnvPairs } from './config.js';
import type { ScopePairs } from './config.js';
import { argText, encodeArg } from './argbytes.js';
import type { SessionArg } from './argbytes.js';

/** session.json */
export interface SessionManifest {
  id: number;
  /** The command's name (argv[0] without its directory). */
  cmd: string;
  /** The full argv of the command: each a string, or `{"base64":…}` when its bytes are not UTF-8 (argbytes.ts). */
  args: SessionArg[];
  /** The command's pid; null until it has started. */
  pid: number | null;
  /** Whether libscope was loaded (false for static or setuid executables). */
  scoped: boolean;
  /** ISO 8601 times. */
  start: string;
  end: string | null;
  /** The exit status as a shell would give it (128+N when killed by signal N). */
  exitStatus: number | null;
  signal: string | null;
  scopeVersion: string;
  /** Lines written by the library into events.json and metrics.json. */
  records: { events: number; metrics: number };
  /** Records libscope had to drop (full queue, rate limit), as it reported them. */
  drops: number;
  /** Anything the launcher had to say about the run (e.g. why it ran unscoped). */
  notices: string[];
  /** How libscope got in: started with it (`run`, the default when absent) or loaded into a running process (`attach`). */
  mode?: 'run' | 'attach';
}

/** Every file of a session, by role. */
export interface SessionPaths {
  dir: string;
  manifest: string;
  config: string;
  env: string;
  args: string;
  events: string;
  metrics: string;
  log: string;
  payloads: string;
  /** What libscope's crash handler writes (info, config, backtrace, core), when there was a crash. */
  crash: string;
}

export interface Session {
  id: number;
  dir: string;
  paths: SessionPaths;
  manifest: SessionManifest;
}

export { scopeHome };

export function historyDir(home: string): string {
  return join(home, 'history');
}

export function sessionPaths(dir: string): SessionPaths {
  return {
    dir,
    manifest: join(dir, 'session.json'),
    config: join(dir, 'scope.yml'),
    env: join(dir, 'scope.env'),
    args: join(dir, 'args.json'),
    events: join(dir, 'events.json'),
    metrics: join(dir, 'metrics.json'),
    log: join(dir, 'libscope.log'),
    payloads: join(dir, 'payloads'),
    crash: join(dir, 'crash'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * Making a session (createSession, writeSessionConfig, writeManifest) uses the synchronous calls:
 * a session is made before its command starts, with nothing else for the process to do meanwhile,
 * and some twenty small file operations each cost a thread-pool round trip (and the first use of each
 * promise API its compilation) when made asynchronously: about 10 ms of every `scope run`, against
 * about 1 ms this way. The functions stay async, so callers are unchanged.
 */

/** rm -f of one file: gone already is fine. */
function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Take the next session id from $SCOPE_HOME/count. Several `scope run`s may start at once, so the
 * read-increment-write is done under an exclusive lock file; a lock older than 10 s is taken as stale.
 */
async function nextId(home: string): Promise<number> {
  const lock = join(home, 'count.lock');
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        // removed meanwhile: try again
      }
      if (age > 10_000) removeFile(lock);
      else if (Date.now() > deadline) throw new ScopeError(`${lock}: locked by another scope; remove it if no scope is running`);
      else await sleep(10 + Math.random() * 20);
    }
  }
  try {
    const countFile = join(home, 'count');
    let text = '0';
    try {
      text = readFileSync(countFile, 'utf8');
    } catch {
      // no session yet
    }
    const last = Number.parseInt(text.trim(), 10);
    const id = (Number.isFinite(last) && last >= 0 ? last : 0) + 1;
    const tmp = `${countFile}.${process.pid}`;
    writeFileSync(tmp, `${id}\n`, { mode: 0o600 });
    renameSync(tmp, countFile);
    return id;
  } finally {
    removeFile(lock);
  }
}

/**
 * mkdir -p with 0700 for what it creates. Not fs.mkdir's recursive mode: on a file system that
 * answers ENOENT to every mkdir (procfs), that one never returns.
 */
function makeDirs(dir: string, depth = 0): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || depth > 64) throw err;
    makeDirs(parent, depth + 1);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}

/** Characters kept from a command name in the directory name. */
function safeName(cmd: string): string {
  const name = basename(cmd).replace(/[^A-Za-z0-9._-]/g, '_');
  return name === '' ? 'cmd' : name.slice(0, 64);
}

export interface CreateSessionOptions {
  home: string;
  /** argv; bytes that may not be UTF-8 are given as a Buffer and recorded losslessly. */
  args: (string | Uint8Array)[];
  scopeVersion: string;
  scoped?: boolean;
  notices?: string[];
  /** The scoped process, when it already runs (attach): named in the directory and the manifest. */
  pid?: number;
  mode?: 'run' | 'attach';
  /** Directory mode: 0700, or 0711 when a process of another user must reach files made for it. */
  dirMode?: number;
}

/** Create `<cmd>_<id>_<pid>_<unix-ns>/` (0700) with its manifest, and return it. */
export async function createSession(options: CreateSessionOptions): Promise<Session> {
  const history = historyDir(options.home);
  try {
    makeDirs(history);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ScopeError(`cannot create the session history ${history} (SCOPE_HOME): ${e.code ?? e.message}`);
  }
  const id = await nextId(options.home);
  const args = options.args.map(encodeArg);
  const cmd = basename(args[0] === undefined ? 'cmd' : argText(args[0]));
  // Wall-clock nanoseconds; the sub-millisecond part comes from the monotonic clock.
  const ns = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  const dir = join(history, `${safeName(cmd)}_${id}_${options.pid ?? process.pid}_${ns}`);
  mkdirSync(dir, { mode: options.dirMode ?? 0o700 });
  const paths = sessionPaths(dir);
  mkdirSync(paths.payloads, { mode: 0o700 });
  const manifest: SessionManifest = {
    id,
    cmd,
    args,
    pid: options.pid ?? null,
    scoped: options.scoped ?? true,
    start: new Date().toISOString(),
    end: null,
    exitStatus: null,
    signal: null,
    scopeVersion: options.scopeVersion,
    records: { events: 0, metrics: 0 },
    drops: 0,
    notices: options.notices ?? [],
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
  };
  writeFileSync(paths.args, JSON.stringify(args) + '\n', { mode: 0o600 });
  // The library appends to these; creating them here gives them 0600 whoever writes first.
  for (const file of [paths.events, paths.metrics, paths.log]) {
    writeFileSync(file, '', { mode: 0o600, flag: 'a' });
  }
  await writeManifest(paths, manifest);
  return { id, dir, paths, manifest };
}

/**
 * The settings of a new session — defaults < its own files as destinations < scope.yml < flags <
 * SCOPE_* in the environment — written as scope.yml (the user's own file when one was given) and
 * scope.env (what libscope reads).
 */
export async function writeSessionConfig(
  session: Session,
  o: {
    yaml?: { pairs: ScopePairs; file: string } | undefined;
    flagPairs: ScopePairs;
    env: NodeJS.ProcessEnv;
  },
): Promise<ScopePairs> {
  const own: ScopePairs = {
    SCOPE_EVENT_DEST: `file://${session.paths.events}`,
    SCOPE_METRIC_DEST: `file://${session.paths.metrics}`,
    SCOPE_LOG_DEST: `file://${session.paths.log}`,
    SCOPE_PAYLOAD_DIR: session.paths.payloads,
    // Where the crash handler (-b, -d) writes info, config, backtrace and core; made when needed.
    SCOPE_SNAPSHOT_DIR: session.paths.crash,
  };
  const pairs = resolveConfig(DEFAULTS, own, o.yaml?.pairs ?? {}, o.flagPairs, scopeEnvPairs(o.env));
  if (o.yaml) copyFileSync(o.yaml.file, session.paths.config);
  else writeFileSync(session.paths.config, pairsToYaml(pairs), { mode: 0o600 });
  writeFileSync(session.paths.env, formatEnvFile(pairs), { mode: 0o600 });
  return pairs;
}

/** Replace session.json atomically (readers never see half a file). */
export async function writeManifest(paths: SessionPaths, manifest: SessionManifest): Promise<void> {
  const tmp = `${paths.manifest}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, paths.manifest);
}

/** Read one session directory; throws ScopeError naming the file when it is not a session. */
/**
 * A session file opened for reading, or null when it does not exist. Never through a symbolic link
 * (libscope and the tools create these files, never links: a link there is someone else's choice,
 * and reading through it could show a file its maker cannot read to whoever reads the session),
 * and only a regular file (a FIFO put there would block the reader forever).
 */
export function openSessionFile(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    if (e.code === 'ELOOP') throw new ScopeError(`${path}: a symbolic link, not followed (a session's files are never links)`);
    throw new ScopeError(`${path}: ${e.message}`);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new ScopeError(`${path}: not a regular file`);
  }
  return fd;
}

export async function readSession(dir: string): Promise<Session> {
  const paths = sessionPaths(dir);
  let text: string;
  let fd: number | null = null;
  try {
    fd = openSessionFile(paths.manifest);
    if (fd === null) throw new Error('absent');
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof ScopeError) throw new ScopeError(`${dir}: not a scope session (${err.message})`);
    throw new ScopeError(`${dir}: not a scope session (no readable session.json)`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  let manifest: SessionManifest;
  try {
    manifest = JSON.parse(text) as SessionManifest;
  } catch (err) {
    throw new ScopeError(`${paths.manifest}: ${(err as Error).message}`);
  }
  return { id: manifest.id, dir, paths, manifest };
}

/** Every readable session under $SCOPE_HOME, oldest id first. Unreadable entries are skipped. */
export async function listSessions(home: string): Promise<Session[]> {
  const history = historyDir(home);
  const names = await readdir(history).catch(() => [] as string[]);
  const sessions: Session[] = [];
  for (const name of names) {
    if (!/_\d+_\d+_\d+$/.test(name)) continue;
    try {
      sessions.push(await readSession(join(history, name)));
    } catch {
      // a directory being created or removed right now; not a session to list
    }
  }
  return sessions.sort((a, b) => a.id - b.id);
}

/** The session with the highest id, or null when there is none. */
export async function lastSession(home: string): Promise<Session | null> {
  const all = await listSessions(home);
  return all.at(-1) ?? null;
}

/** The session with this id; throws when there is none. */
export async function findSession(home: string, id: number): Promise<Session> {
  const found = (await listSessions(home)).find((s) => s.id === id);
  if (!found) throw new ScopeError(`no session with id ${id} in ${historyDir(home)}`);
  return found;
}
