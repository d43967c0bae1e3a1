/**
 * slowdest: a destination that is slow or dead must not slow the app. The 1 M one-byte-write
 * program (libscope/test/manywrites.c, stdout to /dev/null, every write a console event) runs
 * plain, scoped with file destinations, and scoped with tcp:// event and metric destinations that
 * (a) refuse (a closed port), (b) accept and never read, (c) never complete the connect (a
 * listener whose accept queue is full), and, as root, (d) a host name whose lookup is never
 * answered. Interleaved runs, medians; each tcp case ÷ the file case (budget ≤ 1.10). Runs are spawned asynchronously so the receivers here keep their event loop.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';

export interface SlowdestResult {
  runs: number;
  median_ms: Record<string, number>;
  ratio_to_file: Record<string, number>;
}

interface Case {
  env: NodeJS.ProcessEnv;
  /** the program run through this (a mount namespace with our resolv.conf), or directly */
  wrap?: string[];
}

function timeRun(prog: string, c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const [cmd, ...args] = c.wrap ? [...c.wrap, prog] : [prog];
    const child = spawn(cmd!, args, { env: c.env, stdio: ['ignore', 'ignore', 'pipe'] });
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

const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));

/** python3 (libscope/test/fullbacklog.py): a listener whose accept queue is full. */
function fullBacklog(benchDir: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn('python3', [join(benchDir, '../libscope/test/fullbacklog.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (b: Buffer) => resolve({ port: Number(b.toString().trim()), child }));
    child.on('error', reject);
  });
}

async function silentDns(work: string): Promise<{ resolv: string; sock: dgram.Socket }> {
  // an address of its own on the loopback network, so two runs (a test, a bench) never collide
  const ip = `127.77.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(53, ip, () => resolve());
  });
  const resolv = join(work, 'slowdest-resolv.conf');
  writeFileSync(resolv, `nameserver ${ip}\noptions timeout:5 attempts:2\n`);
  return { resolv, sock };
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
  const full = await fullBacklog(opts.benchDir);

  const scoped = (dest: (what: string) => string): NodeJS.ProcessEnv => ({
    ...opts.plainEnv,
    LD_PRELOAD: opts.lib,
    SCOPE_EVENT_DEST: dest('events'),
    SCOPE_METRIC_DEST: dest('metrics'),
    SCOPE_LOG_DEST: `file://${join(opts.work, 'slowdest.log')}`,
  });
  const tcp = (port: number) => () => `tcp://127.0.0.1:${port}`;
  const fileEnv = scoped((w) => `file://${join(opts.work, `slowdest-${w}.json`)}`);
  const cases: Record<string, Case> = {
    plain: { env: opts.plainEnv },
    file: { env: fileEnv },
    tcp_refused: { env: scoped(tcp(refusedPort)) },
    tcp_never_reads: { env: scoped(tcp(deafPort)) },
    tcp_never_completes: { env: scoped(tcp(full.port)) },
  };
  // (d) a host name whose lookup is never answered: a silent name server on 127.77.x.y:53 and a
  // resolv.conf naming it, bind-mounted in a mount namespace of the program's own (root only).
  // Compared with the file case run through the same wrapper.
  const dns = process.getuid?.() === 0 ? await silentDns(opts.work) : null;
  if (dns) {
    // only the measured program is scoped: unshare, sh and mount would each pay their own
    // destination's start and exit (README: a process that ends while its connect is pending)
    const wrap = ['unshare', '-m', 'sh', '-c', `mount --bind ${dns.resolv} /etc/resolv.conf && LD_PRELOAD=${opts.lib} exec "$0"`];
    const unpreloaded = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'LD_PRELOAD'));
    cases['file_in_namespace'] = { env: unpreloaded(fileEnv), wrap };
    cases['tcp_name_never_resolves'] = { env: unpreloaded(scoped(() => 'tcp://never.answered.scope.test:9109')), wrap };
  } else {
    console.error('slowdest: not root, so no case of a name that never resolves (it needs port 53 and a mount namespace)');
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  try {
    for (let i = -1; i < opts.runs; i++)
      for (const [name, c] of Object.entries(cases)) {
        const ms = await timeRun(prog, c);
        if (i >= 0) times[name]!.push(ms);
      }
  } finally {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => deaf.close(() => r()));
    full.child.stdin!.end();
    dns?.sock.close();
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(median(v).toFixed(1))]));
  const base = (k: string) => (k === 'tcp_name_never_resolves' ? med['file_in_namespace']! : med['file']!);
  const ratio = Object.fromEntries(
    Object.keys(cases)
      .filter((k) => k !== 'file' && k !== 'file_in_namespace')
      .map((k) => [k, Number((med[k]! / base(k)).toFixed(3))]),
  );
  return { runs: opts.runs, median_ms: med, ratio_to_file: ratio };
}
