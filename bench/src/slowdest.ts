/**
 * slowdest: a destination that is slow or dead must not slow the app. The 1 M one-byte-write
 * program (libscope/test/manywrites.c, stdout to /dev/null, every write a console event) runs
 * plain, scoped with file destinations, and scoped with tcp:// event and metric destinations that
 * (a) refuse (a closed port), (b) accept and never read, (c) never complete the connect (a
 * listener whose accept queue is full). Interleaved runs, medians; each tcp case ÷ the file case
 * (budget ≤ 1.10). Runs are spawned asynchronously so the receivers here keep their event loop.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';

export interface SlowdestResult {
  runs: number;
  median_ms: Record<string, number>;
  ratio_to_file: Record<string, number>;
}

function timeRun(prog: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(prog, [], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (status !== 0 || err !== '') reject(new Error(`manywrites exited ${status}: ${err}`));
      else resolve(ms);
    });
  });
}

const listen = (s: net.Server) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));

/** python3: a listener with backlog 0 whose queue is filled by connections it never accepts. */
function fullBacklog(): Promise<{ port: number; child: ChildProcess }> {
  const py = `
import socket, sys
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(0)
held = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(l.getsockname())
    except BlockingIOError: pass
    held.append(c)
print(l.getsockname()[1], flush=True)
sys.stdin.read()
`;
  const child = spawn('python3', ['-c', py], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (b: Buffer) => resolve({ port: Number(b.toString().trim()), child }));
    child.on('error', reject);
  });
}

export async function slowdest(opts: { benchDir: string; buildDir: string; work: string; lib: string; runs: number; plainEnv: NodeJS.ProcessEnv }): Promise<SlowdestResult> {
  const prog = join(opts.buildDir, 'manywrites');
  execFileSync('cc', ['-O2', '-o', prog, join(opts.benchDir, '../libscope/test/manywrites.c')]);

  const refusedServer = net.createServer();
  const refusedPort = await listen(refusedServer);
  await new Promise<void>((r) => refusedServer.close(() => r()));
  const held: net.Socket[] = [];
  const deaf = net.createServer((s) => {
    s.pause();
    held.push(s);
  });
  const deafPort = await listen(deaf);
  const full = await fullBacklog();

  const scoped = (dest: (what: string) => string): NodeJS.ProcessEnv => ({
    ...opts.plainEnv,
    LD_PRELOAD: opts.lib,
    SCOPE_EVENT_DEST: dest('events'),
    SCOPE_METRIC_DEST: dest('metrics'),
    SCOPE_LOG_DEST: `file://${join(opts.work, 'slowdest.log')}`,
  });
  const tcp = (port: number) => () => `tcp://127.0.0.1:${port}`;
  const cases: Record<string, NodeJS.ProcessEnv> = {
    plain: opts.plainEnv,
    file: scoped((w) => `file://${join(opts.work, `slowdest-${w}.json`)}`),
    tcp_refused: scoped(tcp(refusedPort)),
    tcp_never_reads: scoped(tcp(deafPort)),
    tcp_never_completes: scoped(tcp(full.port)),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  try {
    for (let i = -1; i < opts.runs; i++)
      for (const [name, env] of Object.entries(cases)) {
        const ms = await timeRun(prog, env);
        if (i >= 0) times[name]!.push(ms);
      }
  } finally {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => deaf.close(() => r()));
    full.child.stdin!.end();
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(median(v).toFixed(1))]));
  const ratio = Object.fromEntries(
    Object.keys(cases).filter((k) => k !== 'file').map((k) => [k, Number((med[k]! / med['file']!).toFixed(3))]),
  );
  return { runs: opts.runs, median_ms: med, ratio_to_file: ratio };
}
