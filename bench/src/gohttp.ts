/**
 * A Go HTTP server under wrk, plain and followed from outside (scope-supervise, every event on):
 * what scope costs a Go program. The server (net/http, 1 KiB answer; the tests' Go program in its
 * `page` mode, test/apps/programs/gotls) is built here with Debian's Go,
 * CGO_ENABLED=0 (static); it and its supervisor run on CPU 0, wrk on the last CPU. Three loads: 16
 * keep-alive connections (the watched calls are only each connection's accept and close), a new
 * connection for every request (`Connection: close`: an accept, getsockopt and close watched per
 * request), and 16 keep-alive connections over TLS (https, a certificate the server makes at its
 * start: each request's Read and Write of crypto/tls stop at the supervisor's breakpoints, three
 * stops a request, libscope/supervise/gotls.c). Medians of interleaved runs; scoped ÷ plain. The
 * scoped run must have recorded the connections (net.open events), and over TLS the requests
 * (http events), or the bench fails.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { Ctx } from './common.js';
import { arg, canConnect, clearRecords, freePort, killGroup, median, mustHaveRecorded, needs, pinned, r1, r3, runAsync, scoped, sleep, spawnTracked } from './common.js';

/** The Go program of the tests and the bench (test/apps/programs/gotls: its `page` mode), built
 * here with Debian's Go, CGO_ENABLED=0 (static). */
function build(c: Ctx): string {
  const dir = join(c.work, 'gohttp');
  cpSync(join(c.benchDir, '..', 'test', 'apps', 'programs', 'gotls'), dir, { recursive: true });
  const exe = join(dir, 'server');
  execFileSync('go', ['build', '-o', exe, '.'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CGO_ENABLED: '0', GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '-modcacherw' },
  });
  return exe;
}

async function one(exe: string, port: number, env: NodeJS.ProcessEnv, wrap: string[], secs: number, close: boolean, tls: boolean): Promise<number> {
  const [cmd, ...args] = pinned(0, [...wrap, exe, 'page', String(port), ...(tls ? ['tls'] : [])]);
  const srv = spawnTracked(cmd as string, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  srv.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  try {
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (srv.exitCode !== null || Date.now() > deadline) throw new Error(`the Go server did not accept: ${err}`);
      await sleep(20);
    }
    const client = ['wrk', '-t1', '-c16', `-d${secs}s`, ...(close ? ['-H', 'Connection: close'] : []), `${tls ? 'https' : 'http'}://127.0.0.1:${port}/`];
    const [ccmd, ...cargs] = pinned(availableParallelism() - 1, client);
    const r = await runAsync(ccmd as string, cargs, { timeoutMs: secs * 1000 + 30_000 });
    const m = /Requests\/sec:\s+([0-9.]+)/.exec(r.stdout);
    if (!m) throw new Error(`wrk: ${r.stdout}${r.stderr}`);
    if (/Non-2xx or 3xx responses/.test(r.stdout)) throw new Error(`wrk: ${r.stdout}`);
    return Number(m[1]);
  } finally {
    await killGroup(srv);
  }
}

/** `--only gohttp`. */
export async function goHttp(c: Ctx): Promise<void> {
  const skip = needs([
    ['go', 'golang-go'],
    ['wrk', 'wrk'],
  ]);
  if (skip) {
    process.stdout.write(`Go HTTP server: ${skip}\n`);
    return;
  }
  const supervisor = join(dirname(c.lib), 'scope-supervise');
  if (!existsSync(supervisor)) throw new Error(`${supervisor} is not built`);
  const runs = arg('gohttp-runs', 5);
  const secs = arg('gohttp-secs', 5);
  const exe = build(c);
  const s = scoped(c, 'gohttp', 'all_events');
  const env = { ...s.env };
  delete env['LD_PRELOAD']; // the supervisor must not be preloaded itself
  const wrap = [supervisor, '--lib', c.lib, '--'];
  const out: Record<string, unknown> = {};
  const loads = [
    { key: 'keep_alive', label: '16 keep-alive connections', close: false, tls: false },
    { key: 'connection_per_request', label: 'a new connection per request', close: true, tls: false },
    { key: 'tls_keep_alive', label: '16 keep-alive connections over TLS', close: false, tls: true },
  ];
  for (const { key, label, close, tls } of loads) {
    const rps: Record<'plain' | 'scoped', number[]> = { plain: [], scoped: [] };
    const port = await freePort();
    await one(exe, port, c.plainEnv, [], secs, close, tls); // warm up
    for (let i = 0; i < runs; i++) {
      rps.plain.push(await one(exe, port, c.plainEnv, [], secs, close, tls));
      clearRecords(s);
      rps.scoped.push(await one(exe, port, env, wrap, secs, close, tls));
      const rec = await mustHaveRecorded(s, 'Go HTTP server', tls ? 'http' : 'net');
      if ((rec.events['net'] ?? 0) < 16) throw new Error(`Go HTTP server: only ${rec.events['net'] ?? 0} net events recorded`);
      clearRecords(s);
    }
    const plain = median(rps.plain);
    const sc = median(rps.scoped);
    const ratio = sc / plain;
    out[key] = {
      runs,
      seconds: secs,
      client: `wrk -t1 -c16${close ? ' -H "Connection: close"' : ''}${tls ? ' https://' : ''}`,
      requests_per_sec_median: { plain: r1(plain), scoped: r1(sc) },
      ratio: r3(ratio),
    };
    process.stdout.write(
      `Go HTTP server (static, net/http), ${label} (${secs} s), median of ${runs}: plain ${plain.toFixed(0)}, followed from outside with every event on ${sc.toFixed(0)} req/s (${ratio.toFixed(3)})\n`,
    );
  }
  c.latest['gohttp'] = out;
}
