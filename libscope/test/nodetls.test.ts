// node's https, client and server, under the real library. node's OpenSSL is linked into its
// executable and called directly (never through a GOT entry): libscope hooks SSL_read and
// SSL_write at their entry (interpose/hook.c, wrap_tls.c). A node built against the system's
// libssl is seen through the GOT instead; either way its TLS plaintext must become http events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { evts, session } from './lib.js';
import type { Evt, Json } from './lib.js';
import { runAsync, startHttps } from './servers.js';
import { spawn } from 'node:child_process';

const d = (e: Evt): Json => e.body.data;

test('a node https client: its request and the response, from inside TLS, as http events with scheme https', async () => {
  const srv = await startHttps({ body: 'secret from the server\n' });
  try {
    const s = session({ SCOPE_EVENT_HTTP: 'true' });
    const script = `const https = require('https');
const req = https.request({ host: '127.0.0.1', port: ${srv.port}, path: '/nodetls?x=1', method: 'POST', rejectUnauthorized: false, agent: false }, (r) => {
  let body = ''; r.on('data', (c) => (body += c)); r.on('end', () => console.log(String(r.statusCode) + ' ' + JSON.stringify(body)));
});
req.end('hello from node');`;
    const r = await runAsync(process.execPath, ['-e', script], s.env);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '200 "secret from the server\\n"\n');
    const ev = s.events();
    const req = evts(ev, 'http.req');
    assert.equal(
      req.map((e) => [d(e).http_method, d(e).http_target, d(e).http_scheme, d(e).net_peer_port]),
      [['POST', '/nodetls?x=1', 'https', srv.port]],
      `http.req: ${JSON.stringify(req.map((e) => d(e)))}; log: ${s.log().slice(-600)}`,
    );
    const resp = evts(ev, 'http.resp');
    assert.equal(
      resp.map((e) => [d(e).http_status_code, d(e).http_scheme, d(e).net_peer_port]),
      [[200, 'https', srv.port]],
    );
  } finally {
    await srv.close();
  }
});

test('a node https server: the request it got and its answer, as http events with scheme https', async () => {
  const cert = await startHttps({}); // only for its certificate (made by openssl for CN=localhost)
  const s = session({ SCOPE_EVENT_HTTP: 'true', SCOPE_LOG_LEVEL: 'info' });
  const script = `const https = require('https'), fs = require('fs');
const srv = https.createServer({ key: fs.readFileSync(${JSON.stringify(cert.keyFile)}), cert: fs.readFileSync(${JSON.stringify(cert.certFile)}) }, (q, res) => {
  res.setHeader('content-type', 'text/plain'); res.end('served over tls\\n'); srv.close();
});
srv.listen(0, '127.0.0.1', () => console.log(String(srv.address().port)));`;
  const child = spawn(process.execPath, ['-e', script], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    setTimeout(() => reject(new Error(`no port from the server within 20 s: ${out} ${err}`)), 20_000).unref();
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('close', () => reject(new Error(`the server ended: ${err}`)));
  });
  const body = await new Promise<string>((resolve, reject) => {
    const q = request({ host: '127.0.0.1', port, path: '/served?y=2', rejectUnauthorized: false, agent: false }, (r) => {
      let b = '';
      r.on('data', (c: Buffer) => (b += c.toString()));
      r.on('end', () => resolve(b));
    });
    q.on('error', reject);
    q.end();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('close', resolve)));
  clearTimeout(timer);
  await cert.close();
  assert.is(code, 0, err);
  assert.is(body, 'served over tls\n');
  const ev = s.events();
  const req = evts(ev, 'http.req');
  assert.equal(
    req.map((e) => [d(e).http_method, d(e).http_target, d(e).http_scheme, d(e).net_host_port]),
    [['GET', '/served?y=2', 'https', port]],
    `http.req: ${JSON.stringify(req.map((e) => d(e)))}; log: ${s.log().slice(-600)}`,
  );
  const resp = evts(ev, 'http.resp');
  assert.equal(
    resp.map((e) => [d(e).http_status_code, d(e).http_scheme, d(e).net_host_port]),
    [[200, 'https', port]],
  );
  // how libscope saw it: hooked at the entry when this node carries its own OpenSSL (no libssl
  // mapped: this test runs on the same node), else through the GOT
  if (!readFileSync('/proc/self/maps', 'utf8').includes('libssl.so')) assert.match(s.log(), /SSL_read of the executable hooked at its entry/);
});

test("node http2 over TLS, client and server in one process: both sides' http events, flavor 2.0, scheme https", async () => {
  const cert = await startHttps({}); // only for its certificate
  const s = session({ SCOPE_EVENT_HTTP: 'true' });
  const script = `const http2 = require('http2'), fs = require('fs');
const srv = http2.createSecureServer({ key: fs.readFileSync(${JSON.stringify(cert.keyFile)}), cert: fs.readFileSync(${JSON.stringify(cert.certFile)}) });
srv.on('stream', (st) => { st.respond({ ':status': 200, 'content-type': 'text/plain' }); st.end('h2 over tls\\n'); });
srv.listen(0, '127.0.0.1', () => {
  const c = http2.connect('https://127.0.0.1:' + srv.address().port, { rejectUnauthorized: false });
  const r = c.request({ ':path': '/h2?z=3' });
  let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => { console.log(JSON.stringify(b)); c.close(); srv.close(); });
  r.end();
});`;
  const r = await runAsync(process.execPath, ['-e', script], s.env);
  await cert.close();
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '"h2 over tls\\n"\n');
  const ev = s.events();
  const req = evts(ev, 'http.req');
  assert.equal(
    req.map((e) => [d(e).http_method, d(e).http_target, d(e).http_flavor, d(e).http_scheme]),
    [
      ['GET', '/h2?z=3', '2.0', 'https'],
      ['GET', '/h2?z=3', '2.0', 'https'],
    ],
    `the client's and the server's: ${JSON.stringify(req.map((e) => d(e)))}`,
  );
  const resp = evts(ev, 'http.resp');
  assert.equal(
    resp.map((e) => [d(e).http_status_code, d(e).http_flavor, d(e).http_scheme]),
    [
      [200, '2.0', 'https'],
      [200, '2.0', 'https'],
    ],
  );
});

test.run();
