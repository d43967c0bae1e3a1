// The network tests' fixtures, without libscope: the C programs (net_calls, net_rawdns, net_gai)
// and the servers of servers.ts must do what they say, so a network test that fails points at
// libscope and not at its fixtures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { prog, run } from './lib.js';
import { jsonLines, runAsync, startDnsStub, startH2c, startHttp, startHttps } from './servers.js';

type Side = {
  sent: number;
  recv: number;
  local_port: number | null;
  peer_port: number | null;
  fd: number;
  inode: number;
  peeked?: number;
  path?: string;
  ops: Record<string, number>;
};
type Calls = { mode: string; client: Side; server: Side };

const STREAM_SEND = ['send', 'sendto', 'sendmsg', 'sendmmsg', 'write', 'writev', 'sendfile', 'splice'];
const DGRAM_SEND = ['send', 'sendto', 'sendmsg', 'sendmmsg', 'write', 'writev'];
const RECV = ['recv', 'recvfrom', 'recvmsg', 'recvmmsg', '__recv_chk', '__recvfrom_chk', 'read', 'readv'];
const CURL = ['-s', '--noproxy', '*', '-w', '\n%{local_port}'];

function netCalls(mode: string): Calls[] {
  const r = run(prog('net_calls'), [mode], undefined, 20_000);
  assert.is(r.status, 0, `net_calls ${mode}: ${r.stderr.toString()}`);
  return jsonLines(r.stdout.toString()) as unknown as Calls[];
}

function checkCalls(c: Calls): void {
  const dgram = ['udp4', 'udp6', 'unixdgram'].includes(c.mode);
  const inet = !c.mode.startsWith('unix');
  if (c.mode === 'peek') {
    assert.equal([c.client.sent, c.client.recv, c.server.sent, c.server.recv, c.server.peeked], [64, 32, 32, 64, 64]);
    assert.equal(c.client.ops, { send: 64, recv: 32 });
    assert.equal(c.server.ops, { send: 32, recv: 64 });
  } else {
    assert.is(c.client.sent, 680, `${c.mode} client sent`);
    assert.is(c.client.recv, 10800, `${c.mode} client recv`);
    for (const side of [c.client, c.server]) {
      const ops = Object.keys(side.ops).sort();
      assert.equal(ops, [...(dgram ? DGRAM_SEND : STREAM_SEND), ...RECV].sort(), `${c.mode} every function moved bytes`);
      assert.ok(Object.values(side.ops).every((n) => n > 0));
    }
    const sum = (s: Side, names: string[]) => names.reduce((t, n) => t + (s.ops[n] ?? 0), 0);
    assert.is(sum(c.client, STREAM_SEND), c.client.sent, 'per-function bytes add up (sent)');
    assert.is(sum(c.client, RECV), c.client.recv, 'per-function bytes add up (recv)');
    assert.is(sum(c.server, STREAM_SEND), c.server.sent);
    assert.is(sum(c.server, RECV), c.server.recv);
  }
  assert.is(c.client.sent, c.server.recv, `${c.mode}: client sent == server recv`);
  assert.is(c.client.recv, c.server.sent, `${c.mode}: client recv == server sent`);
  if (inet) {
    assert.ok(Number(c.client.local_port) > 0 && Number(c.server.local_port) > 0);
    assert.is(c.client.local_port, c.server.peer_port, `${c.mode}: ports agree`);
    assert.is(c.client.peer_port, c.server.local_port, `${c.mode}: ports agree`);
  } else {
    assert.is(c.client.local_port, null);
    assert.is(c.server.peer_port, null);
  }
  if (c.mode === 'unix') assert.match(String(c.client.path), /\/sock$/);
  assert.ok(c.client.inode > 0 && c.server.inode > 0 && c.client.inode !== c.server.inode);
}

for (const mode of ['tcp4', 'tcp6', 'udp4', 'udp6', 'unix', 'unixdgram', 'peek']) {
  test(`net_calls ${mode}: both sides agree on every byte, every function used`, () => {
    const t0 = Date.now();
    const out = netCalls(mode);
    assert.is(out.length, 1);
    const c = out[0] as Calls;
    assert.is(c.mode, mode);
    checkCalls(c);
    assert.ok(Date.now() - t0 < 2000, 'fast');
  });
}

test('net_calls all: one line per mode, in order', () => {
  const out = netCalls('all');
  assert.equal(
    out.map((c) => c.mode),
    ['tcp4', 'tcp6', 'udp4', 'udp6', 'unix', 'unixdgram', 'peek'],
  );
  out.forEach(checkCalls);
  const bad = run(prog('net_calls'), ['nope'], undefined);
  assert.is(bad.status, 2);
});

test('net_rawdns: A and AAAA over sendto and connected sockets, NXDOMAIN, records in the stub', async () => {
  const dns = await startDnsStub({ a: ['10.1.2.3', '10.9.8.7'], aaaa: ['fd00::1', '2001:db8::5:1.2.3.4'] });
  try {
    const p = prog('net_rawdns');
    const cases: [string[], string, string[], number][] = [
      [[String(dns.port), 'example.com'], 'A', ['10.1.2.3', '10.9.8.7'], 0],
      [[String(dns.port), 'Example.COM', 'AAAA'], 'AAAA', ['fd00::1', '2001:db8::5:102:304'], 0],
      [['--connected', String(dns.port), 'www.example.org'], 'A', ['10.1.2.3', '10.9.8.7'], 0],
      [[String(dns.port), 'v6.example.org', 'AAAA', '--connected'], 'AAAA', ['fd00::1', '2001:db8::5:102:304'], 0],
      [[String(dns.port), 'nothing.invalid'], 'A', [], 3],
    ];
    for (const [args, type, addrs, rcode] of cases) {
      const r = await runAsync(p, args);
      assert.is(r.status, 0, `net_rawdns ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      const j = jsonLines(r.stdout).pop() ?? {};
      const q = dns.queries.at(-1);
      assert.ok(q, 'the stub saw the query');
      assert.is(
        j.name,
        args.find((a) => /[a-z]/i.test(a) && !a.startsWith('-') && a !== type),
      );
      assert.is(j.type, type);
      assert.is(j.mode, args.includes('--connected') ? 'connected' : 'sendto');
      assert.equal(j.addrs, addrs);
      assert.is(j.rcode, rcode);
      assert.is(q.id, j.id);
      assert.is(q.name, j.name);
      assert.is(q.typeName, type);
      assert.is(q.rcode, rcode);
      assert.is(q.from.port, j.local_port);
      assert.is(q.bytes, j.sent);
      assert.ok(Number(j.recv) > Number(j.sent) || rcode !== 0);
    }
    assert.is(dns.queries.length, cases.length);
    assert.is(dns.malformed(), 0);
  } finally {
    await dns.close();
  }
});

test('net_rawdns: a stub that does not answer is a timeout after 2 s, exit 1', async () => {
  const dns = await startDnsStub({ silent: true });
  try {
    const t0 = Date.now();
    const r = await runAsync(prog('net_rawdns'), [String(dns.port), 'slow.example']);
    assert.is(r.status, 1);
    const j = jsonLines(r.stdout).pop() ?? {};
    assert.is(j.error, 'timeout');
    assert.is(j.recv, 0);
    assert.ok(Date.now() - t0 >= 1900);
    assert.is(dns.queries.length, 1);
  } finally {
    await dns.close();
  }
});

test('net_gai: localhost with each resolver function; a failing name is an error, exit 0', () => {
  for (const f of ['getaddrinfo', 'gethostbyname', 'gethostbyname2', 'gethostbyname_r', 'gethostbyname2_r']) {
    const r = run(prog('net_gai'), [f, 'localhost', 'nothing.invalid', '127.0.0.1'], undefined);
    assert.is(r.status, 0, `${f}: ${r.stderr.toString()}`);
    const [local, bad, literal] = jsonLines(r.stdout.toString());
    assert.is(local?.func, f);
    assert.is(local?.name, 'localhost');
    assert.ok((local?.addrs as string[] | undefined)?.includes('127.0.0.1'), `${f} localhost: ${JSON.stringify(local)}`);
    assert.is(local?.error, undefined);
    assert.equal(bad?.addrs, []);
    assert.type(bad?.error, 'string');
    assert.equal(literal?.addrs, ['127.0.0.1']);
  }
  assert.is(run(prog('net_gai'), ['nope', 'localhost'], undefined).status, 2);
});

test('startHttp: curl gets the body; request and per-connection bytes recorded', async () => {
  const srv = await startHttp({ body: 'fixture body\n', status: 201 });
  try {
    const r = await runAsync('curl', [...CURL, '-o', '-', `${srv.url}some/path?q=1`]);
    assert.is(r.status, 0, r.stderr);
    const [body, port] = [r.stdout.slice(0, r.stdout.lastIndexOf('\n')), r.stdout.slice(r.stdout.lastIndexOf('\n') + 1)];
    assert.is(body, 'fixture body\n');
    assert.is(srv.requests.length, 1);
    assert.is(srv.requests[0]?.method, 'GET');
    assert.is(srv.requests[0]?.url, '/some/path?q=1');
    assert.match(String(srv.requests[0]?.headers['user-agent']), /^curl\//);
    const conns = srv.stats().connections;
    assert.is(conns.length, 1);
    assert.ok((conns[0]?.bytesRead ?? 0) > 50, 'request bytes');
    assert.ok((conns[0]?.bytesWritten ?? 0) > 'fixture body\n'.length, 'response bytes');
    assert.is(conns[0]?.remotePort, Number(port));
    const post = await runAsync('curl', [...CURL, '-d', 'x'.repeat(1000), srv.url]);
    assert.is(post.status, 0);
    assert.is(srv.requests[1]?.method, 'POST');
    assert.is(srv.requests[1]?.bodyBytes, 1000);
    assert.ok((srv.stats().connections[1]?.bytesRead ?? 0) > 1000);
  } finally {
    await srv.close();
  }
});

test('startHttp: close() ends kept-alive connections', async () => {
  const srv = await startHttp();
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true });
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get(srv.url, { agent }, (res) => {
        let s = '';
        res.on('data', (b: Buffer) => (s += b.toString()));
        res.on('end', () => resolve(s));
      })
      .on('error', reject);
  });
  assert.is(body, 'hello\n');
  await srv.close();
  agent.destroy();
  assert.ok(srv.stats().connections.every((c) => c.closed));
});

test('startHttps: curl -k gets the body; encrypted byte counts recorded; certificate file removed on close', async () => {
  const srv = await startHttps();
  const { existsSync } = await import('node:fs');
  try {
    assert.ok(existsSync(srv.certFile));
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await runAsync('curl', [...CURL, '-k', srv.url]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.slice(0, r.stdout.lastIndexOf('\n')), 'hello\n');
    const verified = await runAsync('curl', [...CURL, '--cacert', srv.certFile, `https://localhost:${srv.port}/v`]);
    assert.is(verified.status, 0, `the certificate is for localhost: ${verified.stderr}`);
    assert.equal(
      srv.requests.map((q) => q.url),
      ['/', '/v'],
    );
    const conns = srv.stats().connections;
    assert.is(conns.length, 2);
    for (const c of conns) {
      assert.ok(c.bytesRead > 200, `TLS handshake and request read: ${c.bytesRead}`);
      assert.ok(c.bytesWritten > 1000, `certificate and response written: ${c.bytesWritten}`);
    }
    assert.is(conns[0]?.remotePort, Number(r.stdout.slice(r.stdout.lastIndexOf('\n') + 1)));
  } finally {
    await srv.close();
  }
  assert.not.ok(existsSync(srv.certFile));
});

test('startH2c: curl --http2-prior-knowledge gets the body; stream ids and pseudo-headers recorded', async () => {
  const srv = await startH2c({ body: 'h2 body\n' });
  try {
    // one URL per curl: curl 7.88 fails (exit 16) reusing a prior-knowledge connection (curl#10634)
    const r = await runAsync('curl', [...CURL, '--http2-prior-knowledge', `${srv.url}a`]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.slice(0, r.stdout.lastIndexOf('\n')), 'h2 body\n');
    assert.equal(
      srv.requests.map((q) => [q.method, q.path, q.streamId]),
      [['GET', '/a', 1]],
    );
    assert.is(srv.requests[0]?.headers[':scheme'], 'http');
    assert.match(String(srv.requests[0]?.headers['user-agent']), /^curl\//);
    const conns = srv.stats().connections;
    assert.is(conns.length, 1);
    assert.is(conns[0]?.remotePort, Number(r.stdout.slice(r.stdout.lastIndexOf('\n') + 1)));
    assert.ok((conns[0]?.bytesRead ?? 0) > 24, 'preface and request read');
    assert.ok((conns[0]?.bytesWritten ?? 0) > 'h2 body\n'.length, 'response written');

    // two streams on one connection (node's client), then close() with the session still open
    const http2 = await import('node:http2');
    const client = http2.connect(srv.url);
    const get = (path: string, method = 'GET') =>
      new Promise<string>((resolve, reject) => {
        const req = client.request({ ':path': path, ':method': method });
        let s = '';
        req.on('data', (b: Buffer) => (s += b.toString()));
        req.on('end', () => resolve(s));
        req.on('error', reject);
        req.end(method === 'POST' ? 'payload' : undefined);
      });
    assert.equal(await Promise.all([get('/b'), get('/c', 'POST')]), ['h2 body\n', 'h2 body\n']);
    assert.equal(
      srv.requests.slice(1).map((q) => [q.method, q.path, q.streamId, q.bodyBytes]),
      [
        ['GET', '/b', 1, 0],
        ['POST', '/c', 3, 7],
      ],
    );
    assert.is(srv.stats().connections.length, 2);
    client.on('error', () => {});
    await srv.close();
    client.destroy();
  } finally {
    await srv.close();
  }
});

test('closed servers leave no socket handle behind', async () => {
  await new Promise((resolve) => setTimeout(resolve, 50)); // handles finish closing on the next turn
  // (not PipeWrap: this process's own stdout/stderr are pipes when its output is piped)
  const left = process.getActiveResourcesInfo().filter((r) => /TCP|UDP|Process/.test(r));
  assert.equal(left, []);
});

test.run();
