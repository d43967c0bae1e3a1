// Network destinations (unix, tcp, udp, tls): the same records as a file destination gets, the
// process-start record first on each connection, TLS validation, a receiver that restarts, and
// receivers that refuse, never read or never accept: the app runs as it would unscoped. Receivers
// run in this process on 127.0.0.1, on ports the kernel picks. No timing is asserted anywhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isEvt, isMetric, isStart, prog, session, stripScope } from './lib.js';
import type { Json } from './lib.js';
import { fullBacklog, runAsync } from './servers.js';
import { tempDir } from '@scope/core/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (without asserting any time) until cond holds or a generous limit passes. */
async function until(cond: () => boolean, limitMs = 15_000): Promise<void> {
  for (let waited = 0; !cond() && waited < limitMs; waited += 20) await sleep(20);
}

interface Receiver {
  url: (host?: string) => string;
  port: number;
  /** the text of each connection (each datagram for udp), in arrival order */
  conns: string[];
  ended: () => number;
  close: () => Promise<void>;
}

let certDir = '';
let cert = '';
let key = '';
async function makeCert(): Promise<void> {
  if (certDir) return;
  certDir = tempDir('scope-dest-cert-');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-days',
    '1',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(certDir, 'key.pem'),
    '-out',
    join(certDir, 'cert.pem'),
  ]);
  cert = join(certDir, 'cert.pem');
  key = join(certDir, 'key.pem');
}

type Kind = 'tcp' | 'tls' | 'unix' | 'abstract' | 'udp';

async function receiver(kind: Kind): Promise<Receiver> {
  const conns: string[] = [];
  let ended = 0;
  if (kind === 'udp') {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (m) => conns.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    return { port, conns, ended: () => ended, url: () => `udp://127.0.0.1:${port}`, close: () => new Promise((r) => sock.close(() => r())) };
  }
  const sockets = new Set<net.Socket>();
  const onConn = (s: net.Socket) => {
    const i = conns.push('') - 1;
    sockets.add(s);
    s.on('data', (b: Buffer) => (conns[i] += b.toString()));
    s.on('end', () => ended++);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = kind === 'tls' ? tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, onConn) : net.createServer(onConn);
  server.on('tlsClientError', () => {});
  let path = '';
  if (kind === 'unix') path = join(tempDir('scope-dest-'), 'recv.sock');
  if (kind === 'abstract') path = `\0scope-dest-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await new Promise<void>((r) => (path ? server.listen(path, () => r()) : server.listen(0, '127.0.0.1', () => r())));
  const port = path ? 0 : (server.address() as net.AddressInfo).port;
  const url = (host = '127.0.0.1') => (kind === 'unix' ? `unix://${path}` : kind === 'abstract' ? `unix://@${path.slice(1)}` : `${kind}://${host}:${port}`);
  return {
    port,
    conns,
    url,
    ended: () => ended,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      if (kind === 'unix') rmSync(join(path, '..'), { recursive: true, force: true });
    },
  };
}

const lines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

/** A record without what differs from run to run. */
function norm(r: unknown): string {
  if (isStart(r)) return 'process-start';
  if (isEvt(r)) {
    const { sourcetype, source, data } = r.body;
    const d: Json = { ...data };
    delete d['duration'];
    return JSON.stringify({ sourcetype, source, data: d });
  }
  return JSON.stringify(r);
}
const sorted = (rs: unknown[]) => rs.map(norm).sort();
/** The multiset a less b. */
function minus(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    left.set(x, n - 1);
    return n <= 0;
  });
}
const opensIn = (rs: unknown[], dir: string) => rs.filter((e) => isEvt(e) && e.body.source === 'fs.open' && String(e.body.data['file']).startsWith(dir)).length;

function workDir(): string {
  return tempDir('scope-destload-');
}

const fsCounters = (ms: unknown[]) => {
  const out: Record<string, number> = {};
  for (const m of ms) if (isMetric(m) && m.body._metric.startsWith('fs.') && m.body._metric !== 'fs.duration') out[m.body._metric] = (out[m.body._metric] ?? 0) + m.body._value;
  return out;
};
const statsdCounters = (text: string) => {
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const m = /^(fs\.[a-z_.]+):(\d+)\|c/.exec(l);
    if (m && m[1] !== 'fs.duration') out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
};

test.before(makeCert);
test.after(() => {
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

// The file run everything is compared with: same program, same directory.
const work = workDir();
let fileEvents: string[] = [];
let fileFs: Record<string, number> = {};
test('the file run', async () => {
  const s = session();
  const r = await runAsync(prog('destload'), ['20', '0', work], s.env);
  assert.is(r.status, 0, r.stderr);
  const ev = s.events();
  assert.ok(isStart(ev[0]));
  fileEvents = sorted(ev);
  fileFs = fsCounters(s.metrics());
  assert.ok((fileFs['fs.open'] ?? 0) >= 20, JSON.stringify(fileFs));
  rmSync(s.dir, { recursive: true });
});

for (const kind of ['tcp', 'udp', 'unix', 'abstract', 'tls'] as Kind[]) {
  test(`${kind}: the same records as the file run, the process-start record first`, async () => {
    const rec = await receiver(kind);
    const extra: Record<string, string> = { SCOPE_EVENT_DEST: rec.url(kind === 'tls' ? 'localhost' : '127.0.0.1') };
    if (kind === 'tls') extra['SCOPE_EVENT_TLS_CA_CERT_PATH'] = cert;
    const s = session(extra);
    const r = await runAsync(prog('destload'), ['20', '0', work], s.env);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    if (kind === 'udp') await until(() => rec.conns.join('').split('\n').length - 1 >= fileEvents.length);
    else await until(() => rec.ended() >= 1);
    await rec.close();
    assert.not.match(s.log(), /error|dropped/, s.log());
    if (kind === 'udp') {
      assert.ok(
        rec.conns.every((d) => d.endsWith('\n') && d.length <= 8192),
        'datagrams of whole lines',
      );
      assert.ok(isStart(lines(rec.conns[0]!)[0]));
    } else {
      assert.is(rec.conns.length, 1);
      assert.ok(isStart(lines(rec.conns[0]!)[0]), 'the process-start record first');
    }
    const got = sorted(lines(rec.conns.join('')));
    assert.equal(got, fileEvents, `only in the ${kind} run: ${JSON.stringify(minus(got, fileEvents))}; only in the file run: ${JSON.stringify(minus(fileEvents, got))}`);
    rmSync(s.dir, { recursive: true });
  });
}

for (const kind of ['tcp', 'udp'] as Kind[])
  for (const format of ['ndjson', 'statsd']) {
    test(`metrics over ${kind} in ${format}: the fs counters of the file run`, async () => {
      const rec = await receiver(kind);
      const s = session({ SCOPE_METRIC_DEST: rec.url(), SCOPE_METRIC_FORMAT: format });
      const r = await runAsync(prog('destload'), ['20', '0', work], s.env);
      assert.is(r.status, 0, r.stderr);
      const got = () => (format === 'statsd' ? statsdCounters(rec.conns.join('')) : fsCounters(lines(rec.conns.join(''))));
      if (kind === 'udp') await until(() => JSON.stringify(got()) === JSON.stringify(fileFs));
      else await until(() => rec.ended() >= 1);
      await rec.close();
      assert.equal(got(), fileFs);
      rmSync(s.dir, { recursive: true });
    });
  }

test('fork: the child makes its own connection, which begins with its own process-start record', async () => {
  const rec = await receiver('tcp');
  const s = session({ SCOPE_EVENT_DEST: rec.url() });
  const r = await runAsync(prog('destload'), ['10', '0', work, 'fork'], s.env);
  assert.is(r.status, 0, r.stderr);
  await until(() => rec.ended() >= 2);
  await rec.close();
  assert.is(rec.conns.length, 2);
  const pids = rec.conns.map((c) => {
    const rs = lines(c);
    assert.ok(isStart(rs[0]), 'the process-start record first');
    const pid = (rs[0] as { info: { process: { pid: number } } }).info.process.pid;
    assert.ok(
      rs.filter(isEvt).every((e) => e.body.pid === pid),
      'only its own records',
    );
    return pid;
  });
  assert.is(new Set(pids).size, 2);
  const all = rec.conns.flatMap(lines);
  assert.is(all.filter((e) => isEvt(e) && e.body.source === 'fs.open' && String(e.body.data['file']).startsWith(`${work}/child-f`)).length, 10);
  assert.is(opensIn(all, `${work}/f`), 10);
  rmSync(s.dir, { recursive: true });
});

test('tls: the server certificate is checked; without our CA nothing is sent, unless validation is off', async () => {
  const rec = await receiver('tls');
  const s = session({ SCOPE_EVENT_DEST: rec.url('localhost') });
  const s2 = session({ SCOPE_EVENT_DEST: rec.url('localhost'), SCOPE_EVENT_TLS_VALIDATE_SERVER: 'false' });
  try {
    const r = await runAsync(prog('destload'), ['5', '0', work], s.env);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    assert.match(s.log(), /certificate verification failed/);
    assert.ok(
      rec.conns.every((c) => c === ''),
      'nothing delivered',
    );
    const r2 = await runAsync(prog('destload'), ['5', '0', work], s2.env);
    assert.is(r2.status, 0, r2.stderr);
    await until(() => rec.ended() >= 1);
  } finally {
    await rec.close(); // a failed assertion must not leave the receiver holding the test process open
  }
  const got: unknown[] = lines(rec.conns.filter((c) => c !== '').join(''));
  assert.ok(isStart(got[0]));
  assert.is(got.filter((e) => isEvt(e) && e.body.source === 'fs.open' && String(e.body.data['file']).startsWith(work)).length, 5);
  rmSync(s.dir, { recursive: true });
  rmSync(s2.dir, { recursive: true });
});

/** A tcp receiver that ends its first connection (orderly: it goes on reading until we close),
 * stops listening, and listens again on the same port a while later. */
async function restartingReceiver(): Promise<{ url: string; conns: string[]; closedAll: () => boolean; close: () => Promise<void> }> {
  const conns: string[] = [];
  const open = new Set<net.Socket>();
  let port = 0;
  let second: net.Server | undefined;
  const onConn = (s: net.Socket) => {
    const i = conns.push('') - 1;
    open.add(s);
    s.on('data', (b: Buffer) => (conns[i] += b.toString()));
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
  };
  const first = net.createServer({ allowHalfOpen: true }, (s) => {
    onConn(s);
    if (conns.length !== 1) return;
    setTimeout(() => {
      s.end();
      first.close();
      setTimeout(() => {
        second = net.createServer({ allowHalfOpen: true }, (t) => {
          onConn(t);
          t.on('end', () => t.end());
        });
        second.listen(port, '127.0.0.1');
      }, 1500);
    }, 1000);
  });
  await new Promise<void>((r) => first.listen(0, '127.0.0.1', () => r()));
  port = (first.address() as net.AddressInfo).port;
  return {
    url: `tcp://127.0.0.1:${port}`,
    conns,
    closedAll: () => open.size === 0 && conns.length >= 2,
    close: async () => {
      for (const s of open) s.destroy();
      if (second) await new Promise<void>((r) => second!.close(() => r()));
    },
  };
}

test('receiver restart: every record arrives over the two connections, the second begins with the process-start record', async () => {
  const rec = await restartingReceiver();
  const s = session({ SCOPE_EVENT_DEST: rec.url });
  const r = await runAsync(prog('destload'), ['250', '20', work], s.env);
  assert.is(r.status, 0, r.stderr);
  await until(rec.closedAll);
  await rec.close();
  assert.ok(rec.conns.length >= 2, `${rec.conns.length} connections`);
  for (const c of rec.conns) assert.ok(c === '' || isStart(lines(c)[0]), 'each connection begins with the process-start record');
  const all = rec.conns.flatMap(lines);
  assert.is(opensIn(all, work), 250);
  assert.not.match(s.log(), /dropped/, s.log());
  rmSync(s.dir, { recursive: true });
});

test('receiver restart with a small buffer: delivered + dropped (as libscope says) = produced', async () => {
  // what the program produces, from a file run: its records, less the stream's process-start record
  const f = session();
  assert.is((await runAsync(prog('destload'), ['250', '0', work], f.env)).status, 0);
  const produced = f.events().length - 1;
  rmSync(f.dir, { recursive: true });

  const rec = await restartingReceiver();
  const s = session({ SCOPE_EVENT_DEST: rec.url, SCOPE_DEST_BUFFER: '16384' });
  const r = await runAsync(prog('destload'), ['250', '20', work], s.env);
  assert.is(r.status, 0, r.stderr);
  await until(rec.closedAll);
  await rec.close();
  const m = /event destination \S+: (\d+) lines delivered, (\d+) dropped/.exec(s.log());
  assert.ok(m, s.log());
  const delivered = Number(m![1]);
  const dropped = Number(m![2]);
  assert.ok(dropped > 0);
  const all = rec.conns.flatMap(lines);
  assert.is(all.length, delivered, 'what arrived is what libscope counts as delivered');
  // each connection begins with the process-start record, room made for it if need be
  for (const c of rec.conns) assert.ok(c === '' || isStart(lines(c)[0]), 'each connection begins with the process-start record');
  const starts = rec.conns.length;
  assert.is(all.filter(isStart).length, starts);
  assert.is(delivered + dropped, produced + starts, `${delivered} delivered (${starts} process-start), ${dropped} dropped, ${produced} produced`);
  rmSync(s.dir, { recursive: true });
});

test('slow destinations: refused, accepts and never reads, never completes: the app runs as unscoped', async () => {
  const plain = await runAsync(prog('manywrites'), [], stripScope());
  assert.is(plain.status, 0);
  // refused: a port nobody listens on (a listener's port, closed)
  const gone = await receiver('tcp');
  await gone.close();
  // accepts, never reads
  const sockets: net.Socket[] = [];
  const deaf = net.createServer((s) => {
    s.pause();
    sockets.push(s);
  });
  await new Promise<void>((r) => deaf.listen(0, '127.0.0.1', () => r()));
  const full = await fullBacklog();
  const urls = {
    refused: gone.url(),
    'never reads': `tcp://127.0.0.1:${(deaf.address() as net.AddressInfo).port}`,
    'never completes': `tcp://127.0.0.1:${full.port}`,
    'udp, refused': `udp://127.0.0.1:${gone.port}`,
    // a name the resolver refuses (a slow resolver cannot be made here without root tricks)
    'name not found': 'tcp://scope-dest-test.invalid:9',
  };
  try {
    for (const [what, url] of Object.entries(urls)) {
      const s = session({ SCOPE_EVENT_DEST: url, SCOPE_METRIC_DEST: url });
      const r = await runAsync(prog('manywrites'), [], s.env, 120_000);
      assert.is(r.status, 0, what);
      assert.ok(r.stdout === plain.stdout, `${what}: the same output`);
      assert.is(r.stderr, '', what);
      rmSync(s.dir, { recursive: true });
    }
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => deaf.close(() => r()));
    full.stop();
  }
});

/** One request on the process's control socket "@scope/<pid>". */
function ask(pid: number, request: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: `\0scope/${pid}` });
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(request + '\n'));
    sock.on('data', (d: string) => (buf += d));
    sock.on('end', () => resolve(JSON.parse(buf) as Json));
    sock.on('error', reject);
  });
}
interface DestStatus {
  name: string;
  state: string;
  attempts: number;
  failures: number;
  last_failure: string | null;
  connected_since: number | null;
  lines: number;
  dropped: number;
  buffered: number;
}

test('status on the control socket: connecting (buffered, dropping), down (refused), connected (the log over tcp)', async () => {
  const full = await fullBacklog();
  const gone = await receiver('tcp');
  await gone.close();
  const logs = await receiver('tcp');
  const s = session({ SCOPE_EVENT_DEST: `tcp://127.0.0.1:${full.port}`, SCOPE_METRIC_DEST: gone.url(), SCOPE_LOG_DEST: logs.url(), SCOPE_DEST_BUFFER: '4096', SCOPE_LOG_LEVEL: 'info' });
  const child = spawn(prog('destload'), ['400', '20', work], { env: s.env, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  let ds: DestStatus[] = [];
  const want = () => ds.length === 3 && ds[0]!.state === 'connecting' && ds[0]!.buffered > 0 && ds[0]!.dropped > 0 && ds[1]!.state === 'down' && ds[2]!.state === 'connected' && ds[2]!.lines > 0;
  try {
    for (let i = 0; i < 300 && !want(); i++) {
      await sleep(20);
      try {
        ds = ((await ask(child.pid!, '{"req":"status"}'))['destinations'] as DestStatus[]) ?? [];
      } catch {
        // not listening yet
      }
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    full.stop();
  }
  assert.ok(want(), JSON.stringify(ds));
  const [ev, met, log] = ds as [DestStatus, DestStatus, DestStatus];
  assert.ok(ev.buffered <= 4096, JSON.stringify(ev));
  assert.is(ev.connected_since, null);
  assert.match(String(met.last_failure), /Connection refused/);
  assert.ok(met.attempts >= 1 && met.failures >= 1);
  assert.ok(log.connected_since !== null);
  await until(() => logs.ended() >= 1);
  await logs.close();
  assert.match(logs.conns.join(''), /scope\[\d+\] error: metric destination tcp:\/\/127\.0\.0\.1:\d+: cannot connect to: Connection refused/);
  rmSync(s.dir, { recursive: true });
});

test('a connect that never completes is given up after SCOPE_CONNECT_TIMEOUT_SECS', async () => {
  const full = await fullBacklog();
  const s = session({ SCOPE_EVENT_DEST: `tcp://127.0.0.1:${full.port}`, SCOPE_CONNECT_TIMEOUT_SECS: '1' });
  try {
    const r = await runAsync(prog('destload'), ['150', '20', work], s.env);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
  } finally {
    full.stop();
  }
  assert.match(s.log(), /event destination tcp:\S+: cannot connect to: timed out \(SCOPE_CONNECT_TIMEOUT_SECS\)/);
  assert.match(s.log(), /event destination tcp:\S+: 0 lines delivered, \d+ dropped/);
  rmSync(s.dir, { recursive: true });
});

/** A name server on 127.77.x.y:53 that reads queries and never answers, and a resolv.conf naming
 * it, to be bind-mounted over /etc/resolv.conf in a mount namespace of the program's own. */
async function silentDns(): Promise<{ resolv: string; queries: () => number; close: () => Promise<void> }> {
  // an address of its own on the loopback network, so two runs (a test, a bench) never collide
  const ip = `127.77.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;
  const sock = dgram.createSocket('udp4');
  let queries = 0;
  sock.on('message', () => queries++);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(53, ip, () => resolve());
  });
  const resolv = join(work, 'resolv.conf');
  writeFileSync(resolv, `nameserver ${ip}\noptions timeout:5 attempts:2\n`);
  return { resolv, queries: () => queries, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

test('a host name whose lookup never answers: the app runs as unscoped, the lookup is given up', async () => {
  // root: a name server on port 53, and a mount namespace to give the program our resolv.conf
  assert.is(process.getuid?.(), 0, 'this test needs root (port 53, mount namespaces)');
  const dns = await silentDns();
  const s = session({ SCOPE_EVENT_DEST: 'tcp://never.answered.scope.test:9109', SCOPE_CONNECT_TIMEOUT_SECS: '1' });
  try {
    const r = await runAsync('unshare', ['-m', 'sh', '-c', `mount --bind ${dns.resolv} /etc/resolv.conf && exec ${prog('destload')} 100 20 ${work}`], s.env);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    assert.ok(dns.queries() > 0, 'the lookup asked the silent name server');
  } finally {
    await dns.close();
  }
  assert.match(s.log(), /event destination tcp:\S+: cannot look up: timed out \(SCOPE_CONNECT_TIMEOUT_SECS\)/);
  assert.match(s.log(), /event destination tcp:\S+: 0 lines delivered, \d+ dropped/);
  rmSync(s.dir, { recursive: true });
});

test('exec with lines still buffered for a network destination: the log says how many bytes the old image could not send', async () => {
  const s = session({ SCOPE_EVENT_DEST: 'tcp://127.0.0.1:9' });
  // the shell's own redirections are its events, buffered when it execs
  const r = await runAsync('sh', ['-c', `echo a > ${work}/exec-a; echo b > ${work}/exec-b; exec true`], s.env);
  assert.is(r.status, 0, r.stderr);
  const told = s.log().match(/event destination tcp:\S+: \d+ bytes not sent before exec \(lost unless the exec fails\)/g) ?? [];
  assert.is(told.length, 1, `said once, though execvp tries several directories: ${s.log()}`);
  rmSync(s.dir, { recursive: true });
});

test('without libssl a tls destination is down, saying why, and the app runs as unscoped', async () => {
  // libssl hidden from the program by bind mounts in a mount namespace of its own (root)
  assert.is(process.getuid?.(), 0, 'this test needs root (mount namespaces)');
  const found = spawnSync('sh', ['-c', "ldconfig -p | awk '/libssl[.]so[.](3|1[.]1) /{print $NF}'"], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l !== '');
  const empty = join(work, 'empty.so');
  writeFileSync(empty, '');
  const rec = await receiver('tcp');
  const s = session({ SCOPE_EVENT_DEST: `tls://127.0.0.1:${rec.port}` });
  const script = found.map((f) => `mount --bind ${empty} ${f} && `).join('') + `exec ${prog('destload')} 3 0 ${work}`;
  const r = await runAsync('unshare', ['-m', 'sh', '-c', script], s.env);
  await rec.close();
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(s.log(), /event destination tls:\S+: cannot start TLS with: libssl not found \(libssl\.so\.3, libssl\.so\.1\.1\)/);
  rmSync(s.dir, { recursive: true });
});

test('an unknown scheme stays unsupported, logged once', async () => {
  const s = session({ SCOPE_EVENT_DEST: 'nope://x' });
  const r = await runAsync(prog('destload'), ['2', '0', work], s.env);
  assert.is(r.status, 0);
  assert.is((s.log().match(/unsupported event destination/g) ?? []).length, 1);
  rmSync(s.dir, { recursive: true });
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
