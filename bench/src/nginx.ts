/**
 * nginx under load: one nginx (no master, one worker) pinned to CPU 0, the load generator pinned to
 * the last CPU, keep-alive connections on loopback. Three sites: HTTP/1.1 (wrk), HTTP/1.1 over TLS
 * (nginx `listen … ssl` with a self-signed certificate made here by openssl; wrk https://) and
 * HTTP/2 over TLS (nginx `ssl http2`; h2load -c16 -m10). Each as plain, scoped with metrics only and
 * scoped with every event type on; medians of interleaved runs; scoped ÷ plain.
 *
 * nginxRun is also what the memory, SCOPE_FILTER and peers parts use: it can run nginx under a
 * tracer (the tracer runs nginx; taskset keeps the pin), read nginx's memory while the load runs,
 * and it always stops nginx with SIGQUIT and waits for nginx and the tracer to be gone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Ctx, Scoped } from './common.js';
import {
  arg,
  canConnect,
  clockTicks,
  clearRecords,
  freePort,
  hasLib,
  killGroup,
  median,
  memoryOf,
  mustHaveRecorded,
  needs,
  pinned,
  r1,
  r3,
  runAsync,
  scoped,
  sleep,
  spawnTracked,
  threadTicks,
} from './common.js';

export type Proto = 'http' | 'https' | 'h2';

export interface Site {
  proto: Proto;
  dir: string;
  port: number;
  url: string;
  conf: string;
  pidFile: string;
}

/** A self-signed certificate for 127.0.0.1, made once per bench in the work directory. */
function certificate(c: Ctx): { cert: string; key: string } {
  const dir = join(c.work, 'tls');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!existsSync(cert)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1'], {
      stdio: 'ignore',
    });
  }
  return { cert, key };
}

/** What a part needs for a protocol: null when all is there, else the skip line. */
export function nginxNeeds(proto: Proto): string | null {
  const tools: [string, string][] = [['nginx', 'nginx-light']];
  if (proto !== 'http') tools.push(['openssl', 'openssl']);
  tools.push(proto === 'h2' ? ['h2load', 'nghttp2-client'] : ['wrk', 'wrk']);
  return needs(tools);
}

/** An nginx prefix directory with its configuration and a 1 KiB page, on a free port. */
export async function makeSite(c: Ctx, proto: Proto, tag: string): Promise<Site> {
  const dir = join(c.work, `nginx-${tag}`);
  mkdirSync(join(dir, 'html'), { recursive: true });
  writeFileSync(join(dir, 'html', 'index.html'), '<p>hello from nginx</p>\n'.repeat(20));
  const port = await freePort();
  let listen = `listen 127.0.0.1:${port};`;
  if (proto !== 'http') {
    const { cert, key } = certificate(c);
    listen = `listen 127.0.0.1:${port} ssl${proto === 'h2' ? ' http2' : ''}; ssl_certificate ${cert}; ssl_certificate_key ${key};`;
    // h2load does not reconnect when nginx ends a connection after keepalive_requests (1000) and
    // counts the streams in flight then as failed: one connection each for the whole run
    if (proto === 'h2') listen += ' keepalive_requests 100000000;';
  }
  const pidFile = join(dir, 'nginx.pid');
  const conf = [
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${pidFile};`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 1024; }',
    `http { access_log off; server { ${listen} root ${dir}/html; location / { } } }`,
  ].join('\n');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const scheme = proto === 'http' ? 'http' : 'https';
  return { proto, dir, port, url: `${scheme}://127.0.0.1:${port}/index.html`, conf: join(dir, 'nginx.conf'), pidFile };
}

export interface NginxRunOpts {
  env: NodeJS.ProcessEnv;
  /** a tracer that runs nginx, e.g. ['strace', '-f', '-o', '/dev/null'] */
  wrap?: string[];
  secs: number;
  /** how long nginx may take to accept (a tracer slows its start) */
  startTimeoutMs?: number;
  /** read nginx's memory this many seconds into the load */
  sampleAtSecs?: number;
  /** libscope must (true) or must not (false) be mapped in nginx when sampled */
  expectLib?: boolean;
}

export interface NginxRunResult {
  rps: number;
  /** wrk's socket errors (connect, read, write, timeout) or h2load's errored + timeout */
  errors: number;
  memory?: { rss_kib: number; pss_kib: number | null };
  /** nginx did not stop within its time after SIGQUIT and was killed */
  forced_stop: boolean;
  /** CPU µs per request during the load: nginx's own thread, and libscope's reporting thread (0 plain) */
  cpu_us_per_req?: { app: number; libscope: number };
}

function parseClient(proto: Proto, out: string): { rps: number; errors: number } {
  if (proto === 'h2') {
    const rps = /finished in [0-9.]+m?s, ([0-9.]+) req\/s/.exec(out);
    const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
    if (!rps || !req) throw new Error(`h2load: ${out}`);
    if (!/Application protocol: h2/.test(out)) throw new Error(`h2load did not speak h2: ${out}`);
    if (Number(req[4]) === 0 || Number(req[5]) > 0) throw new Error(`h2load: ${req[0]}`);
    return { rps: Number(rps[1]), errors: Number(req[6]) + Number(req[7]) };
  }
  const m = /Requests\/sec:\s+([0-9.]+)/.exec(out);
  if (!m) throw new Error(`wrk: ${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk: ${non2xx[1]} responses were not 2xx: ${out}`);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return { rps: Number(m[1]), errors: se ? se.slice(1).reduce((s, x) => s + Number(x), 0) : 0 };
}

/** One nginx start, one load run, one clean stop. */
export async function nginxRun(site: Site, o: NginxRunOpts): Promise<NginxRunResult> {
  rmSync(site.pidFile, { force: true });
  const [cmd, ...args] = pinned(0, [...(o.wrap ?? []), 'nginx', '-c', site.conf, '-p', site.dir]);
  const ngx = spawnTracked(cmd as string, args, { env: o.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ngx.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const why = () => {
    const log = join(site.dir, 'error.log');
    return `${stderr}${existsSync(log) ? readFileSync(log, 'utf8').slice(-1000) : ''}`;
  };
  let forced = false;
  let nginxPid: number | undefined;
  let result: Omit<NginxRunResult, 'forced_stop'>;
  try {
    const deadline = Date.now() + (o.startTimeoutMs ?? 10_000);
    while (!(await canConnect(site.port))) {
      if (ngx.exitCode !== null || ngx.signalCode !== null) throw new Error(`nginx (${site.proto}) exited at start: ${why()}`);
      if (Date.now() > deadline) throw new Error(`nginx (${site.proto}) did not accept within ${o.startTimeoutMs ?? 10_000} ms${o.wrap ? ` under ${o.wrap[0]}` : ''}: ${why()}`);
      await sleep(50);
    }
    for (let i = 0; i < 100 && !existsSync(site.pidFile); i++) await sleep(10);
    nginxPid = existsSync(site.pidFile) ? Number(readFileSync(site.pidFile, 'utf8').trim()) : ngx.pid;
    const cpus = availableParallelism();
    const client = site.proto === 'h2' ? ['h2load', '-t1', '-c16', '-m10', '-D', String(o.secs), site.url] : ['wrk', '-t1', '-c16', `-d${o.secs}s`, site.url];
    const [ccmd, ...cargs] = pinned(cpus - 1, client);
    let memory: NginxRunResult['memory'];
    let sampleErr: string | undefined;
    const sampler =
      o.sampleAtSecs === undefined
        ? undefined
        : setTimeout(() => {
            try {
              if (o.expectLib !== undefined && hasLib(nginxPid as number) !== o.expectLib) sampleErr = `libscope ${o.expectLib ? 'is not' : 'is'} mapped in nginx`;
              memory = memoryOf(nginxPid as number);
            } catch (e) {
              sampleErr = String(e);
            }
          }, o.sampleAtSecs * 1000);
    const before = threadTicks(nginxPid as number);
    const r = await runAsync(ccmd as string, cargs, { timeoutMs: o.secs * 1000 + 30_000 });
    const after = threadTicks(nginxPid as number);
    if (sampler) clearTimeout(sampler);
    if (r.timedOut) throw new Error(`${client[0]} did not finish in ${o.secs + 30} s`);
    const parsed = parseClient(site.proto, r.stdout + r.stderr);
    if (o.sampleAtSecs !== undefined && memory === undefined) throw new Error(`nginx memory not read: ${sampleErr ?? 'the load ended first'}`);
    if (sampleErr !== undefined) throw new Error(`nginx memory: ${sampleErr}`);
    // where the CPU went, per request: nginx's thread (tid = its pid) and any other (libscope's)
    const hz = clockTicks();
    const reqs = parsed.rps * o.secs;
    let app = 0;
    let lib = 0;
    for (const [tid, t] of after) {
      const used = (t.ticks - (before.get(tid)?.ticks ?? 0)) / hz;
      if (tid === nginxPid) app += used;
      else lib += used;
    }
    const cpu = reqs > 0 ? { app: r3((app * 1e6) / reqs), libscope: r3((lib * 1e6) / reqs) } : undefined;
    result = { ...parsed, ...(memory ? { memory } : {}), ...(cpu ? { cpu_us_per_req: cpu } : {}) };
  } finally {
    // SIGQUIT: nginx's graceful stop; a tracer exits with its tracee. Then nothing of the group may be left.
    const closed = new Promise<boolean>((resolve) => {
      if (ngx.exitCode !== null || ngx.signalCode !== null) resolve(true);
      else ngx.once('close', () => resolve(true));
    });
    try {
      process.kill(nginxPid ?? (ngx.pid as number), 'SIGQUIT');
    } catch {
      /* already gone */
    }
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([closed, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), o.wrap ? 60_000 : 15_000)))]);
    clearTimeout(timer);
    if (!stopped) {
      forced = true;
      process.stdout.write(`  warning: nginx${o.wrap ? ` under ${o.wrap[0]}` : ''} did not stop after SIGQUIT; killed\n`);
    }
    await killGroup(ngx);
    if (ngx.pid !== undefined) {
      try {
        process.kill(-ngx.pid, 'SIGKILL'); // anything of the group still there (a tracer's helper)
      } catch {
        /* none: the usual case */
      }
    }
  }
  return { ...result, forced_stop: forced };
}

interface ProtoResult {
  rps: Record<string, number[]>;
  cpu: Record<string, { app: number; libscope: number }[]>;
  httpEvents: number[];
  errors: number;
}

/** `--only nginx`: the three sites × plain, metrics only, all events. */
export async function nginxBench(c: Ctx): Promise<void> {
  const runs = arg('nginx-runs', 5);
  const secs = arg('nginx-secs', 5);
  const protos: Proto[] = [];
  for (const p of ['http', 'https', 'h2'] as Proto[]) {
    const skip = nginxNeeds(p);
    const name = p === 'http' ? 'nginx HTTP/1.1' : p === 'https' ? 'nginx HTTP/1.1 over TLS' : 'nginx HTTP/2 over TLS';
    if (skip) process.stdout.write(`${name}: ${skip}\n`);
    else protos.push(p);
  }
  if (protos.length === 0) return;
  const sites = new Map<Proto, Site>();
  for (const p of protos) sites.set(p, await makeSite(c, p, p));
  const modes = (p: Proto): [string, Scoped | null][] => [
    ['plain', null],
    ['metrics_only', scoped(c, `nginx-${p}-metrics`, 'metrics_only')],
    ['all_events', scoped(c, `nginx-${p}-events`, 'all_events')],
  ];
  const got = new Map<Proto, ProtoResult>();
  for (const p of protos) got.set(p, { rps: { plain: [], metrics_only: [], all_events: [] }, cpu: { plain: [], metrics_only: [], all_events: [] }, httpEvents: [], errors: 0 });
  for (const p of protos) await nginxRun(sites.get(p)!, { env: c.plainEnv, secs }); // warm up
  for (let i = 0; i < runs; i++) {
    for (const p of protos) {
      for (const [mode, s] of modes(p)) {
        if (s) clearRecords(s);
        const r = await nginxRun(sites.get(p)!, { env: s ? s.env : c.plainEnv, secs });
        const g = got.get(p)!;
        g.rps[mode]!.push(r.rps);
        if (r.cpu_us_per_req) g.cpu[mode]!.push(r.cpu_us_per_req);
        g.errors += r.errors;
        if (s) {
          const rec = await mustHaveRecorded(s, `nginx ${p}`, 'http');
          if (s.kind === 'all_events') g.httpEvents.push(rec.events['http'] ?? 0);
          clearRecords(s);
        }
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const p of protos) {
    const g = got.get(p)!;
    const med = Object.fromEntries(Object.entries(g.rps).map(([k, v]) => [k, median(v)])) as Record<string, number>;
    const ratioM = med['metrics_only']! / med['plain']!;
    const ratioE = med['all_events']! / med['plain']!;
    const cpuMed = Object.fromEntries(Object.entries(g.cpu).map(([k, v]) => [k, { app: r3(median(v.map((x) => x.app))), libscope: r3(median(v.map((x) => x.libscope))) }]));
    const entry = {
      cpu_us_per_request_median: cpuMed,
      runs,
      seconds: secs,
      connections: 16,
      client: p === 'h2' ? 'h2load -t1 -c16 -m10' : 'wrk -t1 -c16',
      requests_per_sec_median: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, r1(v)])),
      ratio_metrics_only: r3(ratioM),
      ratio_all_events: r3(ratioE),
      budget_ratio: 0.98,
      budget_ratio_all_events: 0.95,
      http_events_per_all_events_run_min: Math.min(...g.httpEvents),
      client_socket_errors: g.errors,
    };
    const label = p === 'http' ? 'nginx under wrk' : p === 'https' ? 'nginx HTTP/1.1 over TLS under wrk' : 'nginx HTTP/2 over TLS under h2load';
    c.budgets.push({
      what: `${label}, requests/s scoped ÷ plain (metrics only)`,
      measured: `${ratioM.toFixed(3)} (${med['plain']!.toFixed(0)} → ${med['metrics_only']!.toFixed(0)} req/s)`,
      budget: '≥ 0.98',
      within: ratioM >= 0.98,
      value: ratioM,
    });
    c.budgets.push({
      what: `${label}, requests/s scoped ÷ plain (all events on)`,
      measured: `${ratioE.toFixed(3)} (${med['plain']!.toFixed(0)} → ${med['all_events']!.toFixed(0)} req/s)`,
      budget: '≥ 0.95',
      within: ratioE >= 0.95,
      value: ratioE,
    });
    process.stdout.write(
      `${label} (${secs} s, 16 connections${p === 'h2' ? ', 10 streams each' : ''}), median of ${runs}: ` +
        `plain ${med['plain']!.toFixed(0)}, metrics only ${med['metrics_only']!.toFixed(0)} (${ratioM.toFixed(3)}), all events ${med['all_events']!.toFixed(0)} (${ratioE.toFixed(3)}) req/s; ` +
        `http events per all-events run ≥ ${Math.min(...g.httpEvents)}${g.errors ? `; client socket errors ${g.errors}` : ''}\n` +
        `  CPU µs per request (nginx's thread + libscope's): ` +
        Object.entries(cpuMed)
          .map(([k, v]) => `${k} ${v.app.toFixed(2)} + ${v.libscope.toFixed(2)}`)
          .join(', ') +
        '\n',
    );
    if (p === 'http') Object.assign(out, entry);
    else out[p] = entry;
  }
  c.latest['nginx'] = out;
}
