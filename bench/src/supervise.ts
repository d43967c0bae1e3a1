/**
 * supervise: what watching a program's system calls from outside costs, for the programs libscope
 * cannot be loaded into (static executables, Go's runtime: issue "beyond libc"). No budget: the
 * figures choose the mechanism. bench/c/sysloop.c, linked static, opens and closes a file N times
 * (watched calls) and then calls getppid N times (never watched); bench/c/supervise.c runs it under
 *   notif   seccomp user notification: the watched calls wait for a listener, which reads the path
 *           from the program's memory and lets the call go on; it never sees the result
 *   trace   ptrace with a SECCOMP_RET_TRACE filter: a stop at the entry (path read) and one at the
 *           exit (the result: the descriptor or the error), as `strace --seccomp-bpf` does
 * beside the plain program and `strace -f --seccomp-bpf` on the same calls (when strace is there).
 * Interleaved rounds, medians; the supervisor and the program pinned to one CPU (like libscope's
 * reporting thread with its app) unless --supervise-unpinned. Each supervised run is checked to
 * have stopped at every watched call (and, traced, at every exit).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from './common.js';
import { arg, median, pinCpu, r3, runAsync, which } from './common.js';

interface LoopOut {
  n: number;
  pair_us: number;
  getppid_us: number;
}

const WATCHED = 'open,openat,openat2,close,socket,connect,accept,accept4,unlink,unlinkat';

export async function supervise(c: Ctx): Promise<void> {
  const loop = join(c.buildDir, 'sysloop');
  const sup = join(c.buildDir, 'supervise');
  try {
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-static', '-o', loop, join(c.benchDir, 'c/sysloop.c')], { stdio: 'pipe' });
  } catch {
    process.stdout.write('supervise: skipped (needs a static libc to link bench/c/sysloop.c: apt-get install libc6-dev)\n');
    return;
  }
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', sup, join(c.benchDir, 'c/supervise.c')]);
  const n = arg('supervise-ops', 20_000);
  const runs = arg('supervise-runs', 5);
  const cpu = process.argv.includes('--supervise-unpinned') ? null : pinCpu();
  const file = join(c.work, 'supervised-file');
  writeFileSync(file, 'x\n');
  const pin = (cmd: string[]) => (cpu === null ? cmd : ['taskset', '-c', cpu, ...cmd]);
  const target = [loop, String(n), file];
  const cases: [key: string, label: string, cmd: string[]][] = [
    ['plain', 'plain', target],
    ['notif', 'seccomp user notification (entry only)', [sup, 'notif', ...target]],
    ['trace', 'ptrace + SECCOMP_RET_TRACE (entry and exit)', [sup, 'trace', ...target]],
  ];
  if (which('strace')) cases.push(['strace', 'strace -f --seccomp-bpf (same calls)', ['strace', '-f', '--seccomp-bpf', '-e', `trace=${WATCHED}`, '-o', '/dev/null', ...target]]);
  const got: Record<string, LoopOut[]> = Object.fromEntries(cases.map(([k]) => [k, []]));
  for (let round = 0; round < runs; round++) {
    for (const [key, label, cmd] of cases) {
      const [prog, ...args] = pin(cmd);
      const r = await runAsync(prog!, args, { env: c.plainEnv, timeoutMs: 300_000 });
      if (r.status !== 0) throw new Error(`supervise: ${label} exited ${r.status ?? r.signal}: ${r.stderr.slice(0, 400)}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as LoopOut;
      if (key === 'notif' || key === 'trace') {
        const seen = JSON.parse(r.stderr.trim().split('\n').pop()!) as { entries: number; exits: number };
        if (seen.entries < 2 * n || (key === 'trace' && seen.exits !== seen.entries))
          throw new Error(`supervise: ${label} saw ${seen.entries} entries and ${seen.exits} exits of ${2 * n} watched calls`);
      }
      got[key]!.push(out);
    }
  }
  const pair = (k: string) => median(got[k]!.map((o) => o.pair_us));
  const other = (k: string) => median(got[k]!.map((o) => o.getppid_us));
  const rows = cases.map(([k, label]) => ({
    key: k,
    label,
    pair_us: r3(pair(k)),
    added_per_watched_call_us: r3((pair(k) - pair('plain')) / 2),
    getppid_us: r3(other(k)),
    added_per_unwatched_call_us: r3(other(k) - other('plain')),
  }));
  c.latest['supervise'] = { ops: n, runs, pinned_cpu: cpu, rows };
  const w = Math.max(...rows.map((r) => r.label.length));
  process.stdout.write(
    `supervise: ${n} open+close pairs (watched) and ${n} getppid (not watched) in a static program, medians of ${runs} interleaved rounds, ` +
      `${cpu === null ? 'not pinned' : `supervisor and program pinned to CPU ${cpu}`}\n` +
      `  ${'mechanism'.padEnd(w)}  ${'µs a pair'.padStart(10)}  ${'+µs a watched call'.padStart(18)}  ${'µs a getppid'.padStart(12)}  ${'+µs unwatched'.padStart(13)}\n` +
      rows
        .map(
          (r) =>
            `  ${r.label.padEnd(w)}  ${r.pair_us.toFixed(2).padStart(10)}  ${r.added_per_watched_call_us.toFixed(2).padStart(18)}  ${r.getppid_us.toFixed(3).padStart(12)}  ${r.added_per_unwatched_call_us.toFixed(3).padStart(13)}`,
        )
        .join('\n') +
      '\n',
  );
}
