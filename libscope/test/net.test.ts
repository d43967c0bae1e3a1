// Sockets, DNS, HTTP and TLS under the real library: real clients (curl, python3, the net_*
// programs) against real servers (servers.ts) on loopback ports picked here, and what libscope
// wrote compared with what the programs and servers saw. Every record is checked against schemas/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evts, isMetric, prog, session } from './lib.js';
import type { Evt, Json, Metric } from './lib.js';
import { fullBacklog, jsonLines, runAsync, startDnsStub, startH2c, startHttp, startHttps } from './servers.js';
import { tempDir } from '@scope/core/testing';

const CURL = ['-s', '--noproxy', '*'];
const d = (e: Evt): Json => e.body.data;

async function scoped(cmd: string, args: string[], extra: Record<string, string> = {}) {
  const s = session(extra);
  const r = await runAsync(cmd, args, s.env);
  assert.is(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return { s, r, ev: s.events(), met: s.metrics() };
}

test('curl over HTTP: net.open, http.req, http.resp and net.close with the bytes the server saw', async () => {
  const srv = await startHttp({ body: 'hello from the test server\n' });
  try {
    const { ev, met } = await scoped('curl', [...CURL, '-H', 'X-Appscope: trace-42', `${srv.url}x?y=1`]);
    const open = evts(ev, 'net.open');
    assert.is(open.length, 1);
    assert.equal([d(open[0]!).net_transport, d(open[0]!).net_peer_ip, d(open[0]!).net_peer_port, d(open[0]!).op], ['IP.TCP', '127.0.0.1', srv.port, 'connect']);
    const [req] = evts(ev, 'http.req');
    assert.ok(req, 'an http.req');
    assert.equal(
      {
        m: d(req!).http_method,
        t: d(req!).http_target,
        f: d(req!).http_flavor,
        s: d(req!).http_scheme,
        h: d(req!).http_host,
        x: d(req!)['x-appscope'],
        p: d(req!).net_peer_port,
      },
      { m: 'GET', t: '/x?y=1', f: '1.1', s: 'http', h: `127.0.0.1:${srv.port}`, x: 'trace-42', p: srv.port },
    );
    assert.match(String(d(req!).http_user_agent), /^curl\//);
    const [resp] = evts(ev, 'http.resp');
    assert.ok(resp, 'an http.resp');
    assert.is(d(resp!).http_status_code, 200);
    assert.is(d(resp!).http_status_text, 'OK');
    assert.is(d(resp!).http_response_content_length, 'hello from the test server\n'.length);
    assert.is(d(resp!).http_target, '/x?y=1');
    assert.is(d(resp!)['x-appscope'], 'trace-42');
    assert.ok(Number(d(resp!).http_client_duration) > 0, 'a client duration');
    assert.is(resp!._channel, req!._channel, 'request and response share the connection');
    const [close] = evts(ev, 'net.close');
    const conn = srv.stats().connections;
    assert.is(conn.length, 1);
    assert.is(d(close!).net_bytes_sent, conn[0]!.bytesRead, 'bytes sent = what the server read');
    assert.is(d(close!).net_bytes_recv, conn[0]!.bytesWritten, 'bytes received = what the server wrote');
    assert.is(d(close!).net_host_port, conn[0]!.remotePort);
    const names = met.filter(isMetric).map((m) => m.body._metric);
    for (const n of ['http.req', 'http.duration.client', 'http.resp.content_length', 'net.rx', 'net.tx', 'net.open', 'net.close']) assert.ok(names.includes(n), `metric ${n}`);
    const rx = met.filter(isMetric).filter((m) => m.body._metric === 'net.rx' && m.body.class === 'inet_tcp');
    assert.is(
      rx.reduce((t, m) => t + m.body._value, 0),
      conn[0]!.bytesWritten,
      'net.rx sums to the bytes received',
    );
  } finally {
    await srv.close();
  }
});

test('dns.req and dns.resp from every resolver function, for localhost too', async () => {
  for (const fn of ['getaddrinfo', 'gethostbyname', 'gethostbyname2', 'gethostbyname_r', 'gethostbyname2_r']) {
    const { ev, r, met } = await scoped(prog('net_gai'), [fn, 'localhost', 'no-such-host.invalid']);
    assert.is(met.filter(isMetric).filter((m) => m.body._metric === 'dns.req').length, 2, `${fn}: a dns.req metric per lookup`);
    const out = jsonLines(r.stdout);
    const reqs = evts(ev, 'dns.req').map((e) => [d(e).domain, d(e).op]);
    assert.equal(
      reqs,
      [
        ['localhost', fn],
        ['no-such-host.invalid', fn],
      ],
      fn,
    );
    const resps = evts(ev, 'dns.resp');
    assert.is(resps.length, 2);
    assert.equal(d(resps[0]!).addrs, out[0]!.addrs, `${fn}: the addresses the program got`);
    assert.ok((d(resps[0]!).addrs as string[]).includes('127.0.0.1'));
    assert.is(d(resps[0]!).error, undefined);
    assert.equal(d(resps[1]!).addrs, []);
    assert.type(d(resps[1]!).error, 'string', `${fn}: the failure is named`);
    assert.ok(Number(d(resps[0]!).duration) >= 0);
  }
});

test('a DNS query the app builds and sends itself (sendto and connected send) is seen', async () => {
  const stub = await startDnsStub({ a: ['10.1.2.3', '10.1.2.4'], aaaa: ['fd00::7'] });
  try {
    for (const [flags, type, want] of [
      [[], 'A', ['10.1.2.3', '10.1.2.4']],
      [['--connected'], 'AAAA', ['fd00::7']],
      [[], 'A', []],
    ] as const) {
      const name = want.length ? `svc${flags.length}.example.test` : 'gone.invalid';
      // the stub listens on a port picked here: SCOPE_DNS_PORTS says which ports carry DNS
      const { ev, r, met } = await scoped(prog('net_rawdns'), [...flags, String(stub.port), name, type], { SCOPE_DNS_PORTS: `53,${stub.port}` });
      // net.udp names the UDP socket, as AppScope's does
      const udp = met.filter(isMetric).filter((m) => m.body._metric === 'net.udp');
      assert.ok(udp.length > 0 && udp.every((m) => m.body.proto === 'UDP' && typeof m.body.fd === 'number' && m.body.port === stub.port), JSON.stringify(udp.map((m) => m.body)));
      const out = jsonLines(r.stdout)[0]!;
      const [req] = evts(ev, 'dns.req');
      assert.equal([d(req!).domain, d(req!).query_type, d(req!).net_peer_port], [name, type, stub.port]);
      const [resp] = evts(ev, 'dns.resp');
      assert.equal(d(resp!).addrs, want);
      assert.equal(d(resp!).addrs, out.addrs);
      assert.is(d(resp!).error, want.length ? undefined : 'NXDOMAIN');
      assert.ok(Number(d(resp!).duration) > 0, 'the answer is timed against its query');
    }
  } finally {
    await stub.close();
  }
});

test('HTTPS through OpenSSL (curl -k, python3 urllib): http events with scheme https, plaintext payload', async () => {
  const srv = await startHttps({ body: 'secret body\n' });
  try {
    const payloads = tempDir('payloads-');
    const { ev } = await scoped('curl', [...CURL, '-k', `${srv.url}secure?q=1`], { SCOPE_PAYLOAD_ENABLE: 'true', SCOPE_PAYLOAD_DIR: payloads });
    const [req] = evts(ev, 'http.req');
    assert.ok(req, 'an http.req from inside TLS');
    assert.equal([d(req!).http_scheme, d(req!).http_target, d(req!).net_peer_port], ['https', '/secure?q=1', srv.port]);
    const [resp] = evts(ev, 'http.resp');
    assert.equal([d(resp!).http_scheme, d(resp!).http_status_code], ['https', 200]);
    assert.ok(evts(ev, 'net.app').some((e) => d(e).net_protocol === 'tls'));
    const [close] = evts(ev, 'net.close');
    assert.is(d(close!).net_bytes_sent, srv.stats().connections[0]!.bytesRead, "the ciphertext bytes are the connection's");
    const files = readdirSync(payloads).filter((f) => f.includes(`127.0.0.1:${srv.port}`));
    const out = files.find((f) => f.endsWith('.out'));
    assert.ok(out, `a .out payload file among ${files.join(', ')}`);
    assert.match(readFileSync(join(payloads, out!), 'latin1'), /^GET \/secure\?q=1 HTTP\/1\.1\r\n/);
    const inp = files.find((f) => f.endsWith('.in'));
    assert.match(readFileSync(join(payloads, inp!), 'latin1'), /secret body/);

    const py = await scoped('python3', [
      '-c',
      `
import ssl, urllib.request
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
print(urllib.request.urlopen('https://localhost:${srv.port}/py', context=ctx).read().decode())`,
    ]);
    const preq = evts(py.ev, 'http.req');
    assert.equal(
      preq.map((e) => [d(e).http_scheme, d(e).http_target, d(e).http_host]),
      [['https', '/py', `localhost:${srv.port}`]],
    );
    assert.equal(
      evts(py.ev, 'http.resp').map((e) => d(e).http_status_code),
      [200],
    );
    assert.ok(
      evts(py.ev, 'dns.req').some((e) => d(e).domain === 'localhost'),
      'python resolves localhost itself',
    );
  } finally {
    await srv.close();
  }
});

test('HTTPS through GnuTLS (gnutls_record_send/recv): the same http events, scheme https', async () => {
  const srv = await startHttps({ body: 'gnutls body\n' });
  try {
    const { ev, r } = await scoped(prog('net_gnutls'), [String(srv.port), '/gt?x=2']);
    const out = jsonLines(r.stdout)[0]!;
    assert.is(out.status, 'HTTP/1.1 200 OK');
    const [req] = evts(ev, 'http.req');
    assert.ok(req, 'an http.req from gnutls_record_send');
    assert.equal([d(req!).http_scheme, d(req!).http_target, d(req!).http_user_agent, d(req!).net_peer_port], ['https', '/gt?x=2', 'net_gnutls', srv.port]);
    const [resp] = evts(ev, 'http.resp');
    assert.equal([d(resp!).http_scheme, d(resp!).http_status_code, d(resp!).http_response_content_length], ['https', 200, 'gnutls body\n'.length]);
  } finally {
    await srv.close();
  }
});

test('HTTP/2 with prior knowledge (h2c): http.req and http.resp with flavor 2.0 and the stream id', async () => {
  const srv = await startH2c({ body: 'h2 body\n' });
  try {
    const { ev } = await scoped('curl', [...CURL, '--http2-prior-knowledge', '-H', 'X-Appscope: h2-trace', `${srv.url}two?k=v`]);
    assert.ok(evts(ev, 'net.app').some((e) => d(e).net_protocol === 'http'));
    const [req] = evts(ev, 'http.req');
    assert.ok(req, 'an http.req from the HEADERS frame');
    assert.equal(
      [d(req!).http_flavor, d(req!).http_stream, d(req!).http_method, d(req!).http_target, d(req!).http_host, d(req!)['x-appscope']],
      ['2.0', srv.requests[0]!.streamId, 'GET', '/two?k=v', `127.0.0.1:${srv.port}`, 'h2-trace'],
    );
    const [resp] = evts(ev, 'http.resp');
    assert.equal([d(resp!).http_flavor, d(resp!).http_stream, d(resp!).http_status_code], ['2.0', 1, 200]);
    assert.ok(Number(d(resp!).http_client_duration) > 0);
  } finally {
    await srv.close();
  }
});

test('pipelined requests on one connection are paired with their responses in order', async () => {
  const srv = await startHttp();
  try {
    const { ev } = await scoped('python3', [
      '-c',
      `
import socket
s = socket.create_connection(('127.0.0.1', ${srv.port}))
s.sendall(b''.join(b'GET /p%d HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n' % i for i in range(3)) + b'HEAD /h HTTP/1.1\\r\\nHost: h\\r\\nConnection: close\\r\\n\\r\\n')
data = b''
while True:
    b = s.recv(65536)
    if not b: break
    data += b
print(data.count(b'HTTP/1.1 200'))`,
    ]);
    assert.equal(
      evts(ev, 'http.req').map((e) => d(e).http_target),
      ['/p0', '/p1', '/p2', '/h'],
    );
    assert.equal(
      evts(ev, 'http.resp').map((e) => [d(e).http_method, d(e).http_target, d(e).http_status_code]),
      [
        ['GET', '/p0', 200],
        ['GET', '/p1', 200],
        ['GET', '/p2', 200],
        ['HEAD', '/h', 200],
      ],
    );
    const [close] = evts(ev, 'net.close');
    assert.is(d(close!).net_close_reason, 'remote', 'the server closed first');
  } finally {
    await srv.close();
  }
});

test('a scoped server: http.req and http.resp from the serving side with server durations', async () => {
  const s = session();
  // The server binds a port the kernel picks and writes it down (a random port could be taken).
  const portFile = join(s.dir, 'port');
  const server = runAsync(
    'python3',
    [
      '-c',
      `
import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    served = 0
    def do_GET(self):
        body = b'ok\\n'
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
        H.served += 1
    def log_message(self, *a): pass
srv = http.server.HTTPServer(('127.0.0.1', 0), H)
open('${portFile}.tmp', 'w').write(str(srv.server_address[1]))
import os; os.rename('${portFile}.tmp', '${portFile}')
while H.served < 20:
    srv.handle_request()
`,
    ],
    s.env,
    90_000,
  );
  // Until it writes the port or ends: a python3 that is pyenv's shim (bash scripts) under the
  // sanitized build on a busy machine takes well over 15 s to get there.
  let ended = false;
  void server.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  for (const t0 = Date.now(); !existsSync(portFile) && !ended && Date.now() - t0 < 90_000; ) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(portFile)) assert.unreachable(`the server wrote no port: ${(await server).stderr}`);
  const port = Number(readFileSync(portFile, 'utf8'));
  for (let i = 0; i < 20; i++) {
    const c = await runAsync('curl', [...CURL, '--retry', '3', '--retry-connrefused', `http://127.0.0.1:${port}/s${i}`]);
    assert.is(c.status, 0);
  }
  const done = await server;
  assert.is(done.status, 0, done.stderr);
  const ev = s.events();
  const resps = evts(ev, 'http.resp');
  assert.is(resps.length, 20);
  assert.ok(resps.every((e) => Number(d(e).http_server_duration) > 0 && d(e).http_client_duration === undefined));
  assert.equal(
    evts(ev, 'http.req').map((e) => d(e).http_target),
    Array.from({ length: 20 }, (_, i) => `/s${i}`),
  );
  assert.ok(evts(ev, 'net.open').every((e) => d(e).op === 'accept' || d(e).op === 'accept4'));
});

test('sensitive header values are redacted in events unless SCOPE_EVENT_HTTP_REDACT=false', async () => {
  const srv = await startHttp({ headers: { 'Set-Cookie': 'session=abc123secret' } });
  try {
    const args = [...CURL, '-H', 'Authorization: Bearer tok-s3cret', '-H', 'Cookie: id=cookie-s3cret', '-H', 'X-Plain: visible', srv.url];
    const on = await scoped('curl', args, { SCOPE_EVENT_HTTP_HEADER: '.*' });
    const req = d(evts(on.ev, 'http.req')[0]!);
    assert.is(req.http_request_header_authorization, '[REDACTED]');
    assert.is(req.http_request_header_cookie, '[REDACTED]');
    assert.is(req['http_request_header_x-plain'], 'visible');
    assert.is(d(evts(on.ev, 'http.resp')[0]!)['http_response_header_set-cookie'], '[REDACTED]');
    // (the command line itself holds them: body.cmd is the app's argv, not an HTTP record)
    const data = JSON.stringify(evts(on.ev).map((e) => e.body.data));
    assert.match(data, /http_request_header_x-plain/);
    assert.not.match(data, /s3cret|abc123secret/, 'no secret in any event data');
    const off = await scoped('curl', args, { SCOPE_EVENT_HTTP_HEADER: '(?i)authorization', SCOPE_EVENT_HTTP_REDACT: 'false' });
    const req2 = d(evts(off.ev, 'http.req')[0]!);
    assert.is(req2.http_request_header_authorization, 'Bearer tok-s3cret');
    assert.is(req2.http_request_header_cookie, undefined, 'only the headers asked for');
  } finally {
    await srv.close();
  }
});

test('a refused connection is a net.error of class connection', async () => {
  const srv = await startHttp();
  const port = srv.port;
  await srv.close(); // nothing listens there now
  const { ev } = await scoped('python3', [
    '-c',
    `
import socket
try:
    socket.create_connection(('127.0.0.1', ${port}))   # blocking: connect itself fails
except ConnectionRefusedError:
    print('refused')`,
  ]);
  const errs = evts(ev, 'net.error');
  assert.is(errs.length, 1);
  assert.equal([d(errs[0]!).op, d(errs[0]!).class, d(errs[0]!).errno_name], ['connect', 'connection', 'ECONNREFUSED']);
  assert.is(evts(ev, 'fs.error').filter((e) => d(e).op === 'connect').length, 0, 'not an fs error');
});

test('metric verbosity: summaries at 4, one metric per connection and request at 6', async () => {
  const srv = await startHttp();
  try {
    const v4 = (await scoped('curl', [...CURL, `${srv.url}m4`])).met.filter(isMetric);
    const open4 = v4.filter((m) => m.body._metric === 'net.open');
    assert.equal(
      open4.map((m) => [m.body.summary, m.body.class, m.body.proto, m.body._value]),
      [['true', 'inet_tcp', 'TCP', 1]],
    );
    const req4 = v4.filter((m) => m.body._metric === 'http.req');
    // AppScope's http_target and numops, summed per method, target and status
    assert.equal(
      req4.map((m) => [m.body.summary, m.body.http_method, m.body.http_status_code, m.body.http_target, m.body.numops]),
      [['true', 'GET', 200, '/m4', 1]],
    );
    for (const name of ['http.duration.client', 'http.resp.content_length'])
      assert.equal(
        v4.filter((m) => m.body._metric === name).map((m) => [m.body.http_target, m.body.numops]),
        [['/m4', 1]],
        name,
      );
    const v6 = (await scoped('curl', [...CURL, `${srv.url}m6`], { SCOPE_METRIC_VERBOSITY: '6' })).met.filter(isMetric);
    const open6 = v6.filter((m) => m.body._metric === 'net.open');
    assert.is(open6.length, 1);
    assert.equal([open6[0]!.body.summary, open6[0]!.body.port, open6[0]!.body.op], [undefined, srv.port, 'connect']);
    assert.ok(v6.some((m) => m.body._metric === 'net.close' && m.body.port === srv.port));
    assert.ok(v6.some((m) => m.body._metric === 'net.duration' && m.body._metric_type === 'timer'));
    const req6 = v6.filter((m) => m.body._metric === 'http.req');
    assert.equal(
      req6.map((m) => [m.body.summary, m.body.http_target, m.body.http_status_code, m.body.numops]),
      [[undefined, '/m6', 200, 1]],
    );
    for (const g of ['net.tcp', 'net.udp', 'net.other', 'net.port'])
      assert.ok(
        v4.some((m) => m.body._metric === g),
        g,
      );
  } finally {
    await srv.close();
  }
});

test('HTTP/2 inside TLS (ALPN h2): http events with flavor 2.0 and scheme https', async () => {
  const tls = await startHttps(); // only for its certificate
  const { createSecureServer } = await import('node:http2');
  const h2 = createSecureServer({ key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) }, (_req, res) => {
    res.setHeader('content-length', '3');
    res.end('h2\n');
  });
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
  const port = (h2.address() as { port: number }).port;
  try {
    const { ev } = await scoped('curl', [...CURL, '-k', '--http2', `https://127.0.0.1:${port}/tls2`]);
    const [req] = evts(ev, 'http.req');
    assert.ok(req, 'an http.req');
    assert.equal([d(req!).http_flavor, d(req!).http_scheme, d(req!).http_target, d(req!).http_stream], ['2.0', 'https', '/tls2', 1]);
    const [resp] = evts(ev, 'http.resp');
    assert.equal([d(resp!).http_status_code, d(resp!).http_status_text, d(resp!).http_response_content_length], [200, 'OK', 3]);
  } finally {
    await new Promise((r) => h2.close(r));
    await tls.close();
  }
});

test('a scoped node h2c server: server-side http events per stream', async () => {
  const s = session();
  const portFile = join(s.dir, 'port');
  const server = runAsync(
    process.execPath,
    [
      '-e',
      `
const http2 = require('node:http2');
const fs = require('node:fs');
let n = 0;
const srv = http2.createServer((req, res) => { res.end('ok'); if (++n === 3) setTimeout(() => srv.close(), 50); });
srv.listen(0, '127.0.0.1', () => fs.writeFileSync(${JSON.stringify(portFile)}, String(srv.address().port)));
`,
    ],
    s.env,
    30_000,
  );
  let port = 0;
  for (let i = 0; i < 100 && !port; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      port = Number(readFileSync(portFile, 'utf8'));
    } catch {
      // not written yet
    }
  }
  assert.ok(port > 0, 'the server said its port');
  for (let i = 0; i < 3; i++) assert.is((await runAsync('curl', [...CURL, '--http2-prior-knowledge', `http://127.0.0.1:${port}/n${i}`])).status, 0);
  const done = await server;
  assert.is(done.status, 0, done.stderr);
  const ev = s.events();
  assert.equal(
    evts(ev, 'http.req').map((e) => [d(e).http_target, d(e).http_flavor]),
    [
      ['/n0', '2.0'],
      ['/n1', '2.0'],
      ['/n2', '2.0'],
    ],
  );
  const resps = evts(ev, 'http.resp');
  assert.is(resps.length, 3);
  assert.ok(resps.every((e) => d(e).http_status_code === 200 && Number(d(e).http_server_duration) > 0));
});

type Side = { sent: number; recv: number; local_port: number | null; peer_port: number | null; fd: number };
test('every socket call, TCP/UDP over IPv4 and IPv6 and unix sockets: per-socket bytes as the program counted them', async () => {
  for (const [mode, transport] of [
    ['tcp4', 'IP.TCP'],
    ['tcp6', 'IP.TCP'],
    ['udp4', 'IP.UDP'],
    ['udp6', 'IP.UDP'],
    ['unix', 'Unix.TCP'],
    ['unixdgram', 'Unix.UDP'],
    ['peek', 'IP.TCP'],
  ] as const) {
    const { ev, r, met } = await scoped(prog('net_calls'), [mode]);
    const out = jsonLines(r.stdout)[0] as unknown as { client: Side; server: Side };
    const closes = evts(ev, 'net.close');
    // a socketpair is born connected, with no connect or accept to make it a connection: its
    // bytes count (below), without net.open/net.close (curl alone makes one for its wake-ups)
    if (mode === 'unixdgram') assert.is(closes.length, 0);
    for (const side of mode === 'unixdgram' ? [] : [out.client, out.server]) {
      const c = closes.find((e) => d(e).fd === side.fd && (transport.startsWith('Unix') || d(e).net_host_port === side.local_port));
      assert.ok(c, `${mode}: a net.close for fd ${side.fd}`);
      assert.is(d(c!).net_transport, transport, mode);
      assert.is(d(c!).net_bytes_sent, side.sent, `${mode}: bytes sent on fd ${side.fd}`);
      assert.is(d(c!).net_bytes_recv, side.recv, `${mode}: bytes received on fd ${side.fd}`);
      if (mode === 'tcp6') assert.is(d(c!).net_peer_ip, '::1');
    }
    if (mode === 'tcp4') {
      const reasons = closes.map((e) => [d(e).fd === out.client.fd ? 'client' : 'server', d(e).net_close_reason]).sort();
      assert.equal(reasons, [
        ['client', 'local'],
        ['server', 'remote'],
      ]);
    }
    const rx = met.filter(isMetric).filter((m: Metric) => m.body._metric === 'net.rx');
    const cls = { 'IP.TCP': 'inet_tcp', 'IP.UDP': 'inet_udp', 'Unix.TCP': 'unix_tcp', 'Unix.UDP': 'unix_udp' }[transport];
    assert.ok(
      rx.every((m) => m.body.class === cls),
      `${mode}: net.rx under ${cls}`,
    );
    assert.is(
      rx.reduce((t, m) => t + m.body._value, 0),
      out.client.recv + out.server.recv,
      `${mode}: net.rx counts each byte once`,
    );
  }
});

test('a failed connect is a net.error with its op, errno and peer, and no connection, however the app learns of it', async () => {
  const full = await fullBacklog(); // a listener that never answers: a connect the app gives up on
  try {
    for (const [mode, errno] of [
      ['refused', 'ECONNREFUSED'],
      ['nb-sockopt', 'ECONNREFUSED'],
      ['nb-io', 'ECONNREFUSED'],
      ['nb-close', 'ECONNREFUSED'],
      ['unreach', 'ENETUNREACH'],
      ['abandon', 'EINPROGRESS'],
    ] as const) {
      const { ev, r } = await scoped(prog('net_connect'), mode === 'abandon' ? [mode, String(full.port)] : [mode]);
      const out = jsonLines(r.stdout)[0]!;
      const errs = evts(ev, 'net.error');
      assert.is(errs.length, 1, `${mode}: one net.error`);
      const e = d(errs[0]!);
      assert.equal([e.op, e.errno_name, e.class, e.fd, e.net_peer_port], ['connect', errno, 'connection', out.fd, out.port], mode);
      if (mode === 'abandon') assert.match(String(e.message), /gave up/);
      assert.is(evts(ev, 'net.open').length, 0, `${mode}: no connection was made`);
      assert.is(evts(ev, 'net.close').length, 0, `${mode}: nothing closed that was connected`);
    }
    // connected late (non-blocking, getsockopt says 0): a connection like any other
    const ok = await scoped(prog('net_connect'), ['nb-ok']);
    const out = jsonLines(ok.r.stdout)[0]!;
    assert.is(evts(ok.ev, 'net.error').length, 0);
    const open = evts(ok.ev, 'net.open').find((e) => d(e).fd === out.fd);
    assert.equal([d(open!).op, d(open!).net_peer_port], ['connect', out.port]);
    const close = evts(ok.ev, 'net.close').find((e) => d(e).fd === out.fd);
    assert.equal([d(close!).net_bytes_sent, d(close!).net_bytes_recv], [1, 1]);
  } finally {
    full.stop();
  }
  // curl: a non-blocking connect, poll, getsockopt(SO_ERROR)
  const srv = await startHttp();
  const port = srv.port;
  await srv.close();
  const s = session();
  const c = await runAsync('curl', [...CURL, `http://127.0.0.1:${port}/`], s.env);
  assert.is(c.status, 7, 'curl: could not connect');
  const ev = s.events();
  assert.equal(
    evts(ev, 'net.error').map((e) => [d(e).op, d(e).errno_name, d(e).net_peer_port]),
    [['connect', 'ECONNREFUSED', port]],
  );
  assert.is(evts(ev, 'net.open').length, 0, 'curl made no connection');
  assert.is(evts(ev, 'net.close').length, 0);
});

test('node net client and server (libuv closes with syscall(SYS_close)): net.open and net.close for both ends', async () => {
  const { ev, r } = await scoped(process.execPath, [
    '-e',
    `
const net = require('node:net');
const srv = net.createServer((s) => { s.on('data', (b) => s.end('pong:' + b)); });
srv.listen(0, '127.0.0.1', () => {
  const c = net.connect(srv.address().port, '127.0.0.1', () => c.write('ping'));
  let got = '';
  c.on('data', (b) => { got += b; });
  c.on('close', () => { console.log(JSON.stringify({ got, port: srv.address().port })); srv.close(); });
});`,
  ]);
  const out = jsonLines(r.stdout)[0]!;
  assert.is(out.got, 'pong:ping');
  const opens = evts(ev, 'net.open');
  assert.equal(opens.map((e) => d(e).op).sort(), ['accept4', 'connect']);
  const closes = evts(ev, 'net.close');
  assert.is(closes.length, 2, 'a net.close for each end');
  const client = closes.find((e) => d(e).net_peer_port === out.port);
  const server = closes.find((e) => d(e).net_host_port === out.port);
  assert.equal([d(client!).net_bytes_sent, d(client!).net_bytes_recv], [4, 9]);
  assert.equal([d(server!).net_bytes_sent, d(server!).net_bytes_recv], [9, 4]);
});

test('HTTP/2: responses of 1 KB, 40 KB, 200 KB and 1 KB on one session are all seen, client and server side', async () => {
  const sizes = [1024, 40 * 1024, 200 * 1024, 1024];
  const { ev, r } = await scoped(process.execPath, [
    '-e',
    `
const http2 = require('node:http2');
const srv = http2.createServer((req, res) => {
  const n = Number(req.url.slice(1));
  res.setHeader('content-length', String(n));
  res.end(Buffer.alloc(n, 'x'));
});
srv.listen(0, '127.0.0.1', async () => {
  const s = http2.connect('http://127.0.0.1:' + srv.address().port);
  const got = [];
  for (const n of ${JSON.stringify(sizes)}) {
    got.push(await new Promise((ok, ko) => {
      const q = s.request({ ':path': '/' + n });
      let k = 0;
      q.on('data', (b) => { k += b.length; });
      q.on('end', () => ok(k));
      q.on('error', ko);
      q.end();
    }));
  }
  console.log(JSON.stringify({ got }));
  s.close();
  srv.close();
});`,
  ]);
  assert.equal(jsonLines(r.stdout)[0]!.got, sizes);
  const chans = [...new Set(evts(ev, 'http.req').map((e) => e._channel))];
  const sides = chans.map((ch) => {
    const reqs = evts(ev, 'http.req').filter((e) => e._channel === ch);
    const resps = evts(ev, 'http.resp').filter((e) => e._channel === ch);
    assert.equal(
      reqs.map((e) => d(e).http_target),
      sizes.map((n) => `/${n}`),
      'every request',
    );
    assert.equal(
      resps.map((e) => [d(e).http_target, d(e).http_status_code, d(e).http_response_content_length, d(e).http_flavor]),
      sizes.map((n) => [`/${n}`, 200, n, '2.0']),
      'every response',
    );
    return resps.every((e) => d(e).http_client_duration !== undefined) ? 'client' : resps.every((e) => d(e).http_server_duration !== undefined) ? 'server' : '?';
  });
  assert.equal(sides.sort(), ['client', 'server'], 'both ends of the connection');
});

test('DNS over TCP (two-byte length before each message) gives dns.req and dns.resp as over UDP', async () => {
  const stub = await startDnsStub({ a: ['10.9.8.7'], tcp: true });
  try {
    const { ev, r } = await scoped(
      'python3',
      [
        '-c',
        `
import socket, struct
def query(i, name):
    q = struct.pack('>HHHHHH', 0x1200 + i, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
    return struct.pack('>H', len(q)) + q
s = socket.create_connection(('127.0.0.1', ${stub.tcpPort}))
for i, name in enumerate(['one.example.test', 'gone.invalid']):
    s.sendall(query(i, name))
    n = struct.unpack('>H', s.recv(2, socket.MSG_WAITALL))[0]   # the length, then the message
    m = s.recv(n, socket.MSG_WAITALL)
    print(len(m))
s.close()`,
      ],
      { SCOPE_DNS_PORTS: `53,${stub.tcpPort}` },
    );
    assert.is(r.stdout.trim().split('\n').length, 2, 'two answers');
    assert.equal(
      evts(ev, 'dns.req').map((e) => [d(e).domain, d(e).query_type, d(e).net_peer_port]),
      [
        ['one.example.test', 'A', stub.tcpPort],
        ['gone.invalid', 'A', stub.tcpPort],
      ],
    );
    assert.equal(
      evts(ev, 'dns.resp').map((e) => [d(e).domain, d(e).addrs, d(e).error]),
      [
        ['one.example.test', ['10.9.8.7'], undefined],
        ['gone.invalid', [], 'NXDOMAIN'],
      ],
    );
    assert.is(stub.queries.length, 2);
  } finally {
    await stub.close();
  }
});

test.run();
