/**
 * The typed face of libscope's native side: where libscope.so is, and the addon's helpers.
 */
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const packageDir = fileURLToPath(new URL('../../', import.meta.url));
/** This machine's name for the binaries the package carries (prebuilds/linux-x64/…). */
export const platformName = `${process.platform}-${process.arch}`;
const builtDir = packageDir + 'build/Release/';
/**
 * Where libscope.so, the addon, scope-exec and scope-supervise are: build/Release when they were built
 * here (a checkout's `npm ci`, or an install that built from source: scripts/install.mjs), else the
 * binaries the package carries for this platform (prebuilds/<platform>-<arch>/, put there when it was
 * packed: scripts/prebuild.mjs).
 */
const releaseDir = existsSync(builtDir + 'libscope.so') ? builtDir : `${packageDir}prebuilds/${platformName}/`;

/** What an executable's ELF headers say about whether libscope can be preloaded into it. */
export type ElfInfo =
  | { elf: false }
  | {
      elf: true;
      bits: 32 | 64;
      type: 'exec' | 'dyn' | 'other';
      machine: number;
      /** Has a PT_DYNAMIC segment. */
      dynamic: boolean;
      /** The PT_INTERP path (the dynamic loader); null for a static executable. */
      interpreter: string | null;
      /** A Go program (go build's marks): Go's runtime calls the kernel without libc. */
      go: boolean;
      error?: string;
    };

/** Why an injection failed: the `code` of a failed {@link InjectResult}. */
export type InjectCode =
  /** no such process */
  | 'ESRCH'
  /** the kernel will not let this process trace it; the message names the cause */
  | 'EPERM'
  /** a static executable: no dynamic loader in it */
  | 'STATIC'
  /** no libc mapped in it */
  | 'NO_LIBC'
  /** its libc has no dlopen (nor __libc_dlopen_mode, nor a libdl loaded) */
  | 'NO_DLOPEN'
  /** its dlopen returned NULL; the message is its dlerror() */
  | 'DLOPEN_FAILED'
  /** the library loaded (and stays loaded) but has no function entry.symbol */
  | 'NO_ENTRY'
  /** it exited (or was killed), before or during the injection, or is a zombie */
  | 'EXITED'
  /** it did not stop, or a call did not return, within options.timeoutMs; the thread was restored */
  | 'TIMEOUT'
  /** not a 64-bit x86-64 process (or this machine is not one), or it runs with a shadow stack */
  | 'ARCH'
  /** the injected code faulted; the call was abandoned and the thread restored */
  | 'CRASHED'
  /** a call could not be made safely (SIGSEGV ignored, no usable stack); nothing was changed */
  | 'UNSAFE'
  /** anything else (an unexpected ptrace or /proc failure) */
  | 'ERROR';

/** What {@link inject} did. `handle` is dlopen's return value in the target, in hex. */
export type InjectResult = { ok: true; handle: string; entryResult?: number } | { ok: false; code: InjectCode; message: string };

/** A function of the injected library to call once it is loaded: `int symbol(const char *arg)`. */
export interface InjectEntry {
  symbol: string;
  arg: string;
}

export interface InjectOptions {
  /** Bound on the whole injection, stopping the thread included (default 10 000). */
  timeoutMs?: number;
}

/** What {@link handoverSend} did. `refused`: the peers that connected and were not the target. */
export interface HandoverResult {
  ok: boolean;
  refused: { pid: number; uid: number }[];
  error?: string;
}

/**
 * What {@link peerConnect} did: a connected descriptor and the credentials of the process that
 * listens there (SO_PEERCRED), or why not (`code`: ECONNREFUSED, ENOENT, EAGAIN (backlog full), …).
 */
export type PeerConnection = { fd: number; pid: number; uid: number; gid: number } | { error: string; code: string };

/**
 * How {@link openInRoot} and {@link dirInRoot} resolve a path inside a root. `symlinks`: 'in-root'
 * (the default) follows links, but inside the root (an absolute link and ".." start from the root,
 * never above it: openat2's RESOLVE_IN_ROOT); 'refuse' refuses any link on the way. The final
 * component is never followed, and magic links (/proc/<pid>/fd/…, /proc/<pid>/root) never are.
 * `resolver`: 'auto' uses openat2 and falls back to the walk where the kernel has none; 'walk' forces
 * the walk (one openat(O_NOFOLLOW|O_DIRECTORY) per component), which refuses every link.
 */
export interface InRootOptions {
  symlinks?: 'in-root' | 'refuse';
  resolver?: 'auto' | 'walk';
}

/**
 * What {@link openInRoot}, {@link dirInRoot}, {@link openInDir} throw: `code` the errno name (ELOOP: a
 * link was refused, EEXIST, ENOENT, ENOTDIR, EACCES, ESRCH: no such pid, …), `component` the path in
 * the root of the part that failed, `link` where that part points when it is a symbolic link.
 */
export interface InRootError extends Error {
  code: string;
  component: string;
  link?: string;
}

/** Which destination a handed descriptor is for: events, metrics, log. */
export type HandoverTag = 'e' | 'm' | 'l';

interface Addon {
  elfInfo(path: string): ElfInfo;
  inject(pid: number, libPath: string, entry?: InjectEntry, options?: InjectOptions): InjectResult;
  handoverListen(dirfd: number, name: string, uid: number, gid: number): number;
  openInRoot(root: number | string, path: string, flags: number, mode: number, options?: InRootOptions): number;
  dirInRoot(root: number | string, path: string, options?: InRootOptions): number;
  openInDir(dirfd: number, name: string, flags: number, mode: number): number;
  unlinkInDir(dirfd: number, name: string): boolean;
  openat2Available(): boolean;
  handoverSend(listenFd: number, pid: number, tags: string, fds: number[], timeoutMs: number): HandoverResult;
  handoverClose(fd: number): void;
  peerConnect(name: string): PeerConnection;
}

let addon: Addon | undefined;
function load(): Addon {
  if (addon === undefined) {
    const file = releaseDir + 'scope_addon.node';
    if (!existsSync(file)) throw new Error(notBuilt(file));
    addon = require(file) as Addon;
  }
  return addon;
}

/** The platforms this package carries binaries for (prebuilds/<platform>-<arch>/). */
function carried(): string {
  try {
    return readdirSync(`${packageDir}prebuilds`).join(' and ') || 'no platform';
  } catch {
    return 'no platform';
  }
}

/**
 * Why a binary of this package is missing, and what to do: in a checkout, build it; in an installed
 * package, this platform has no prebuilt binaries, so build them from the package's sources.
 */
export function notBuilt(file: string): string {
  if (!file.startsWith(packageDir)) return `${file}: no such file (named by SCOPE_LIB_PATH, --librarypath or the like)`;
  if (existsSync(packageDir + 'test')) return `${file} is not built (run npm ci, or npm run build)`;
  return (
    `${file} is missing: this package carries libscope for ${carried()}, not ${platformName}; build it from ` +
    `its sources with "node ${packageDir}scripts/install.mjs" (needs cmake and a C and C++ compiler), or ` +
    `install with npm install -g --allow-scripts=@scope/libscope, which runs that script`
  );
}

/** Absolute path of the built libscope.so (SCOPE_LIB_PATH overrides, for installs elsewhere). */
export function libscopePath(env: NodeJS.ProcessEnv = process.env): string {
  return env['SCOPE_LIB_PATH'] ?? releaseDir + 'libscope.so';
}

/** True when the library file exists where libscopePath says. */
export function libscopeBuilt(env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(libscopePath(env));
}

/**
 * The helper that execs a command given as bytes on its descriptor 3 (path, then argv, each ended by
 * a NUL), for arguments node cannot pass as strings; see exec/scope_exec.c. SCOPE_EXEC_PATH overrides.
 */
export function scopeExecPath(env: NodeJS.ProcessEnv = process.env): string {
  return env['SCOPE_EXEC_PATH'] ?? releaseDir + 'scope-exec';
}

/** scope-supervise: follows a program libscope cannot be loaded into from outside (libscope/supervise/). */
export function scopeSupervisePath(env: NodeJS.ProcessEnv = process.env): string {
  return env['SCOPE_SUPERVISE_PATH'] ?? releaseDir + 'scope-supervise';
}

/** What a program scope-supervise follows from outside is, in the notices of `scope run` and `scope attach`. */
export const STATIC_EXECUTABLE = 'is a static executable';
export const GO_PROGRAM = 'is a Go program';

/**
 * What scope-supervise sees of a program it follows from outside (GO_PROGRAM: its crypto/tls
 * plaintext is taken at breakpoints too, supervise/gotls.c; STATIC_EXECUTABLE), for those notices.
 */
export function seenFromOutside(kind: string): string {
  return kind === GO_PROGRAM
    ? 'its files, connections, DNS queries, processes and the plaintext of its TLS connections (crypto/tls, Go 1.18 and later) are seen, not its other reads and writes'
    : 'its files, connections, DNS queries and processes are seen, not its reads and writes';
}

/** Directory of the C test programs built from libscope/test/*.c. */
export const testProgramDir = releaseDir + 'test/';

/** Read an executable's ELF identity and program headers. Throws if the file cannot be opened. */
export function elfInfo(path: string): ElfInfo {
  return load().elfInfo(path);
}

/**
 * Load the shared library `libPath` into running process `pid` (x86-64) by making the process call
 * its own dlopen(libPath, RTLD_NOW), found in the libc it has mapped; then, with `entry`, call
 * `int entry.symbol(const char *entry.arg)` in that library and return its value as `entryResult`.
 * `libPath` is opened by the target: give a path that is absolute in its mount namespace.
 *
 * One thread (the main one) is stopped for the calls, with ptrace; the others keep running. Its
 * registers, FP state, signal mask and the stack bytes used are restored exactly, so a syscall it
 * was blocked in is restarted as if nothing happened; signals that arrive meanwhile are delivered
 * after. Synchronous: blocks the event loop for the injection (milliseconds; at most timeoutMs).
 * Bad argument types throw; everything about the target is a result.
 */
export function inject(pid: number, libPath: string, entry?: InjectEntry, options?: InjectOptions): InjectResult {
  return load().inject(pid, libPath, entry, options);
}

/**
 * Listen on a new unix socket named `name` in the directory `dirfd` (a {@link dirInRoot}
 * descriptor; bind fails if the name exists), owned by uid:gid, mode 0600: the one-time socket a
 * handover uses (libscope/src/control/handover.h). The node bind made is checked (a socket of ours, one
 * link) before it is given away, and no path is followed. Returns its descriptor; throws with the
 * failed step and errno text. The caller removes it ({@link unlinkInDir}) and closes the descriptor.
 */
export function handoverListen(dirfd: number, name: string, uid: number, gid: number): number {
  return load().handoverListen(dirfd, name, uid, gid);
}

/**
 * Open `path` inside a root, never leaving it: `root` is a pid (its /proc/<pid>/root: its chroot or
 * container) or a directory path of ours. `flags` and `mode` are open(2)'s (O_NOFOLLOW and O_CLOEXEC
 * are always added). Returns the descriptor (the caller closes it); throws an {@link InRootError}.
 */
export function openInRoot(root: number | string, path: string, flags: number, mode: number, options?: InRootOptions): number {
  return load().openInRoot(root, path, flags, mode, options);
}

/**
 * An O_PATH descriptor of the directory `path` inside a root, resolved as {@link openInRoot} does;
 * the directory itself must not be a link. For {@link openInDir}, {@link unlinkInDir} and
 * {@link handoverListen}; it keeps naming that directory after the process is gone.
 */
export function dirInRoot(root: number | string, path: string, options?: InRootOptions): number {
  return load().dirInRoot(root, path, options);
}

/** Open the one plain name `name` in the directory `dirfd`, never following it (O_NOFOLLOW). */
export function openInDir(dirfd: number, name: string, flags: number, mode: number): number {
  return load().openInDir(dirfd, name, flags, mode);
}

/** Remove the plain name `name` from the directory `dirfd` (unlinkat): true, or false if it was gone. */
export function unlinkInDir(dirfd: number, name: string): boolean {
  return load().unlinkInDir(dirfd, name);
}

/** Whether this kernel has openat2 (Linux ≥ 5.6, not filtered): else every lookup in a root walks. */
export function openat2Available(): boolean {
  return load().openat2Available();
}

/**
 * Wait (at most timeoutMs, blocking the event loop) for process `pid` to connect to the socket
 * `listenFd` and send it `fds` (descriptors of this process), tagged: one {@link HandoverTag} each.
 * A peer whose SO_PEERCRED pid is not `pid` is closed at once, given nothing, and listed in
 * `refused`.
 */
export function handoverSend(listenFd: number, pid: number, files: { tag: HandoverTag; fd: number }[], timeoutMs: number): HandoverResult {
  return load().handoverSend(
    listenFd,
    pid,
    files.map((f) => f.tag).join(''),
    files.map((f) => f.fd),
    timeoutMs,
  );
}

/** Close a descriptor handoverListen returned. */
export function handoverClose(fd: number): void {
  load().handoverClose(fd);
}

/**
 * Connect (without blocking) to the abstract unix socket `@name` (`name` without the '@', its exact
 * length) and say who listens there. The caller owns the descriptor: it wraps it (`new
 * net.Socket({ fd })`) or closes it with {@link handoverClose}.
 */
export function peerConnect(name: string): PeerConnection {
  return load().peerConnect(name);
}

/** The control client's peer check (`useControlPeerCheck` of @scope/core) made of the two above. */
export const controlPeerCheck = { peerConnect, close: handoverClose };
