/**
 * The plaintext of Go programs' TLS connections (crypto/tls), client and server, HTTP/1.1 and
 * HTTP/2, as http events and payloads: scope-supervise sets breakpoints in the program
 * (libscope/supervise/gotls.c), found through the executable's own function table, so stripped
 * builds are seen too. Programs are built here with Debian's golang-go (test/apps/install.sh) four
 * ways: with cgo (dynamic), static, static and stripped, and position-independent; the current Go
 * is esbuild's, an npm devDependency of these tests (its serve mode is a crypto/tls server). The
 * certificate is made by the Go program at test time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tempDir } from '@scope/core/testing';
import { goBuild, goProgram } from '../lib/gobuild.js';
import { assertValidSession, envFor, events, freePort, newHome, parseLines, readLast, runBin, scopeBin, scopeRunBin } from '../lib/harness.js';

const SAYS =
  ' is a Go program, followed from outside (scope-supervise): its files, connections, DNS queries, processes and the plaintext of its TLS connections (crypto/tls, Go 1.18 and later) are seen, not its other reads and writes';

// The program (test/apps/programs/gotls/main.go): cert DIR, serve CERT KEY, get URL CA h1|h2,
// both h1|h2 CERT KEY CA.
const dir = goProgram('gotls');
const build = (name: string, cgo: '0' | '1', flags: string[] = []) => goBuild(dir, name, cgo, flags);

const statics = build('gotls-static', '0');
const made = spawnSync(statics, ['cert', dir], { encoding: 'utf8' });
assert.is(made.status, 0, made.stderr);
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');

type Rec = ReturnType<typeof parseLines>[number];
const data = (e: Rec) => e['body'].data;

/** The http events of pid: [source, method, target, flavor, scheme, status]. */
function http(evs: Rec[], pid: number | null) {
  return [...events(evs, 'http.req'), ...events(evs, 'http.resp')]
    .filter((e) => e['body'].pid === pid)
    .map((e) => [e['body'].source, data(e).http_method, data(e).http_target, data(e).http_flavor, data(e).http_scheme, data(e).http_status_code ?? null]);
}

async function both(exe: string, proto: 'h1' | 'h2') {
  const home = newHome();
  const r = await runBin(scopeRunBin, ['--no-stream', '--', exe, 'both', proto, cert, key, cert], envFor(home));
  const flavor = proto === 'h2' ? '2.0' : '1.1';
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `HTTP/${proto === 'h2' ? '2.0' : '1.1'} 200 served POST /both "ping from go"\n`, 'the program ran as it does alone');
  assert.is(r.stderr, `scope-run: notice: ${exe}${SAYS}\n`, 'one notice, and none that its TLS is unseen');
  const { session, events: evs } = await readLast(home);
  const pid = session.manifest.pid;
  const got = http(evs, pid).sort((a, b) => String(a).localeCompare(String(b)));
  assert.equal(
    got,
    [
      ['http.req', 'POST', '/both', flavor, 'https', null],
      ['http.req', 'POST', '/both', flavor, 'https', null],
      ['http.resp', 'POST', '/both', flavor, 'https', 200],
      ['http.resp', 'POST', '/both', flavor, 'https', 200],
    ],
    `the client's and the server's request and response: ${JSON.stringify(got)}`,
  );
  // the client's connection and the server's: one has the server's port as its peer, the other as its own
  const reqs = events(evs, 'http.req');
  const ports = reqs.map((e) => [data(e).net_peer_port, data(e).net_host_port]);
  assert.ok(ports[0]![0] === ports[1]![1] && ports[0]![1] === ports[1]![0], `the two ends of one connection: ${JSON.stringify(ports)}`);
  await assertValidSession(session);
}

test("a static Go program, client and server in one process over HTTP/2 (TLS with ALPN): both sides' http events", async () => {
  await both(statics, 'h2');
});

test('the same over HTTP/1.1', async () => {
  await both(statics, 'h1');
});

test('a static, stripped Go program (-s -w: no symbol table, found through .gopclntab)', async () => {
  await both(build('gotls-stripped', '0', ['-ldflags', '-s -w']), 'h2');
});

test('a dynamically linked Go program (cgo)', async () => {
  await both(build('gotls-cgo', '1'), 'h2');
});

test('a position-independent Go program (-buildmode=pie: loaded at a random address)', async () => {
  await both(build('gotls-pie', '1', ['-buildmode=pie']), 'h1');
});

/** An https request from node (no scope), trusting cert. */
function fetchTls(port: number, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const q = request({ host: '127.0.0.1', port, path, method: 'POST', ca: readFileSync(cert), agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    q.on('error', reject);
    q.end(body);
  });
}

/** The first line of child's stdout, as a port. */
function portOf(child: ChildProcess): Promise<number> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port within 30 s: ${out} ${err}`)), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('close', () => reject(new Error(`it ended: ${out} ${err}`)));
  });
}

const ended = (child: ChildProcess) => new Promise<number | null>((res) => (child.exitCode !== null ? res(child.exitCode) : child.once('close', (code) => res(code))));

test('scope run -p of a stripped Go server: the requests it served, and both directions of plaintext in payloads/', async () => {
  const exe = build('gotls-server', '0', ['-ldflags', '-s -w']);
  const home = newHome();
  const child = spawn(process.execPath, [scopeRunBin, '--no-stream', '-p', '--', exe, 'serve', cert, key], { env: envFor(home), stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const port = await portOf(child);
    for (const path of ['/one', '/two']) {
      const r = await fetchTls(port, path, `body of ${path}`);
      assert.equal([r.status, r.text], [200, `served POST ${path} "body of ${path}"\n`]);
    }
    child.stdin!.end();
    assert.is(await ended(child), 0);
  } finally {
    child.kill('SIGKILL');
  }
  const { session, events: evs } = await readLast(home);
  const pid = session.manifest.pid;
  assert.equal(http(evs, pid), [
    ['http.req', 'POST', '/one', '1.1', 'https', null],
    ['http.req', 'POST', '/two', '1.1', 'https', null],
    ['http.resp', 'POST', '/one', '1.1', 'https', 200],
    ['http.resp', 'POST', '/two', '1.1', 'https', 200],
  ]);
  const files = readdirSync(session.paths.payloads).sort();
  const text = files.map((f) => readFileSync(join(session.paths.payloads, f), 'latin1')).join('\n');
  assert.match(text, /POST \/one HTTP\/1\.1\r\n[\s\S]*body of \/one/, 'the request as the server read it, decrypted');
  assert.match(text, /HTTP\/1\.1 200 OK\r\n[\s\S]*served POST \/two "body of \/two"/, 'its answer as it wrote it');
  await assertValidSession(session);
});

test('scope attach to a running static Go server: its TLS requests from then on; after scope detach none, and it ends as it would', async () => {
  const exe = build('gotls-attach', '0');
  const home = newHome();
  const env = envFor(home);
  const child = spawn(exe, ['serve', cert, key], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const port = await portOf(child);
    assert.is((await fetchTls(port, '/before', 'x')).status, 200);
    const a = spawnSync(process.execPath, [scopeBin, 'attach', String(child.pid)], { env, encoding: 'utf8' });
    assert.is(a.status, 0, a.stderr);
    const dirOf = String(JSON.parse(a.stdout)['session']);
    assert.match(a.stderr, /is a Go program, followed from outside \(scope-supervise, pid \d+\): its files, connections, DNS queries, processes and the plaintext of its TLS connections/);
    assert.is((await fetchTls(port, '/during', 'y')).status, 200);
    const reqs = () =>
      parseLines(existsSync(join(dirOf, 'events.json')) ? readFileSync(join(dirOf, 'events.json'), 'utf8') : '')
        .filter((e) => e['body']?.source === 'http.req')
        .map((e) => data(e).http_target);
    for (let i = 0; i < 100 && reqs().length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(reqs(), ['/during'], 'the request after the attach, not the one before');
    const d = spawnSync(process.execPath, [scopeBin, 'detach', String(child.pid)], { env, encoding: 'utf8' });
    assert.is(d.status, 0, d.stderr);
    await new Promise((r) => setTimeout(r, 300));
    assert.is((await fetchTls(port, '/after', 'z')).status, 200, 'it still serves after the detach');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(reqs(), ['/during'], 'nothing after the detach');
    child.stdin!.end();
    assert.is(await ended(child), 0);
  } finally {
    child.kill('SIGKILL');
  }
});

// esbuild's executable (npm's @esbuild/linux-x64) is built with a current Go: its serve mode is a
// net/http server with crypto/tls.
const esbuild = (() => {
  try {
    return createRequire(import.meta.url).resolve(`@esbuild/linux-${process.arch}/bin/esbuild`);
  } catch {
    return null;
  }
})();

test('a current Go (esbuild --serve with a certificate): the requests it served over TLS', async () => {
  assert.ok(esbuild, 'esbuild is a devDependency of these tests (npm ci installs it)');
  const goVersion = /go1\.\d+(\.\d+)?/.exec(readFileSync(esbuild!).toString('latin1'))?.[0];
  const www = tempDir('scope-gotls-www-');
  writeFileSync(join(www, 'index.html'), 'hello from esbuild\n');
  const port = await freePort('tcp');
  const home = newHome();
  const child = spawn(process.execPath, [scopeRunBin, '--no-stream', '--', esbuild!, `--servedir=${www}`, `--serve=127.0.0.1:${port}`, `--certfile=${cert}`, `--keyfile=${key}`], {
    env: envFor(home),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  try {
    let got: { status: number; text: string } | null = null;
    for (let i = 0; i < 100 && !got; i++) {
      got = await new Promise((resolve) => {
        const q = request({ host: '127.0.0.1', port, path: '/index.html', ca: readFileSync(cert), agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        q.on('error', () => setTimeout(() => resolve(null), 100));
        q.end();
      });
    }
    assert.equal(got && [got.status, got.text], [200, 'hello from esbuild\n'], err);
    child.stdin!.end(); // esbuild's serve mode ends with its stdin
    assert.is(await ended(child), 0, err);
  } finally {
    child.kill('SIGKILL');
  }
  const { session, events: evs } = await readLast(home);
  const got = http(evs, session.manifest.pid);
  assert.equal(
    got.filter((h) => h[2] === '/index.html').map((h) => [h[0], h[1], h[4], h[5]]),
    [
      ['http.req', 'GET', 'https', null],
      ['http.resp', 'GET', 'https', 200],
    ],
    `esbuild built with ${goVersion}: ${JSON.stringify(got)}; ${err}`,
  );
});

test.run();
