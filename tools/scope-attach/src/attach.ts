/**
 * scope-attach: load libscope into a running process and start scoping it, in a session of its own.
 *
 * The order of things: refuse what cannot work (no such pid, no rights, a static executable, already
 * scoped) before touching the process; make the session; hand the config over in a file only the
 * target's user can read (created with O_EXCL|O_NOFOLLOW under a random name, so no link planted
 * beforehand is followed, and removed by the library once read, or here if it never was); then the
 * injector (the addon) calls the target's own dlopen and libscope's scope_attach(file). A process
 * that has libscope loaded but is detached is reattached through its control socket, without ptrace.
 *
 * The file and the handover socket go in the target's /tmp as the target sees it, in its own root
 * (a chroot, a container). That /tmp is opened once, inside its root and refusing any symbolic link
 * on the way (the addon's dirInRoot: openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS, or a walk), and
 * everything is made and removed relative to that descriptor: a /tmp that is a link (to /etc, or
 * anywhere) is refused, never written through, and the descriptor still names the directory to
 * clean up if the target dies meanwhile.
 *
 * The session stays ours (0700, files 0600), whoever the target runs as: we open its files and hand
 * the open descriptors to the target (libscope/src/control/handover.h) over a one-time unix socket, to the
 * one peer whose pid is the target's. Then we wait for proof that recording works (the
 * process-start record in events.json, the destinations' state on the control socket) before
 * saying ok; when it does not, the target is detached again, the session removed, and we say why.
 */
import { constants, closeSync, existsSync, fchownSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  commandLine,
  controlRequest,
  createSession,
  formatEnvFile,
  hasStartRecord,
  libscopeLoaded,
  SCOPE_VERSION,
  ScopeError,
  scopeHome,
  useControlPeerCheck,
  writeManifest,
  writeSessionConfig,
} from '@scope/core';
import type { ControlStatus, ProcessInfo, ScopePairs, Session } from '@scope/core';
import {
  GO_PROGRAM,
  STATIC_EXECUTABLE,
  controlPeerCheck,
  dirInRoot,
  elfInfo,
  handoverClose,
  handoverListen,
  handoverSend,
  inject,
  libscopePath,
  notBuilt,
  openInDir,
  unlinkInDir,
} from '@scope/libscope';
import type { HandoverTag, InRootError } from '@scope/libscope';
import { attachOutside, outsideRefusal } from './outside.js';

// attach, detach, ps, inspect, update (verbs.ts imports this module): every control request is
// sent only to a listener proven to be the target (SO_PEERCRED, read by the addon)
useControlPeerCheck(controlPeerCheck);

export interface AttachOptions {
  target: ProcessInfo;
  flagPairs: ScopePairs;
  /** scope.yml pairs (-u), already parsed, and its path. */
  yaml?: { pairs: ScopePairs; file: string } | undefined;
  librarypath?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** The one record attach and detach write. */
export interface StatusRecord {
  type: 'status';
  verb: 'attach' | 'reattach' | 'detach' | 'update';
  pid: number;
  command: string;
  ok: boolean;
  session?: string;
  error?: string;
}

const uid = () => process.getuid?.() ?? -1;

/** Why this user may not ptrace the target, or null when it may (the injector has the last word). */
export function ptraceRefusal(target: ProcessInfo): string | null {
  if (uid() === 0) return null;
  if (target.uid !== uid()) {
    return `pid ${target.pid} runs as ${target.user}; attaching to another user's process needs root (or CAP_SYS_PTRACE)`;
  }
  let scopeLevel = 0;
  try {
    scopeLevel = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    scopeLevel = 0; // no Yama: classic rules, same uid is enough
  }
  if (scopeLevel >= 1) {
    return `kernel.yama.ptrace_scope is ${scopeLevel}: only root (or CAP_SYS_PTRACE) may attach to a process it did not start; run scope attach as root${scopeLevel === 1 ? ', or set kernel.yama.ptrace_scope=0' : ''}`;
  }
  return null;
}

/** What attach does: load libscope, wake a detached one, or follow the process from outside
 * (a static executable, a Go program: outside.ts) saying what it is. */
type How = 'inject' | 'reattach' | { outside: string };

/** The refusals that need no ptrace: a process already scoped or followed, or traced. */
async function preflight(target: ProcessInfo, env: NodeJS.ProcessEnv): Promise<How> {
  const refusal = ptraceRefusal(target);
  if (refusal) throw new ScopeError(refusal);
  const exe = `/proc/${target.pid}/exe`;
  let info;
  try {
    info = elfInfo(exe);
  } catch (err) {
    throw new ScopeError(`pid ${target.pid}: cannot read its executable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (info.elf && (info.go || info.interpreter === null)) {
    const why = outsideRefusal(target, env);
    if (why) throw new ScopeError(why);
    return { outside: info.go ? GO_PROGRAM : STATIC_EXECUTABLE };
  }
  if (!libscopeLoaded(target.pid)) return 'inject';
  const status = await controlRequest(target.pid, { req: 'status' }).catch((err: Error) => {
    throw new ScopeError(`pid ${target.pid} has libscope loaded but does not answer on its control socket (${err.message})`);
  });
  if (!status.ok) throw new ScopeError(`pid ${target.pid}: ${status.error}`);
  if (status['scoped'] === true) {
    const dest = (status['config'] as Record<string, string> | undefined)?.['SCOPE_EVENT_DEST'] ?? '';
    throw new ScopeError(
      `pid ${target.pid} is already scoped${dest ? ` (events to ${dest})` : ''}: 'scope update ${target.pid}' changes its config; 'scope detach ${target.pid}' then 'scope attach ${target.pid}' reattaches it`,
    );
  }
  return 'reattach';
}

/**
 * The target's /tmp, opened inside its root (/proc/<pid>/root) with no symbolic link followed on the
 * way: an O_PATH descriptor everything attach puts there is made and removed through.
 */
export function openTargetTmp(pid: number): number {
  try {
    return dirInRoot(pid, '/tmp', { symlinks: 'refuse' });
  } catch (err) {
    const e = err as InRootError;
    const what = e.component === '/tmp' ? 'its /tmp' : `${e.component ?? '/tmp'} in its root`;
    switch (e.code) {
      case 'ELOOP':
        if (e.link !== undefined) throw new ScopeError(`pid ${pid}: ${what} is a symbolic link (to ${e.link}); refusing to write through it`);
        break;
      case 'ESRCH':
        throw new ScopeError(`pid ${pid} exited before scope could attach to it`);
      case 'ENOENT':
        throw new ScopeError(`pid ${pid}: it has no /tmp (in its root) to hand it its config through`);
      case 'ENOTDIR':
        throw new ScopeError(`pid ${pid}: ${what} is not a directory`);
    }
    throw new ScopeError(`pid ${pid}: cannot open its /tmp: ${e.message}`);
  }
}

/** A new name for the target's /tmp: [the name in that directory, the path the target uses]. */
function targetTmpName(target: ProcessInfo, suffix: string): [string, string] {
  const name = `.scope-attach-${target.pid}-${randomBytes(12).toString('hex')}${suffix}`;
  return [name, `/tmp/${name}`];
}

/** Write the config file for the library in the target's /tmp; returns [its name there, its path]. */
function writeConfFile(tmp: number, target: ProcessInfo, pairs: ScopePairs): [string, string] {
  const [name, inTarget] = targetTmpName(target, '');
  let fd: number;
  try {
    fd = openInDir(tmp, name, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    throw new ScopeError(`pid ${target.pid}: cannot make its config file ${inTarget}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, formatEnvFile(pairs));
    if (uid() === 0 && target.uid !== 0) fchownSync(fd, target.uid, target.gid);
  } catch (err) {
    closeSync(fd);
    unlinkInDir(tmp, name);
    throw new ScopeError(`pid ${target.pid}: cannot write its config file ${inTarget}: ${(err as Error).message}`);
  }
  closeSync(fd);
  return [name, inTarget];
}

/** A session for the target: ours alone (0700, files 0600); the target gets descriptors, not paths. */
async function attachSession(o: AttachOptions): Promise<{ session: Session; pairs: ScopePairs }> {
  const t = o.target;
  const session = await createSession({
    home: scopeHome(o.env),
    args: t.args.length > 0 ? t.args : [t.comm],
    scopeVersion: SCOPE_VERSION,
    pid: t.pid,
    mode: 'attach',
  });
  const pairs = await writeSessionConfig(session, { yaml: o.yaml, flagPairs: o.flagPairs, env: o.env });
  return { session, pairs };
}

/** The handover of the session's files: opened here, sent to the target over a one-time socket. */
interface Handover {
  files: { tag: HandoverTag; fd: number }[];
  listenFd: number;
  /** The target's /tmp (openTargetTmp) and the socket's name in it. */
  tmp: number;
  name: string;
  inTarget: string;
}

/** The session files the settings send records to, opened for appending; null when none is. */
function openHandover(target: ProcessInfo, tmp: () => number, session: Session, pairs: ScopePairs): Handover | null {
  const wanted: [HandoverTag, string, string][] = [
    ['e', 'SCOPE_EVENT_DEST', session.paths.events],
    ['m', 'SCOPE_METRIC_DEST', session.paths.metrics],
    ['l', 'SCOPE_LOG_DEST', session.paths.log],
  ];
  const files: Handover['files'] = [];
  try {
    for (const [tag, key, path] of wanted) {
      if (pairs[key] !== `file://${path}`) continue;
      files.push({ tag, fd: openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW) });
    }
    if (files.length === 0) return null;
    const dir = tmp();
    const [name, inTarget] = targetTmpName(target, '.sock');
    const listenFd = handoverListen(dir, name, target.uid, target.gid);
    return { files, listenFd, tmp: dir, name, inTarget };
  } catch (err) {
    for (const f of files) closeSync(f.fd);
    if (err instanceof ScopeError) throw err;
    throw new ScopeError(`pid ${target.pid}: cannot prepare the session's files for it: ${(err as Error).message}`);
  }
}

function closeHandover(h: Handover | null): void {
  if (!h) return;
  for (const f of h.files) closeSync(f.fd);
  handoverClose(h.listenFd);
  try {
    unlinkInDir(h.tmp, h.name);
  } catch (err) {
    process.stderr.write(`scope-attach: warning: could not remove the handover socket ${h.inTarget} (in the target's root): ${(err as Error).message}\n`);
  }
}

/** Give the target its descriptors; why not, or null. Peers that were not the target are told. */
function sendHandover(h: Handover, pid: number): string | null {
  const r = handoverSend(h.listenFd, pid, h.files, 8000);
  for (const p of r.refused) {
    process.stderr.write(`scope-attach: warning: pid ${p.pid} (uid ${p.uid}) connected for pid ${pid}'s descriptors and was refused\n`);
  }
  return r.ok ? null : `its session's files could not be handed to it (${r.error ?? 'unknown'})`;
}

const VERIFY_MS = 6000;

/**
 * Proof that the target records: its process-start record in the session's events.json (when its
 * events go there), and no event or metric destination down, within VERIFY_MS. Why not, or null.
 */
async function verifyRecording(t: ProcessInfo, session: Session, pairs: ScopePairs): Promise<string | null> {
  const toSession = pairs['SCOPE_EVENT_DEST'] === `file://${session.paths.events}` && pairs['SCOPE_EVENT_ENABLE'] !== 'false';
  const until = Date.now() + VERIFY_MS;
  let why = 'no answer';
  for (;;) {
    const status = await controlRequest(t.pid, { req: 'status' }, 2000).catch((err: Error) => ({ ok: false as const, error: err.message }));
    if (!status.ok) {
      why = `its control socket: ${status.error}`;
    } else {
      const dests = ((status as unknown as ControlStatus).destinations ?? []).filter((d) => d.name === 'events' || d.name === 'metrics');
      const down = dests.find((d) => d.state === 'down');
      if (down) return `its ${down.name} destination ${down.url} is down: ${down.last_failure ?? 'no reason given'}`;
      const on = dests.filter((d) => d.state !== 'off');
      if (on.length === 0) return 'events and metrics are both off: it would record nothing';
      const waiting = on.find((d) => d.state !== 'connected');
      const started = !toSession || (await hasStartRecord(session.paths.events, t.pid));
      if (!waiting && started) return null;
      why = waiting ? `its ${waiting.name} destination ${waiting.url} is still ${waiting.state}` : `no process-start record in ${session.paths.events}`;
    }
    if (Date.now() >= until) return `${why} after ${VERIFY_MS / 1000} s`;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function errnoName(n: number): string {
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 12: 'ENOMEM', 13: 'EACCES', 22: 'EINVAL', 114: 'EALREADY' };
  return names[n] ?? `errno ${n}`;
}

/**
 * A JVM's TLS plaintext is taken by libscope as the JVM's agent, which only a JVM started under
 * scope loads (libscope/src/interpose/jvm.c): said when libscope is loaded into one now, not at its
 * start.
 */
function javaNotice(t: ProcessInfo): string | null {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${t.pid}/maps`, 'utf8');
  } catch {
    return null;
  }
  if (!/\/libjvm\.so$/m.test(maps)) return null;
  return "is a JVM started without scope: its TLS plaintext (Java's own TLS) is not seen after scope attach, only when it is started under scope (libscope becomes its JVMTI agent at its start); its files, network and plain HTTP are";
}

/** Attach (or reattach); resolves to the status record, or throws a ScopeError saying why not. */
export async function attach(o: AttachOptions): Promise<StatusRecord> {
  const t = o.target;
  const how = await preflight(t, o.env);
  const lib = o.librarypath ?? libscopePath(o.env);
  if (!existsSync(lib)) throw new ScopeError(notBuilt(lib));
  const { session, pairs } = await attachSession(o);
  const fail = async (why: string): Promise<never> => {
    rmSync(session.dir, { recursive: true, force: true });
    throw new ScopeError(why);
  };
  if (typeof how === 'object') return attachOutside(t, how.outside, lib, session, pairs, o.env, fail);
  if (pairs['SCOPE_PAYLOAD_ENABLE'] === 'true' && t.uid !== uid() && pairs['SCOPE_PAYLOAD_DIR'] === session.paths.payloads) {
    process.stderr.write(`scope-attach: warning: pid ${t.pid} runs as ${t.user}: it cannot create payload files in the session, which stays yours alone\n`);
  }
  // The target's /tmp, opened once when something goes there, closed when all is done.
  let tmpFd: number | undefined;
  const tmp = () => (tmpFd ??= openTargetTmp(t.pid));
  let handover: Handover | null = null;
  try {
    if (how === 'inject') tmp(); // its config file goes there: refuse before touching the process
    handover = openHandover(t, tmp, session, pairs);
  } catch (err) {
    if (tmpFd !== undefined) closeSync(tmpFd);
    await fail((err as Error).message);
  }
  // The socket is named in what the library reads, never in the session's own scope.env.
  const forTarget: ScopePairs = handover ? { ...pairs, SCOPE_ATTACH_SOCKET: handover.inTarget } : pairs;
  try {
    if (how === 'reattach') {
      const answer = await controlRequest(t.pid, { req: 'reattach', config: forTarget }).catch((err: Error) => fail(err.message));
      if (!answer.ok) await fail(`pid ${t.pid}: reattach refused: ${answer.error}`);
    } else {
      const dir = tmp();
      const [name, inTarget] = await Promise.resolve()
        .then(() => writeConfFile(dir, t, forTarget))
        .catch((err: Error) => fail(err.message));
      let result;
      try {
        result = inject(t.pid, lib, { symbol: 'scope_attach', arg: inTarget });
      } finally {
        // the library removes it once read; this is for when it never got there
        try {
          unlinkInDir(dir, name);
        } catch (err) {
          process.stderr.write(`scope-attach: warning: could not remove pid ${t.pid}'s config file ${inTarget}: ${(err as Error).message}\n`);
        }
      }
      if (!result.ok) {
        const gone = result.code === 'ESRCH' || result.code === 'EXITED';
        await fail(gone ? `pid ${t.pid} exited while scope was attaching to it (${result.message})` : `pid ${t.pid}: ${result.message}`);
      } else if (result.entryResult !== undefined && result.entryResult !== 0) {
        await fail(`pid ${t.pid}: libscope was loaded but refused to start: ${errnoName(-result.entryResult)}`);
      }
    }
    const why = (handover && sendHandover(handover, t.pid)) ?? (await verifyRecording(t, session, pairs));
    if (why) {
      // Said failed, it must be as if we never came: stop recording (libscope stays loaded, detached,
      // as after scope detach; attaching again reattaches it).
      const undone = await controlRequest(t.pid, { req: 'detach' }).then(
        (a) => a.ok,
        () => false,
      );
      await fail(`pid ${t.pid} cannot record: ${why}; ${undone ? 'detached it again' : `could not detach it again (scope detach ${t.pid})`}`);
    }
  } finally {
    closeHandover(handover);
    if (tmpFd !== undefined) closeSync(tmpFd);
  }
  const jvm = how === 'inject' ? javaNotice(t) : null; // a reattach: libscope was there from its start
  if (jvm) {
    process.stderr.write(`scope-attach: notice: pid ${t.pid} ${jvm}\n`);
    session.manifest.notices.push(`${t.exe ?? t.comm} ${jvm}`);
  }
  await writeManifest(session.paths, session.manifest);
  return { type: 'status', verb: how === 'inject' ? 'attach' : 'reattach', pid: t.pid, command: commandLine(t), ok: true, session: session.dir };
}

/** The session directory a scoped process writes into, from its config (its events' file). */
export function sessionDirOf(config: Record<string, string> | undefined): string | null {
  const dest = config?.['SCOPE_EVENT_DEST'];
  if (!dest?.startsWith('file:///') || !dest.endsWith('/events.json')) return null;
  const dir = dest.slice('file://'.length, -'/events.json'.length);
  return existsSync(join(dir, 'session.json')) ? dir : null;
}
