/**
 * Arguments as bytes, from the command line to the command. node decodes its argv as UTF-8 (bytes
 * that are not become U+FFFD) and encodes a child's arguments as UTF-8, so `scope run -- cat
 * $'\xff.txt'` would open "\xef\xbf\xbd.txt". The bytes are read back from /proc/self/cmdline, and a
 * command whose path or arguments are not UTF-8 is started through libscope's scope-exec helper,
 * which takes them as bytes on its descriptor 3 and execs them (exec/scope_exec.c).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { Writable } from 'node:stream';
import { scopeExecPath } from '@scope/libscope';

/**
 * The bytes of `args`, which must be the last entries of this process's command line (a suffix of
 * process.argv, as the arguments after `--` are). When they are not (a caller that passed other
 * strings), or the command line cannot be read, the strings' own UTF-8 bytes.
 */
export function argvBytes(args: string[], cmdlineFile = '/proc/self/cmdline'): Buffer[] {
  const own = args.map((a) => Buffer.from(a, 'utf8'));
  if (args.length === 0) return own;
  let cmdline: Buffer;
  try {
    cmdline = readFileSync(cmdlineFile);
  } catch {
    return own;
  }
  // each argument ends with a NUL
  const entries: Buffer[] = [];
  for (let start = 0; start < cmdline.length; ) {
    let end = cmdline.indexOf(0, start);
    if (end < 0) end = cmdline.length;
    entries.push(cmdline.subarray(start, end));
    start = end + 1;
  }
  if (entries.length < args.length) return own;
  const tail = entries.slice(entries.length - args.length);
  // node decoded each entry exactly as Buffer#toString does: the same text means the same argument
  return tail.every((raw, i) => raw.toString('utf8') === args[i]) ? tail.map((b) => Buffer.from(b)) : own;
}

/** True when every one is valid UTF-8, so node can pass them as strings unchanged. */
export function allUtf8(bytes: Buffer[]): boolean {
  return bytes.every((b) => isUtf8(b));
}

/**
 * Start `file` with `argv` (argv[0] included) as bytes, through scope-exec. `env` is the command's
 * environment; its LD_PRELOAD is handed to the helper as SCOPE_EXEC_LD_PRELOAD, so that the helper
 * is not scoped itself and the command is. The child's pid is the command's (the helper execs).
 */
export function spawnBytes(file: Buffer, argv: Buffer[], env: NodeJS.ProcessEnv, stdio: StdioOptions): ChildProcess {
  const helperEnv: NodeJS.ProcessEnv = { ...env };
  delete helperEnv['SCOPE_EXEC_LD_PRELOAD'];
  if (env['LD_PRELOAD'] !== undefined) {
    helperEnv['SCOPE_EXEC_LD_PRELOAD'] = env['LD_PRELOAD'];
    delete helperEnv['LD_PRELOAD'];
  }
  const three = typeof stdio === 'string' ? [stdio, stdio, stdio] : [...stdio].slice(0, 3);
  const child = spawn(scopeExecPath(env), [], { argv0: 'scope-exec', env: helperEnv, stdio: [...three, 'pipe'] });
  const nul = Buffer.alloc(1);
  const block = Buffer.concat([file, nul, ...argv.flatMap((a) => [a, nul])]);
  const channel = child.stdio[3] as Writable | null;
  // A helper that died first (its error is the child's) closes the other end: nothing to add.
  channel?.on('error', () => {});
  channel?.end(block);
  return child;
}
