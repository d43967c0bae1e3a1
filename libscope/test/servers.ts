// Servers for the network tests, in this process on loopback with node built-ins only: HTTP/1.1,
// HTTPS (a self-signed certificate made with the openssl CLI), cleartext HTTP/2 (prior knowledge)
// and a DNS stub over UDP. Each records what it received and counts the raw bytes of every TCP
// connection (what libscope sees at the syscall level: for HTTPS the encrypted bytes), and each
// close() ends every connection and handle it made, so the test process can exit.
// A program that talks to these servers must be started with runAsync (spawnSync would block the
// event loop the servers run on).
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stripScope } from './lib.js';
import { tempDir } from '@scope/core/testing';

export interface ConnectionStat {
  /** raw bytes the server read from / wrote to this TCP connection (socket.bytesRead/bytesWritten) */
  bytesRead: number;
  bytesWritten: number;
  /** the client's port */
  remotePort: number;
  /** the socket has closed (the numbers are final) */
  closed: boolean;
}

export interface HttpRequestRecord {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** bytes of request body received */
  bodyBytes: number;
}

export interface HttpOptions {
  /** response body for any path (default "hello\n") */
  body?: string | Buffer;
  /** response status (default 200) */
  status?: number;
  /** extra response headers */
  headers?: Record<string, string>;
}

export interface HttpServer {
  port: number;
  /** http://127.0.0.1:PORT/ (https:// for startHttps) */
  url: string;
  /** one entry per accepted TCP connection, in accept order; live numbers until it closes */
  stats: () => { connections: ConnectionStat[] };
  requests: HttpRequestRecord[];
  /** closes the server and destroys every connection (keep-alive ones too) */
  close: () => Promise<void>;
}

export interface HttpsServer extends HttpServer {
  /** the self-signed certificate (CN=localhost), PEM; removed by close() */
  certFile: string;
  keyFile: string;
}

export interface H2RequestRecord {
  method: string;
  path: string;
  /** every header of the request, pseudo-headers included */
  headers: http2.IncomingHttpHeaders;
  streamId: number;
  bodyBytes: number;
}

export interface H2cServer {
  port: number;
  /** http://127.0.0.1:PORT/ */
  url: string;
  stats: () => { connections: ConnectionStat[] };
  requests: H2RequestRecord[];
  close: () => Promise<void>;
}

/** Counts the raw bytes of every connection a server accepts; destroys them all on demand. */
function trackConnections(server: net.Server): { stats: () => { connections: ConnectionStat[] }; destroyAll: () => void } {
  const conns: { socket: net.Socket; remotePort: number; final?: ConnectionStat }[] = [];
  server.on('connection', (socket: net.Socket) => {
    const c: (typeof conns)[number] = { socket, remotePort: socket.remotePort ?? 0 };
    conns.push(c);
    socket.once('close', () => {
      c.final = { bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten, remotePort: c.remotePort, closed: true };
    });
  });
  return {
    stats: () => ({
      connections: conns.map(
        (c) =>
          c.final ?? {
            bytesRead: c.socket.bytesRead,
            bytesWritten: c.socket.bytesWritten,
            remotePort: c.remotePort,
            closed: c.socket.destroyed,
          },
      ),
    }),
    destroyAll: () => {
      for (const c of conns) c.socket.destroy();
    },
  };
}

function listenLoopback(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Stops listening, destroys every connection, resolves once the server has closed; a second
 * call resolves at once. */
function closeServer(server: net.Server, destroyAll: () => void): Promise<void> {
  return new Promise((resolve) => {
    if (server.listening) server.close(() => resolve());
    else resolve();
    destroyAll();
  });
}

function answerHttp(opts: HttpOptions, requests: HttpRequestRecord[]) {
  const body = Buffer.from(opts.body ?? 'hello\n');
  const status = opts.status ?? 200;
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const rec: HttpRequestRecord = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: 0 };
    requests.push(rec);
    req.on('data', (chunk: Buffer) => (rec.bodyBytes += chunk.length));
    req.on('end', () => {
      res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length), ...opts.headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  };
}

/** An HTTP/1.1 server on 127.0.0.1 (port 0) answering any path with opts.body and opts.status. */
export async function startHttp(opts: HttpOptions = {}): Promise<HttpServer> {
  const requests: HttpRequestRecord[] = [];
  const server = http.createServer(answerHttp(opts, requests));
  const track = trackConnections(server);
  const port = await listenLoopback(server);
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    stats: track.stats,
    requests,
    close: () => closeServer(server, track.destroyAll),
  };
}

/** startHttp over TLS, with a self-signed certificate for CN=localhost made now by `openssl req`. */
export async function startHttps(opts: HttpOptions = {}): Promise<HttpsServer> {
  const dir = tempDir('scope-https-');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyFile, '-out', certFile]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const requests: HttpRequestRecord[] = [];
  const server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, answerHttp(opts, requests));
  const track = trackConnections(server); // 'connection' is the raw TCP socket: encrypted bytes
  const port = await listenLoopback(server);
  return {
    port,
    url: `https://127.0.0.1:${port}/`,
    certFile,
    keyFile,
    stats: track.stats,
    requests,
    close: async () => {
      await closeServer(server, track.destroyAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A cleartext HTTP/2 server (prior knowledge, e.g. curl --http2-prior-knowledge) answering any
 * path with status 200 (opts.status) and opts.body. */
export async function startH2c(opts: HttpOptions = {}): Promise<H2cServer> {
  const body = Buffer.from(opts.body ?? 'hello\n');
  const status = opts.status ?? 200;
  const requests: H2RequestRecord[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const rec: H2RequestRecord = {
      method: String(headers[':method'] ?? ''),
      path: String(headers[':path'] ?? ''),
      headers,
      streamId: stream.id ?? 0,
      bodyBytes: 0,
    };
    requests.push(rec);
    stream.on('data', (chunk: Buffer) => (rec.bodyBytes += chunk.length));
    stream.on('end', () => {
      if (stream.destroyed || stream.closed) return;
      stream.respond({ ':status': status, 'content-type': 'text/plain', 'content-length': body.length, ...opts.headers });
      stream.end(rec.method === 'HEAD' ? undefined : body);
    });
    stream.on('error', () => {}); // a client going away mid-stream is not the server's failure
  });
  const track = trackConnections(server);
  const port = await listenLoopback(server);
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    stats: track.stats,
    requests,
    close: () =>
      closeServer(server, () => {
        for (const s of sessions) s.destroy();
        track.destroyAll();
      }),
  };
}

export interface DnsQuery {
  id: number;
  /** the question's name as sent, without a trailing dot */
  name: string;
  /** 1 = A, 28 = AAAA, … */
  type: number;
  typeName: string;
  /** the question's class (1 = IN) */
  qclass: number;
  /** who asked */
  from: { address: string; port: number };
  /** size of the query datagram */
  bytes: number;
  /** the rcode answered (0 NOERROR, 3 NXDOMAIN, 1 FORMERR), -1 when not answered (opts.silent) */
  rcode: number;
  /** the addresses answered */
  answers: string[];
}

export interface DnsOptions {
  /** addresses for A queries, any name (default ["10.1.2.3"]) */
  a?: string[];
  /** addresses for AAAA queries, any name (default ["fd00::1"]) */
  aaaa?: string[];
  /** TTL of the answers (default 60) */
  ttl?: number;
  /** record queries but never answer (a client timing out) */
  silent?: boolean;
  /** also answer DNS over TCP (two-byte length before each message), on tcpPort */
  tcp?: boolean;
}

export interface DnsStub {
  port: number;
  /** the TCP listener's port (opts.tcp), else 0 */
  tcpPort: number;
  address: '127.0.0.1';
  /** every query received, in order */
  queries: DnsQuery[];
  /** datagrams that were not a parseable query */
  malformed: () => number;
  close: () => Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };

/** The 16 bytes of an IPv6 address in text form (with ::, and a trailing dotted IPv4 part). */
function ipv6Bytes(text: string): Buffer {
  if (!net.isIPv6(text)) throw new Error(`not an IPv6 address: ${text}`);
  let s = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1]) {
    const b = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${(((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16)}:${(((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function ipv4Bytes(text: string): Buffer {
  if (!net.isIPv4(text)) throw new Error(`not an IPv4 address: ${text}`);
  return Buffer.from(text.split('.').map(Number));
}

/** The name at off (following compression pointers) and the offset just past it, or null. */
function readName(msg: Buffer, off: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let end = -1;
  let hops = 0;
  for (;;) {
    if (off >= msg.length) return null;
    const l = msg[off] ?? 0;
    if ((l & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length || ++hops > 16) return null;
      if (end < 0) end = off + 2;
      off = ((l & 0x3f) << 8) | (msg[off + 1] ?? 0);
      continue;
    }
    if ((l & 0xc0) !== 0) return null;
    if (l === 0) return { name: labels.join('.'), end: end < 0 ? off + 1 : end };
    if (off + 1 + l > msg.length) return null;
    labels.push(msg.subarray(off + 1, off + 1 + l).toString('latin1'));
    off += 1 + l;
  }
}

/** A DNS server over UDP on 127.0.0.1 (port 0): A and AAAA for any name from opts, NXDOMAIN for
 * names ending in ".invalid", an empty NOERROR for other types. */
export async function startDnsStub(opts: DnsOptions = {}): Promise<DnsStub> {
  const a = (opts.a ?? ['10.1.2.3']).map(ipv4Bytes);
  const aaaa = (opts.aaaa ?? ['fd00::1']).map(ipv6Bytes);
  const aText = opts.a ?? ['10.1.2.3'];
  const aaaaText = opts.aaaa ?? ['fd00::1'];
  const ttl = opts.ttl ?? 60;
  const queries: DnsQuery[] = [];
  let malformed = 0;
  let closed = false;
  const sock = dgram.createSocket('udp4');
  // one query in, its answer (if any) out, over either transport
  const answer = (msg: Buffer, rinfo: { address: string; port: number }, send: (b: Buffer) => void): void => {
    if (msg.length < 12 || (msg[2] ?? 0) & 0x80) {
      malformed++; // too short for a header, or a response
      return;
    }
    const id = msg.readUInt16BE(0);
    const qdcount = msg.readUInt16BE(4);
    const q = qdcount >= 1 ? readName(msg, 12) : null;
    const reply = (rcode: number, question: Buffer, answers: Buffer[]): void => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(id, 0);
      h[2] = 0x80 | ((msg[2] ?? 0) & 0x79); // QR, the query's opcode and RD; AA
      h[2] |= 0x04;
      h[3] = 0x80 | rcode; // RA
      h.writeUInt16BE(question.length > 0 ? 1 : 0, 4);
      h.writeUInt16BE(answers.length, 6);
      send(Buffer.concat([h, question, ...answers]));
    };
    if (!q || q.end + 4 > msg.length) {
      malformed++;
      if (!opts.silent) reply(1, Buffer.alloc(0), []);
      return;
    }
    const type = msg.readUInt16BE(q.end);
    const qclass = msg.readUInt16BE(q.end + 2);
    const name = q.name.replace(/\.$/, '');
    const rec: DnsQuery = {
      id,
      name,
      type,
      typeName: TYPE_NAMES[type] ?? `TYPE${type}`,
      qclass,
      from: { address: rinfo.address, port: rinfo.port },
      bytes: msg.length,
      rcode: -1,
      answers: [],
    };
    queries.push(rec);
    if (opts.silent) return;
    // the question, with the name uncompressed at offset 12 so answers can point to it
    const labels = name === '' ? [] : name.split('.');
    const question = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0, type >> 8, type & 0xff, qclass >> 8, qclass & 0xff])]);
    const lower = name.toLowerCase();
    if (lower === 'invalid' || lower.endsWith('.invalid')) {
      rec.rcode = 3;
      reply(3, question, []);
      return;
    }
    const rdatas = type === 1 ? a : type === 28 ? aaaa : [];
    rec.answers = type === 1 ? [...aText] : type === 28 ? [...aaaaText] : [];
    const answers = rdatas.map((rd) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(ttl, 6);
      rr.writeUInt16BE(rd.length, 10);
      return Buffer.concat([rr, rd]);
    });
    rec.rcode = 0;
    reply(0, question, answers);
  };
  sock.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => answer(msg, rinfo, (b) => sock.send(b, rinfo.port, rinfo.address)));
  const conns = new Set<net.Socket>();
  const tcp = opts.tcp
    ? net.createServer((c) => {
        conns.add(c);
        c.on('close', () => conns.delete(c));
        c.on('error', () => undefined);
        let buf = Buffer.alloc(0);
        c.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
            buf = buf.subarray(2 + msg.length);
            answer(msg, { address: c.remoteAddress ?? '', port: c.remotePort ?? 0 }, (b) => {
              const len = Buffer.alloc(2);
              len.writeUInt16BE(b.length);
              c.write(Buffer.concat([len, b]));
            });
          }
        });
      })
    : null;
  const tcpPort = tcp ? await listenLoopback(tcp) : 0;
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return {
    port: sock.address().port,
    tcpPort,
    address: '127.0.0.1',
    queries,
    malformed: () => malformed,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        for (const c of conns) c.destroy();
        if (tcp) tcp.close();
        sock.close(() => resolve());
      }),
  };
}

/** python3 (fullbacklog.py): a listener whose accept queue is full, so further connects are never
 * answered. */
export function fullBacklog(): Promise<{ port: number; stop: () => void }> {
  const child = spawn('python3', [fileURLToPath(new URL('../../test/fullbacklog.py', import.meta.url))], { env: stripScope(), stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (b: Buffer) => resolve({ port: Number(b.toString().trim()), stop: () => child.stdin.end() }));
    child.on('error', reject);
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function findFreePort(): Promise<number> {
  const s = net.createServer();
  const port = await listenLoopback(s);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface AsyncRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (the servers above keep answering); env
 * defaults to an unscoped one. Killed with SIGKILL after timeout ms. */
export function runAsync(cmd: string, args: string[], env?: NodeJS.ProcessEnv, timeout = 30_000): Promise<AsyncRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: env ?? stripScope(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Every non-empty line of a program's stdout, parsed as JSON. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
