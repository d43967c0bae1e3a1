/**
 * Real Go programs under `scope run` (Go from Debian's golang-go, test/apps/install.sh), built here
 * three ways: with cgo (dynamically linked: libscope would be loaded, and see nothing of Go's own
 * system calls), with CGO_ENABLED=0 (static) and static and stripped (-s -w: no symbol table).
 * Each is followed from outside (scope-supervise): its files, its connections, the DNS queries of
 * Go's own resolver and its proc.* metrics are recorded as its own, and one notice says what is not
 * seen (reads and writes). The program's output and status are its own.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { elfInfo } from '@scope/libscope';
import { tempDir } from '@scope/core/testing';
import { goBuild } from '../lib/gobuild.js';
import { assertValidSession, envFor, events, metrics, newHome, readLast, runBin, scopeRunBin, startRecords } from '../lib/harness.js';

const SAYS =
  ' is a Go program, followed from outside (scope-supervise): its files, connections, DNS queries, processes and the plaintext of its TLS connections (crypto/tls, Go 1.18 and later) are seen, not its other reads and writes';

// argv: DIR NAMESERVER URL — reads /etc/hostname, writes and deletes DIR/out.txt, resolves a name
// with Go's own resolver against NAMESERVER (UDP), and GETs URL.
const source = `package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	b, err := os.ReadFile("/etc/hostname")
	if err != nil {
		panic(err)
	}
	out := os.Args[1] + "/out.txt"
	if err := os.WriteFile(out, b, 0644); err != nil {
		panic(err)
	}
	os.Remove(out)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		return d.DialContext(ctx, "udp", os.Args[2])
	}}
	addrs, err := r.LookupHost(context.Background(), "go.example.test")
	fmt.Println("lookup", addrs, err)
	resp, err := http.Get(os.Args[3])
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("status", resp.StatusCode)
}
`;

const dir = tempDir('scope-go-');
writeFileSync(join(dir, 'main.go'), source);
writeFileSync(join(dir, 'go.mod'), 'module scopego\n\ngo 1.19\n');

const build = (name: string, cgo: '0' | '1', ldflags?: string) => goBuild(dir, name, cgo, ldflags ? ['-ldflags', ldflags] : []);

/** A name server answering A queries with 10.1.2.3 (AAAA with nothing), on UDP. */
async function nameServer() {
  const sock = createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (q, from) => {
    let i = 12;
    const labels: string[] = [];
    while (q[i]) {
      labels.push(q.subarray(i + 1, i + 1 + q[i]!).toString());
      i += 1 + q[i]!;
    }
    const qtype = q.readUInt16BE(i + 1);
    asked.push(`${labels.join('.')} ${qtype}`);
    const head = Buffer.from([q[0]!, q[1]!, 0x81, 0x80, 0, 1, 0, qtype === 1 ? 1 : 0, 0, 0, 0, 0]);
    const answer = qtype === 1 ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]) : Buffer.alloc(0);
    sock.send(Buffer.concat([head, q.subarray(12, i + 5), answer]), from.port, from.address);
  });
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
  return { port: sock.address().port, asked, close: () => new Promise<void>((res) => sock.close(() => res())) };
}

async function scoped(exe: string, expectDynamic: boolean) {
  const info = elfInfo(exe);
  assert.ok(info.elf && info.go, 'the addon tells a Go program');
  assert.is(info.elf && info.interpreter !== null, expectDynamic, expectDynamic ? 'built dynamic' : 'built static');
  const ns = await nameServer();
  const http = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((res) => http.listen(0, '127.0.0.1', res));
  const port = (http.address() as AddressInfo).port;
  const work = tempDir('scope-go-run-');
  const home = newHome();
  // SCOPE_DNS_PORTS: libscope reads the test's name server port as DNS
  const r = await runBin(scopeRunBin, ['--no-stream', '--', exe, work, `127.0.0.1:${ns.port}`, `http://127.0.0.1:${port}/`], envFor(home, { SCOPE_DNS_PORTS: String(ns.port) }));
  await ns.close();
  await new Promise((res) => http.close(res));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'lookup [10.1.2.3] <nil>\nstatus 200\n', 'the program ran as it does alone');
  assert.is(r.stderr, `scope-run: notice: ${exe}${SAYS}\n`);
  const { session, events: evs, metrics: mets } = await readLast(home);
  const pid = session.manifest.pid;
  assert.equal(session.manifest.notices, [exe + SAYS]);
  assert.equal(
    startRecords(evs).map((s) => [s['info'].process.pid, s['info'].process.procname]),
    [[pid, exe.split('/').pop()]],
  );
  const mine = (source: string) => events(evs, source).filter((e) => e['body'].pid === pid);
  assert.ok(
    mine('fs.open').some((e) => e['body'].data.file === '/etc/hostname'),
    "its open of /etc/hostname, Go's own openat",
  );
  assert.ok(
    mine('fs.open').some((e) => e['body'].data.file === join(work, 'out.txt')),
    'the file it wrote',
  );
  assert.ok(
    mine('fs.delete').some((e) => e['body'].data.file === join(work, 'out.txt')),
    'and deleted',
  );
  const req = mine('dns.req')
    .filter((e) => e['body'].data.domain === 'go.example.test')
    .map((e) => e['body'].data.query_type)
    .sort();
  assert.equal(req, ['A', 'AAAA'], "both queries of Go's resolver, as dns.req");
  assert.ok(ns.asked.includes('go.example.test 1'), 'which the server was asked');
  const web = mine('net.open').find((e) => e['body'].data.net_peer_port === port);
  assert.ok(web, 'net.open of the HTTP connection');
  assert.is(web!['body'].data.net_transport, 'IP.TCP');
  for (const name of ['proc.cpu', 'proc.mem', 'proc.fd', 'proc.thread']) {
    assert.ok(
      metrics(mets, name).some((m) => m['body'].pid === pid),
      `${name}, read at its end`,
    );
  }
  await assertValidSession(session);
}

test('a dynamically linked Go program (cgo): followed from outside, its own calls recorded', async () => {
  await scoped(build('godyn', '1'), true);
});

test('a static Go program (CGO_ENABLED=0)', async () => {
  await scoped(build('gostatic', '0'), false);
});

test('a static, stripped Go program (-s -w)', async () => {
  await scoped(build('gostripped', '0', '-s -w'), false);
});

test.run();
