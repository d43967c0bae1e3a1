/**
 * Java's TLS plaintext (OpenJDK from Debian, test/apps/install.sh): libscope is the JVM's own JVMTI
 * agent (libscope/src/interpose/jvm.c), which wraps methods of the JDK's TLS classes as they load,
 * so HttpClient (SSLEngine) and HttpsURLConnection (SSLSocket) requests over TLS, and the HttpsServer
 * that answers them in the same JVM, become http events and payloads. The JVM runs with
 * -Xverify:all, so the rewritten classes of the JDK are verified as an application's would be. The program is compiled here and its key store made by keytool; the JVM's own
 * use of SIGSEGV (implicit null checks in compiled code) must keep working, and a JVM started
 * scoped must print nothing it would not print alone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libscopePath } from '@scope/libscope';
import { tempDir } from '@scope/core/testing';
import { assertValidSession, envFor, events, newHome, readLast, repoRoot, runBin, scopeBin, scopeRunBin } from '../lib/harness.js';

// The program (test/apps/programs/java: TlsSelf's demo mode, and Wait), compiled here.
const dir = tempDir('scope-javatls-');
const programs = join(repoRoot, 'test', 'apps', 'programs', 'java');
const javac = spawnSync('javac', ['-d', dir, join(programs, 'TlsSelf.java'), join(programs, 'Wait.java')], { encoding: 'utf8' });
assert.is(javac.status, 0, `javac (a JDK, test/apps/install.sh): ${javac.stderr ?? javac.error}`);
const keytool = spawnSync(
  'keytool',
  [
    '-genkeypair',
    '-alias',
    'scope',
    '-keyalg',
    'EC',
    '-groupname',
    'secp256r1',
    '-dname',
    'CN=127.0.0.1',
    '-ext',
    'SAN=ip:127.0.0.1',
    '-validity',
    '1',
    '-keystore',
    join(dir, 'ks.p12'),
    '-storetype',
    'PKCS12',
    '-storepass',
    'changeit',
    '-keypass',
    'changeit',
  ],
  { encoding: 'utf8' },
);
assert.is(keytool.status, 0, keytool.stderr);
// -XX:-UsePerfData: no /tmp/hsperfdata_USER/PID file (a JVM killed would leave it behind)
const demo = ['-XX:-UsePerfData', '-cp', dir, 'TlsSelf', 'demo', join(dir, 'ks.p12')];

const EXPECTED = 'HttpClient 200 served POST /client from HttpClient\nHttpsURLConnection 200 served POST /urlconn from HttpsURLConnection\nnpe 100000\n';

test("libscope was built with its Java agent (the JDK's jvmti.h was there when it was built)", () => {
  const nm = spawnSync('nm', ['-D', '--defined-only', libscopePath()], { encoding: 'utf8' });
  assert.match(nm.stdout, / T Agent_OnLoad\n/, 'no Agent_OnLoad in libscope.so: build it where a JDK is installed (test/apps/install.sh installs one)');
});

test('HttpClient and HttpsURLConnection over TLS, and the HttpsServer answering them: both sides as http events, and payloads', async () => {
  const home = newHome();
  const plain = spawnSync('java', ['-Xverify:all', ...demo], { encoding: 'utf8' });
  assert.is(plain.stdout, EXPECTED, plain.stderr);
  const r = await runBin(scopeRunBin, ['--no-stream', '-p', '--', 'java', '-Xverify:all', ...demo], envFor(home, { SCOPE_LOG_LEVEL: 'info' }));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, EXPECTED, 'the program ran as it does alone (its implicit null checks too)');
  assert.is(r.stderr, plain.stderr, 'and printed nothing more');
  const { session, events: evs } = await readLast(home);
  const pid = session.manifest.pid;
  const seen = (source: string) =>
    events(evs, source)
      .filter((e) => e['body'].pid === pid)
      .map((e) => [e['body'].data.http_method, e['body'].data.http_target, e['body'].data.http_scheme, e['body'].data.http_status_code ?? null])
      .sort((x, y) => String(x).localeCompare(String(y)));
  assert.equal(
    seen('http.req'),
    [
      ['POST', '/client', 'https', null],
      ['POST', '/client', 'https', null],
      ['POST', '/urlconn', 'https', null],
      ['POST', '/urlconn', 'https', null],
    ],
    'each request as the client sent it and as the server read it',
  );
  assert.equal(seen('http.resp'), [
    ['POST', '/client', 'https', 200],
    ['POST', '/client', 'https', 200],
    ['POST', '/urlconn', 'https', 200],
    ['POST', '/urlconn', 'https', 200],
  ]);
  // each request's two ends are one connection: the client's peer port is the server's own
  const ends = events(evs, 'http.req').map(
    (e) => `${e['body'].data.http_target} ${Math.min(e['body'].data.net_peer_port, e['body'].data.net_host_port)}-${Math.max(e['body'].data.net_peer_port, e['body'].data.net_host_port)}`,
  );
  assert.is(new Set(ends).size, 2, `two connections, each seen from both ends: ${ends.join(', ')}`);
  const text = readdirSync(session.paths.payloads)
    .map((f) => readFileSync(join(session.paths.payloads, f), 'latin1'))
    .join('\n');
  assert.match(text, /POST \/urlconn HTTP\/1\.1\r\n[\s\S]*from HttpsURLConnection/, 'the decrypted request in payloads/');
  assert.match(text, /HTTP\/1\.1 200 OK\r\n[\s\S]*served POST \/client from HttpClient/, 'and a decrypted answer');
  const log = readFileSync(session.paths.log, 'utf8');
  assert.match(log, /libscope is the JVM's agent/);
  for (const c of ['SSLSocketImpl\\$AppOutputStream', 'SSLSocketImpl\\$AppInputStream', 'SSLEngineImpl']) assert.match(log, new RegExp(`java: sun/security/ssl/${c} wrapped`));
  await assertValidSession(session);
});

test('two HttpClient requests at once to one server (two connections to one peer): each engine on a connection of its own, its request and answer together', async () => {
  const home = newHome();
  const r = await runBin(scopeRunBin, ['--no-stream', '--', 'java', '-XX:-UsePerfData', '-cp', dir, 'TlsSelf', 'pair', join(dir, 'ks.p12')], envFor(home));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'served POST /one first\nserved POST /two second\n');
  const { events: evs } = await readLast(home);
  const data = (source: string) => events(evs, source).map((e) => e['body'].data);
  // the server's port is at one end of every request, a client's own at the other
  const count = new Map<number, number>();
  for (const d of data('http.req')) for (const port of [d.net_host_port, d.net_peer_port]) count.set(port, (count.get(port) ?? 0) + 1);
  const serverPort = [...count].sort((a, b) => b[1] - a[1])[0]![0];
  const clientSide = (source: string, target: string) => data(source).filter((d) => d.http_target === target && d.net_peer_port === serverPort);
  const ports = ['/one', '/two'].map((target) => {
    const req = clientSide('http.req', target),
      resp = clientSide('http.resp', target);
    assert.is(req.length, 1, `${target}: the client's request: ${JSON.stringify(data('http.req'))}`);
    assert.equal(
      resp.map((d) => [d.net_host_port, d.http_status_code]),
      [[req[0]!.net_host_port, 200]],
      `${target}: its answer on the same connection`,
    );
    return req[0]!.net_host_port;
  });
  // An SSLEngine knows its peer, not its socket: two engines to one peer each take a socket of
  // their own, which may be the other's (local ports swapped), never the same one.
  assert.is.not(ports[0], ports[1], 'two connections, one an engine');
});

test('with HTTP events and metrics off and no payloads, the JVM is not given the agent', async () => {
  const home = newHome();
  const r = await runBin(scopeRunBin, ['--no-stream', '--', 'java', ...demo], envFor(home, { SCOPE_EVENT_HTTP: 'false', SCOPE_METRIC_HTTP: 'false', SCOPE_LOG_LEVEL: 'info' }));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, EXPECTED);
  const { session, events: evs } = await readLast(home);
  assert.equal(events(evs, 'http.req'), []);
  const log = readFileSync(session.paths.log, 'utf8');
  assert.not.match(log, /libscope is the JVM's agent/);
});

test("scope attach to a JVM started without scope: a notice that its TLS plaintext is not seen (the agent loads only at a JVM's start)", async () => {
  const home = newHome();
  const env = envFor(home);
  const child = spawn('java', ['-XX:-UsePerfData', '-cp', dir, 'Wait'], { stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((res, rej) => {
      child.stdout!.once('data', () => res());
      child.once('close', () => rej(new Error('the JVM ended')));
    });
    const a = spawnSync(process.execPath, [scopeBin, 'attach', String(child.pid)], { env, encoding: 'utf8' });
    assert.is(a.status, 0, a.stderr);
    assert.match(a.stderr, new RegExp(`notice: pid ${child.pid} is a JVM started without scope: its TLS plaintext \\(Java's own TLS\\) is not seen after scope attach`));
    const session = JSON.parse(readFileSync(join(String(JSON.parse(a.stdout)['session']), 'session.json'), 'utf8'));
    assert.ok(
      session.notices.some((n: string) => n.includes('is a JVM started without scope')),
      JSON.stringify(session.notices),
    );
    spawnSync(process.execPath, [scopeBin, 'detach', String(child.pid)], { env });
    child.stdin!.end(); // Wait ends with its stdin
    await new Promise((res) => (child.exitCode !== null ? res(null) : child.once('close', res)));
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
