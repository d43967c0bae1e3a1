/**
 * nginx under `scope run`, serving 1 000 requests from a keep-alive client: exactly 1 000 http.req
 * and 1 000 http.resp events from the serving side, each response paired with its request, server
 * durations positive, nothing dropped (no queue or rate notice, session.json's drop count 0), and
 * every record valid against schemas/. nginx comes from Debian's packages (test/apps/install.sh);
 * it runs in the foreground with a master and one worker, on a loopback port picked here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { assertValidSession, envFor, events, freePort, newHome, readLast, runBin, scopeBin } from '../lib/harness.js';
import { tempDir } from '@scope/core/testing';

const REQUESTS = 1000;

function nginxConf(dir: string, port: number): string {
  return [
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'daemon off;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 256; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/tmp;`,
    `  server { listen 127.0.0.1:${port}; root ${dir}/html; location / { } }`,
    '}',
  ].join('\n');
}

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const agent = new Agent();
  const until = Date.now() + ms;
  for (;;) {
    try {
      await get(agent, port, '/ready');
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('nginx serving 1000 requests: 1000 http.req and 1000 http.resp, paired, nothing lost', async () => {
  const dir = tempDir('scope-nginx-');
  mkdirSync(join(dir, 'html'));
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'html', 'index.html'), '<p>hello from nginx</p>\n');
  const port = await freePort('tcp');
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port));
  const home = newHome();
  const child = spawn(process.execPath, [scopeBin, 'run', '--no-stream', '--', 'nginx', '-c', join(dir, 'nginx.conf'), '-p', dir], { env: envFor(home), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    await waitForPort(port, 15_000); // one request (/ready, a 404) before the counted ones
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const statuses: number[] = [];
    const paths = Array.from({ length: REQUESTS }, (_, i) => (i % 2 ? `/index.html?n=${i}` : `/?n=${i}`));
    for (let i = 0; i < paths.length; i += 8) statuses.push(...(await Promise.all(paths.slice(i, i + 8).map((p) => get(agent, port, p)))));
    agent.destroy();
    assert.is(statuses.filter((s) => s === 200).length, REQUESTS);
  } finally {
    // SIGQUIT: nginx's graceful stop; the master waits for its worker, both flush at exit
    const pid = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
    process.kill(pid, 'SIGQUIT');
  }
  const code = await exited;
  assert.is(code, 0, stderr);
  const { session, events: ev } = await readLast(home);
  await assertValidSession(session);
  const counted = (recs: typeof ev) => recs.filter((e) => String(e.body.data.http_target).includes('?n='));
  const reqs = counted(events(ev, 'http.req'));
  const resps = counted(events(ev, 'http.resp'));
  assert.is(reqs.length, REQUESTS, 'http.req events');
  assert.is(resps.length, REQUESTS, 'http.resp events');
  const targets = new Set(resps.map((e) => e.body.data.http_target));
  assert.is(targets.size, REQUESTS, 'each request answered once');
  assert.ok(resps.every((e) => e.body.data.http_status_code === 200 && e.body.data.http_method === 'GET'));
  assert.ok(
    resps.every((e) => e.body.data.http_server_duration > 0),
    'server durations are positive',
  );
  assert.ok(resps.every((e) => e.body.data.http_client_duration === undefined));
  assert.ok(reqs.every((e) => e.body.data.net_host_port === port && e.body.data.http_host === `127.0.0.1:${port}`));
  assert.is(events(ev, 'notice').length, 0, 'no drop notice');
  const manifest = JSON.parse(readFileSync(session.paths.manifest, 'utf8')) as Record<string, unknown>;
  assert.is(manifest.drops, 0, 'no drops in session.json');
  rmSync(dir, { recursive: true, force: true });
});

test('curl over one HTTP/2 TLS connection to nginx: every response of every size is an http.resp on the client side', async () => {
  const dir = tempDir('scope-nginx-h2-');
  mkdirSync(join(dir, 'html'));
  mkdirSync(join(dir, 'tmp'));
  const sizes = { a: 1000, b: 40_000, c: 200_000, d: 1000, e: 35_000, f: 10 };
  for (const [name, n] of Object.entries(sizes)) writeFileSync(join(dir, 'html', name), 'x'.repeat(n));
  const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], {
    encoding: 'utf8',
  });
  assert.is(cert.status, 0, cert.stderr);
  const port = await freePort('tcp');
  writeFileSync(
    join(dir, 'nginx.conf'),
    nginxConf(dir, port).replace(`listen 127.0.0.1:${port};`, `listen 127.0.0.1:${port} ssl http2; ssl_certificate ${dir}/cert.pem; ssl_certificate_key ${dir}/key.pem;`),
  );
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 150; i++) {
      if (spawnSync('curl', ['-sk', '-o', '/dev/null', `https://127.0.0.1:${port}/f`]).status === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const home = newHome();
    const urls = Object.keys(sizes).map((n) => `https://127.0.0.1:${port}/${n}`);
    const ran = await runBin(scopeBin, ['run', '--no-stream', '--', 'curl', '-sk', '--http2', ...urls.flatMap((u) => ['-o', '/dev/null', u])], envFor(home));
    assert.is(ran.status, 0, ran.stderr);
    const { events: ev } = await readLast(home);
    const resps = events(ev, 'http.resp').filter((e) => e.body.proc === 'curl');
    assert.equal(
      resps.map((e) => e.body.data.http_target).sort(),
      Object.keys(sizes)
        .map((n) => `/${n}`)
        .sort(),
      'one response per URL',
    );
    for (const r of resps) {
      assert.is(r.body.data.http_flavor, '2.0');
      assert.is(r.body.data.http_scheme, 'https');
      assert.is(r.body.data.http_status_code, 200);
      const name = String(r.body.data.http_target).slice(1) as keyof typeof sizes;
      assert.is(r.body.data.http_response_content_length, sizes[name], `content length of ${name}`);
      assert.ok(typeof r.body.data.http_client_duration === 'number');
    }
    assert.is(new Set(resps.map((e) => e._channel)).size, 1, 'all on one connection');
    assert.is(events(ev, 'http.req').filter((e) => e.body.proc === 'curl').length, Object.keys(sizes).length);
    rmSync(home, { recursive: true, force: true });
  } finally {
    const pidFile = join(dir, 'nginx.pid');
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGQUIT');
    await new Promise((r) => nginx.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
