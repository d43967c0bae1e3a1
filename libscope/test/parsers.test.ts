// The HTTP parsers of libscope (src/proto: http1.c and http1body.c, hpack.c, h2.c) run by the
// httpparse driver (test/parse/httpparse.c) over hand-written HTTP/1 bytes, the RFC 7541 Appendix C
// header blocks in HTTP/2 frames, and real HTTP/1.1 and HTTP/2 traffic recorded by a proxy between
// curl (or node's HTTP/2 client) and a node server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { prog } from './lib.js';

const PARSE = prog('httpparse');

interface Msg {
  request: boolean;
  flavor: number;
  stream: number;
  method: string;
  target: string;
  authority: string;
  scheme: string;
  status: number;
  reason: string;
  content_length: number;
  end_stream: boolean;
  headers: [string, string][];
}
interface Final {
  final: true;
  upgraded: boolean;
  broken: boolean;
}
type Line = Msg | Final | Record<string, unknown>;

const BASE: Msg = {
  request: false,
  flavor: 11,
  stream: 0,
  method: '',
  target: '',
  authority: '',
  scheme: '',
  status: 0,
  reason: '',
  content_length: -1,
  end_stream: false,
  headers: [],
};
const req = (method: string, target: string, headers: [string, string][] = [], more: Partial<Msg> = {}): Msg => ({ ...BASE, request: true, method, target, headers, ...more });
const resp = (status: number, reason: string, headers: [string, string][] = [], more: Partial<Msg> = {}): Msg => ({ ...BASE, status, reason, headers, ...more });
const fin = (upgraded: boolean, broken = false): Final => ({ final: true, upgraded, broken });

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Runs the driver; every output line is JSON. An HTTP/1 run is made twice: the second time with
 * only the framing headers read (--framing-only, as the reporting thread parses when no http event
 * wants the headers), which must find the same messages and framing, without their headers. */
function parse(args: string[], input: Buffer | string): Line[] {
  const lines = run(args, input);
  if (args.some((a) => a.startsWith('--h1-')) && !args.includes('--framing-only')) {
    const bare = lines.map((l) => ('headers' in l ? { ...l, headers: [] } : l));
    assert.equal(run([...args, '--framing-only'], input), bare, `httpparse ${args.join(' ')} --framing-only`);
  }
  return lines;
}

function run(args: string[], input: Buffer | string): Line[] {
  const r = spawnSync(PARSE, args, { input: typeof input === 'string' ? bytes(input) : input, maxBuffer: 64 << 20, timeout: 60_000 });
  if (r.error) throw r.error;
  assert.is(r.status, 0, `httpparse ${args.join(' ')} exited ${String(r.status)} ${String(r.signal)}: ${r.stderr.toString()}`);
  const out = r.stdout.toString('utf8');
  assert.ok(out === '' || out.endsWith('\n'), 'output ends with a newline');
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** The same output whatever the piece size (whole, and 1, 2, 3, 7, 64 bytes at a time). */
function parseAllPieces(args: string[], input: Buffer | string, expected: Line[]): void {
  assert.equal(parse(args, input), expected, `${args.join(' ')} whole`);
  for (const n of [1, 2, 3, 7, 64]) assert.equal(parse([...args, '--piece', String(n)], input), expected, `${args.join(' ')} --piece ${n}`);
}

// ---- HTTP/1 by hand ----

test('HTTP/1 requests: pipelined with Content-Length and chunked bodies, bare LF, folding, any piece size', () => {
  const input =
    'GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello' +
    'POST /upload HTTP/1.1\r\nHost: example.com\r\ntransfer-encoding: Chunked\r\n\r\n' +
    '5;name=val\r\nHELLO\r\n14\r\nGET /no HTTP/1.1\r\n\r\n\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n' +
    '\r\n' + // a stray empty line between messages is ignored
    'PUT /p HTTP/1.0\nContent-length:  20 \nX-Fold: first\n\tsecond  \n third\nX-Empty:\n\nGET /nope HTTP/1.1\r\n\r\n' +
    'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n' +
    'DELETE /d HTTP/1.1\r\ncontent-length: 0\r\n\r\n' +
    'OPTIONS * HTTP/1.1\r\nCONTENT-LENGTH: 2\r\n\r\nokPATCH /x HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n!';
  parseAllPieces(['--h1-req'], input, [
    req(
      'GET',
      '/a?x=1',
      [
        ['Host', 'example.com'],
        ['Content-Length', '5'],
      ],
      { content_length: 5 },
    ),
    req('POST', '/upload', [
      ['Host', 'example.com'],
      ['transfer-encoding', 'Chunked'],
    ]),
    req(
      'PUT',
      '/p',
      [
        ['Content-length', '20'],
        ['X-Fold', 'first second third'],
        ['X-Empty', ''],
      ],
      { flavor: 10, content_length: 20 },
    ),
    req('HEAD', '/', [['Host', 'h']]),
    req('DELETE', '/d', [['content-length', '0']], { content_length: 0 }),
    req('OPTIONS', '*', [['CONTENT-LENGTH', '2']], { content_length: 2 }),
    req('PATCH', '/x', [['Content-Length', '1, 1']], { content_length: 1 }),
  ]);
});

test('HTTP/1 responses: Content-Length, chunked with extensions and trailers, 1xx, 204, 304, until close', () => {
  const input =
    'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nHTTP/1.1 200' +
    'HTTP/1.1 100 Continue\r\n\r\n' +
    'HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\nTrailer: X-Sum\r\n\r\n' +
    '1A\r\nabcdefghijklmnopqrstuvwxyz\r\n3;ext;more="x"\r\nxyz\r\n000\r\nX-Sum: 42\r\n\r\n' +
    'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n' +
    'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 99\r\n\r\n' +
    'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n' +
    'HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n' +
    'HTTP/1.1 202\nContent-Length: 1\n\nx' +
    'HTTP/1.0 200 OK\r\nServer: old\r\n\r\n' +
    'until close HTTP/1.1 200 OK\r\n\r\n';
  parseAllPieces(['--h1-resp', '--final'], input, [
    resp(
      200,
      'OK',
      [
        ['Content-Length', '12'],
        ['Content-Type', 'text/plain'],
      ],
      { content_length: 12 },
    ),
    resp(100, 'Continue'),
    resp(201, 'Created', [
      ['Transfer-Encoding', 'gzip, chunked'],
      ['Trailer', 'X-Sum'],
    ]),
    resp(204, 'No Content', [['Content-Length', '10']], { content_length: 10 }),
    resp(
      304,
      'Not Modified',
      [
        ['ETag', '"x"'],
        ['Content-Length', '99'],
      ],
      { content_length: 99 },
    ),
    resp(103, 'Early Hints', [['Link', '</s.css>; rel=preload']]),
    resp(404, '', [['Content-Length', '0']], { content_length: 0 }),
    resp(202, '', [['Content-Length', '1']], { content_length: 1 }),
    resp(200, 'OK', [['Server', 'old']], { flavor: 10 }),
    fin(false),
  ]);
});

test('HTTP/1 responses to HEAD: the callback says there is no body', () => {
  const input = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n' + 'HTTP/1.1 200 OK\r\n\r\n';
  const all = [resp(200, 'OK', [['Content-Length', '1000']], { content_length: 1000 }), resp(404, 'Not Found', [['Transfer-Encoding', 'chunked']]), resp(200, 'OK')];
  parseAllPieces(['--h1-resp', '--head-response'], input, all);
  // answered as for GET, the 1000 bytes of body swallow the rest
  parseAllPieces(['--h1-resp'], input, [all[0]!]);
});

test('HTTP/1 upgrades: 101, CONNECT, and a 2xx the consumer knows answers CONNECT', () => {
  const after = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n';
  parseAllPieces(['--h1-resp', '--final'], 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' + after, [
    resp(101, 'Switching Protocols', [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
    ]),
    fin(true),
  ]);
  parseAllPieces(['--h1-req', '--final'], 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n' + after, [req('CONNECT', 'example.com:443', [['Host', 'example.com:443']]), fin(true)]);
  parseAllPieces(['--h1-resp', '--final', '--connect-response'], 'HTTP/1.1 200 Connection established\r\n\r\n' + after, [resp(200, 'Connection established'), fin(true)]);
  // a request that asks for an upgrade is an ordinary request until a 101 answers it
  parseAllPieces(['--h1-req', '--final'], 'GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\n\r\n', [
    req('GET', '/chat', [['Upgrade', 'websocket']]),
    req('GET', '/next'),
    fin(false),
  ]);
});

const R1 = 'POST /one HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789';
const R2 = 'GET /two HTTP/1.1\r\nHost: h\r\n\r\n';
const R3 = 'GET /three HTTP/1.1\r\n\r\n';
const M1 = req('POST', '/one', [['Content-Length', '10']], { content_length: 10 });
const M2 = req('GET', '/two', [['Host', 'h']]);
const M3 = req('GET', '/three');

test('HTTP/1 gaps: skipped inside a body of known length, a lost head resynchronises at a later piece', () => {
  const input = R1 + R2 + R3;
  const L1 = R1.length,
    L2 = R2.length;
  assert.equal(parse(['--h1-req', '--gap', `${L1 - 8}:4`], input), [M1, M2, M3], 'gap inside the body');
  assert.equal(parse(['--h1-req', '--gap', `${L1 - 10}:10`], input), [M1, M2, M3], 'gap ending the body');
  assert.equal(parse(['--h1-req', '--gap', `${L1 - 10}:10`, '--piece', '1'], input), [M1, M2, M3], 'gap ending the body, 1-byte pieces');
  // the gap runs into R2's head: R2 is lost, and so is R3, which is not at the start of a piece…
  assert.equal(parse(['--h1-req', '--gap', `${L1 - 5}:10`], input), [M1], 'gap past the body');
  // …unless a piece starts with it
  assert.equal(parse(['--h1-req', '--gap', `${L1 - 5}:10`, '--piece', String(L2 - 5)], input), [M1, M3], 'resync at a piece start');
  assert.equal(parse(['--h1-req', '--gap', `${L1 + 3}:${L2 - 3}`], input), [M1, M3], 'gap inside a head, ending at the next message');
  assert.equal(parse(['--h1-req', '--gap', `0:${L1}`], input), [M2, M3], 'the first message missing entirely');
  assert.equal(parse(['--h1-req', '--gap', `${L1}:1`], input), [M1], 'the first byte of a head missing');
  assert.equal(parse(['--h1-req', '--gap', `${L1 + L2 - 1}:1`], input), [M1, M3], 'the last byte of a head missing');
  assert.equal(parse(['--h1-req', '--gap', `${L1 + L2 - 1}:2`], input), [M1], 'and the first of the next');
});

test('HTTP/1 gaps in chunked framing: inside chunk data skipped, in a chunk-size line lost', () => {
  const C = 'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';
  const input = C + 'a\r\n0123456789\r\n0\r\n\r\n' + R2 + R3;
  const MC = req('POST', '/c', [['Transfer-Encoding', 'chunked']]);
  assert.equal(parse(['--h1-req'], input), [MC, M2, M3]);
  assert.equal(parse(['--h1-req', '--gap', `${C.length + 5}:6`], input), [MC, M2, M3], 'gap inside chunk data');
  assert.equal(parse(['--h1-req', '--gap', `${C.length + 3}:10`], input), [MC, M2, M3], 'gap ending chunk data');
  assert.equal(parse(['--h1-req', '--gap', `${C.length}:2`], input), [MC], 'gap in a chunk-size line');
  // a gap in the last chunk: the next piece starts with the rest of its line ends, which are
  // skipped as empty lines before R2
  assert.equal(parse(['--h1-req', '--gap', `${C.length + 14}:3`], input), [MC, M2, M3], 'gap in the last chunk');
  assert.equal(parse(['--h1-req', '--gap', `${C.length + 14}:3`, '--piece', '1'], input), [MC, M2, M3], 'gap in the last chunk, 1-byte pieces');
  const end = C.length + 'a\r\n0123456789\r\n0\r\n\r\n'.length;
  assert.equal(parse(['--h1-req', '--gap', `${C.length}:${end - C.length}`], input), [MC, M2, M3], 'gap up to the next message');
  // a response read until close takes any gap
  assert.equal(parse(['--h1-resp', '--gap', '30:5', '--final'], 'HTTP/1.1 200 OK\r\n\r\n' + 'x'.repeat(100) + 'HTTP/1.1 200 OK\r\n\r\n'), [resp(200, 'OK'), fin(false)]);
});

test('HTTP/1 garbage: nothing reported, nothing crashes; a later piece that starts a message is parsed', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  const noise = Buffer.alloc(8192);
  for (let i = 0; i < noise.length; i++) noise[i] = rnd() & 0xff;
  for (const mode of ['--h1-req', '--h1-resp', '--h2-client', '--h2-server']) {
    for (const extra of [[], ['--piece', '1'], ['--piece', '13', '--gap', '100:50']]) {
      const out = parse([mode, ...extra], noise);
      assert.equal(out, [], `${mode} ${extra.join(' ')}`);
    }
  }
  const junk = 'hello world\r\n\r\n';
  assert.equal(parse(['--h1-req'], junk + R2), [], 'junk then a request in the same piece');
  assert.equal(parse(['--h1-req', '--piece', String(junk.length)], junk + R2), [M2], 'junk then a request in a later piece');
  assert.equal(parse(['--h1-req', '--piece', '1'], junk + R2), [M2], 'one byte at a time, every byte starts a piece');
  assert.equal(parse(['--h1-req', '--piece', String(junk.length)], junk + 'PROPFIND / HTTP/1.1\r\n\r\n' + R3), [], 'after a loss only the standard methods resynchronise');
  assert.equal(parse(['--h1-req'], 'PROPFIND / HTTP/1.1\r\n\r\n' + R3), [req('PROPFIND', '/'), M3], 'in sync, any method');
  for (const bad of ['get / HTTP/1.1\r\n\r\n', 'GET / HTTP/2.0\r\n\r\n', 'GET  / HTTP/1.1\r\n\r\n', 'GET /\r\n\r\n', 'GET / HTTP/1.1 x\r\n\r\n', '\x00\x01GET / HTTP/1.1\r\n\r\n'])
    assert.equal(parse(['--h1-req'], bad + R3), [], JSON.stringify(bad));
  for (const bad of ['HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.2 200 OK\r\n\r\n', 'HTTP/1.1 OK\r\n\r\n', 'HTTP/1.1 099 x\r\n\r\n', 'http/1.1 200 OK\r\n\r\n'])
    assert.equal(parse(['--h1-resp'], bad + 'HTTP/1.1 204 No Content\r\n\r\n'), [], JSON.stringify(bad));
  // invalid Content-Length: reported as -1, and the framing is lost
  assert.equal(parse(['--h1-req'], 'POST /x HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n' + R3), [req('POST', '/x', [['Content-Length', '12abc']])]);
  assert.equal(parse(['--h1-req'], 'POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab' + R3), [
    req('POST', '/x', [
      ['Content-Length', '1'],
      ['Content-Length', '2'],
    ]),
  ]);
  // a bad chunk size
  assert.equal(parse(['--h1-req'], 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' + R3), [req('POST', '/x', [['Transfer-Encoding', 'chunked']])]);
  // folded framing headers are joined before they are read (also when only they are read); a fold
  // after a line that is no header continues nothing
  parseAllPieces(['--h1-req'], 'POST /f HTTP/1.1\r\nContent-Length:\r\n 3\r\n\r\nabc' + R3, [req('POST', '/f', [['Content-Length', '3']], { content_length: 3 }), M3]);
  parseAllPieces(['--h1-req'], 'POST /t HTTP/1.1\r\nTransfer-Encoding: gzip,\r\n\tchunked\r\n\r\n1\r\nz\r\n0\r\n\r\n' + R3, [req('POST', '/t', [['Transfer-Encoding', 'gzip, chunked']]), M3]);
  parseAllPieces(['--h1-req'], 'POST /n HTTP/1.1\r\nContent-Length: 2\r\n@bad line\r\n 7\r\n\r\nab' + R3, [req('POST', '/n', [['Content-Length', '2']], { content_length: 2 }), M3]);
  assert.equal(
    parse(['--h1-req'], 'POST /j HTTP/1.1\r\nContent-Length: 2\r\n 7\r\n\r\nab' + R3),
    [req('POST', '/j', [['Content-Length', '2 7']])],
    'a fold that makes Content-Length invalid loses the framing',
  );
});

test('HTTP/1 heads: longer than 16384 bytes dropped, more than 64 headers cut but still framed', () => {
  const big = 'GET /big HTTP/1.1\r\nX-Big: ';
  const msg1 = big + 'a'.repeat(20480 - big.length - 4) + '\r\n\r\n';
  assert.is(msg1.length, 20480);
  assert.equal(parse(['--h1-req'], msg1 + R2), [], 'dropped, and the rest of the piece with it');
  assert.equal(parse(['--h1-req', '--piece', '1024'], msg1 + R2), [M2], 'resync at the piece that starts R2');
  const fits = 'GET /fits HTTP/1.1\r\nX-Big: ';
  const msg2 = fits + 'b'.repeat(16384 - fits.length - 4) + '\r\n\r\n';
  assert.equal(parse(['--h1-req', '--piece', '100'], msg2 + R3).length, 2, 'a head of exactly 16384 bytes is kept');

  const hdrs: [string, string][] = [];
  for (let i = 0; i < 70; i++) hdrs.push([`X-H${i}`, `v${i}`]);
  // the Content-Length after the 64th header still frames the body (which looks like a request)
  const many = 'POST /many HTTP/1.1\r\n' + hdrs.map(([k, v]) => `${k}: ${v}\r\n`).join('') + 'Content-Length: 18\r\n\r\nGET /hidden HTTP/1';
  parseAllPieces(['--h1-req'], many + R3, [req('POST', '/many', hdrs.slice(0, 64), { content_length: 18 }), M3]);
});

test('protocol detection: scope_h1_is_request, scope_h1_is_response, scope_h2_is_preface', () => {
  const detect = (s: string | Buffer) => parse(['--detect'], s)[0];
  const yes = (r: boolean, s: boolean, p: boolean) => ({ is_request: r, is_response: s, is_preface: p });
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']) assert.equal(detect(`${m} /x HTTP/1.1\r\n`), yes(true, false, false), m);
  for (const s of ['GET', 'GETX / HTTP/1.1', 'get / HTTP/1.1', 'PROPFIND / HTTP/1.1', ' GET /', 'GE', '']) assert.equal(detect(s), yes(false, false, false), JSON.stringify(s));
  assert.equal(detect('GET '), yes(true, false, false));
  for (const s of ['HTTP/1.1 200 OK', 'HTTP/1.0 404', 'HTTP/1.1 101 Switching']) assert.equal(detect(s), yes(false, true, false), s);
  for (const s of ['HTTP/1.1 20', 'HTTP/2 200 OK', 'HTTP/1.1 abc', 'HTTP/1.2 200 OK', 'HTTP/1.1  200']) assert.equal(detect(s), yes(false, false, false), s);
  assert.equal(detect('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00'), yes(false, false, true));
  assert.equal(detect('PRI * HTTP/2.0\r\n\r\nSM\r\n'), yes(false, false, false));
});

// ---- HTTP/2 frames around RFC 7541 Appendix C ----

const PREFACE = bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
};
const DATA = 0,
  HEADERS = 1,
  PRIORITY = 2,
  RST_STREAM = 3,
  SETTINGS = 4,
  PUSH_PROMISE = 5,
  PING = 6,
  GOAWAY = 7,
  WINDOW_UPDATE = 8,
  CONTINUATION = 9;
const END_STREAM = 1,
  END_HEADERS = 4,
  PADDED = 8,
  PRIO = 0x20;
const settings = frame(SETTINGS, 0, 0, hex('0003 00000064 0004 0000ffff'));
const noise = Buffer.concat([frame(WINDOW_UPDATE, 0, 0, hex('00010000')), frame(PING, 0, 0, Buffer.alloc(8, 7)), frame(PRIORITY, 0, 9, hex('0000000010')), frame(RST_STREAM, 0, 7, hex('00000008'))]);

const C3 = [hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'), hex('8286 84be 5808 6e6f 2d63 6163 6865'), hex('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65')];
const C4 = [hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'), hex('8286 84be 5886 a8eb 1064 9cbf'), hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')];
const C5 = [
  hex(`4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d
       546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`),
  hex('4803 3330 37c1 c0bf'),
  hex(`88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f
       6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b
       2076 6572 7369 6f6e 3d31`),
];
const C6 = [
  hex(`4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7
       8f0b 97c8 e9ae 82ae 43d3`),
  hex('4883 640e ffc1 c0bf'),
  hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335
       dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`),
];
// SETTINGS_HEADER_TABLE_SIZE 256 for C.5/C.6, signalled in the first block as a table size update
const SIZE_256 = hex('3fe101');

const h2req = (stream: number, scheme: string, target: string, headers: [string, string][], more: Partial<Msg> = {}): Msg => ({
  ...BASE,
  request: true,
  flavor: 20,
  stream,
  method: 'GET',
  scheme,
  target,
  authority: 'www.example.com',
  headers,
  ...more,
});
const C3_OUT = [
  h2req(1, 'http', '/', [], { end_stream: true }),
  h2req(3, 'http', '/', [['cache-control', 'no-cache']], { end_stream: true }),
  h2req(5, 'https', '/index.html', [['custom-key', 'custom-value']], { end_stream: true }),
];
const h2resp = (stream: number, status: number, headers: [string, string][], more: Partial<Msg> = {}): Msg => ({ ...BASE, flavor: 20, stream, status, headers, ...more });
const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT',
  DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT',
  LOC = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const C5_OUT = [
  h2resp(1, 302, [
    ['cache-control', 'private'],
    ['date', DATE1],
    ['location', LOC],
  ]),
  h2resp(3, 307, [
    ['cache-control', 'private'],
    ['date', DATE1],
    ['location', LOC],
  ]),
  h2resp(5, 200, [
    ['cache-control', 'private'],
    ['date', DATE2],
    ['location', LOC],
    ['content-encoding', 'gzip'],
    ['set-cookie', COOKIE],
  ]),
];

const requests = (blocks: Buffer[]): Buffer => Buffer.concat([PREFACE, settings, ...blocks.map((b, i) => Buffer.concat([noise, frame(HEADERS, END_STREAM | END_HEADERS, 2 * i + 1, b)]))]);
const responses = (blocks: Buffer[]): Buffer =>
  Buffer.concat([
    settings,
    ...blocks.map((b, i) => Buffer.concat([frame(HEADERS, END_HEADERS, 2 * i + 1, i === 0 ? Buffer.concat([SIZE_256, b]) : b), frame(DATA, END_STREAM, 2 * i + 1, bytes(`body ${i}`))])),
  ]);

test('HPACK: RFC 7541 C.3 and C.4 request sequences in HEADERS frames', () => {
  parseAllPieces(['--h2-client', '--final'], requests(C3), [...C3_OUT, fin(false)]);
  parseAllPieces(['--h2-client', '--final'], requests(C4), [...C3_OUT, fin(false)]);
  // no preface: the frames are parsed from the first byte
  assert.equal(parse(['--h2-client'], requests(C4).subarray(PREFACE.length)), C3_OUT);
  // a server's direction does not skip a preface
  assert.equal(parse(['--h2-server', '--final'], requests(C4)).length, 1);
});

test('HPACK Huffman: the decoder agrees with a bit-at-a-time reading of the code on a million strings', () => {
  // test/parse/huffcheck.c: random bytes, strings encoded from random symbols with good and bad
  // padding, EOS inside, output room too small; result and bytes compared
  const r = spawnSync(prog('huffcheck'), ['1000000'], { timeout: 120_000 });
  assert.is(r.status, 0, `huffcheck: ${r.stdout.toString()}${r.stderr.toString()}`);
  const out = JSON.parse(r.stdout.toString()) as { cases: number; valid: number; mismatches: number };
  assert.equal(out.cases, 1_000_000);
  assert.ok(out.valid > 300_000, `valid strings among them: ${out.valid}`);
  assert.is(out.mismatches, 0);
});

test('HPACK: RFC 7541 C.5 and C.6 response sequences, table size 256, evictions', () => {
  parseAllPieces(['--h2-server', '--final'], responses(C5), [...C5_OUT, fin(false)]);
  parseAllPieces(['--h2-server', '--final'], responses(C6), [...C5_OUT, fin(false)]);
  // after C.5.3 the table holds set-cookie (62), content-encoding (63) and date (64) only
  const more = Buffer.concat([
    responses(C6),
    frame(HEADERS, END_HEADERS | END_STREAM, 7, hex('88 be bf c0')),
    frame(HEADERS, END_HEADERS | END_STREAM, 9, hex('88 c1')), // 65: evicted → malformed
    frame(HEADERS, END_HEADERS | END_STREAM, 11, hex('88')),
  ]);
  parseAllPieces(['--h2-server', '--final'], more, [
    ...C5_OUT,
    h2resp(
      7,
      200,
      [
        ['set-cookie', COOKIE],
        ['content-encoding', 'gzip'],
        ['date', DATE2],
      ],
      { end_stream: true },
    ),
    fin(false, true),
  ]);
});

test('HTTP/2 framing: PADDED, PRIORITY, CONTINUATION, PUSH_PROMISE, literals, trailers, gaps, malformed blocks', () => {
  const b = C4[2]!;
  const split = Buffer.concat([
    PREFACE,
    frame(HEADERS, END_STREAM | END_HEADERS, 1, C4[0]!),
    frame(HEADERS, END_STREAM | END_HEADERS, 3, C4[1]!),
    frame(HEADERS, PADDED | PRIO | END_STREAM, 5, Buffer.concat([Buffer.from([3]), hex('8000000310'), b.subarray(0, 4), Buffer.alloc(3)])),
    frame(CONTINUATION, 0, 5, b.subarray(4, 9)),
    frame(CONTINUATION, END_HEADERS, 5, b.subarray(9)),
  ]);
  parseAllPieces(['--h2-client'], split, C3_OUT);

  // a PUSH_PROMISE's block is decoded (it adds :path /push1, then x-pushed: yes at 62) but not
  // reported; the trailers (no :status) are not reported either, but their x-trailer goes to 62
  const trailer = Buffer.concat([hex('40 09'), bytes('x-trailer'), hex('01'), bytes('1')]);
  const push = Buffer.concat([
    settings,
    frame(
      PUSH_PROMISE,
      END_HEADERS | PADDED,
      1,
      Buffer.concat([Buffer.from([2]), hex('00000002'), hex('82 87 44 06'), bytes('/push1'), hex('40 08'), bytes('x-pushed'), hex('03'), bytes('yes'), Buffer.alloc(2)]),
    ),
    // :status 200, x-pushed (indexed), content-length 42 without indexing (name 28 with a 4-bit
    // prefix), authorization never indexed (name 23), a new name without indexing, Huffman value
    frame(HEADERS, END_HEADERS, 1, Buffer.concat([hex('88 be 0f0d 02'), bytes('42'), hex('1f08 06'), bytes('secret'), hex('00 03'), bytes('foo'), hex('83 9bd9ab')])),
    frame(DATA, 0, 1, bytes('x'.repeat(42))),
    frame(HEADERS, END_HEADERS | END_STREAM, 1, trailer),
    frame(HEADERS, END_HEADERS | END_STREAM, 2, hex('88 be')),
    frame(GOAWAY, 0, 0, hex('00000001 00000000')),
  ]);
  const PUSH_OUT = [
    h2resp(
      1,
      200,
      [
        ['x-pushed', 'yes'],
        ['content-length', '42'],
        ['authorization', 'secret'],
        ['foo', 'gzip'],
      ],
      { content_length: 42 },
    ),
    h2resp(2, 200, [['x-trailer', '1']], { end_stream: true }),
  ];
  parseAllPieces(['--h2-server', '--final'], push, [...PUSH_OUT, fin(false)]);

  // gaps: inside DATA skipped; inside a header block (or a frame header) the connection is given up
  const dataAt = push.indexOf(bytes('x'.repeat(42)));
  assert.equal(parse(['--h2-server', '--final', '--gap', `${dataAt + 1}:40`], push), [...PUSH_OUT, fin(false)], 'gap inside DATA');
  assert.equal(parse(['--h2-server', '--final', '--gap', `${dataAt}:42`, '--piece', '5'], push), [...PUSH_OUT, fin(false)], 'gap = DATA payload');
  assert.equal(parse(['--h2-server', '--final', '--gap', `${dataAt + 1}:42`], push), [PUSH_OUT[0]!, fin(false, true)], 'gap past DATA');
  const secretAt = push.indexOf(bytes('secret'));
  assert.equal(parse(['--h2-server', '--final', '--gap', `${secretAt}:2`], push), [fin(false, true)], 'gap inside HEADERS');
  assert.equal(parse(['--h2-client', '--final', '--gap', '30:1'], requests(C4)), [fin(false, true)], 'gap in a frame header');

  // malformed blocks: each gives up the connection, and nothing after it is reported
  const bad = (blk: Buffer, flags = END_HEADERS) => parse(['--h2-client', '--final'], Buffer.concat([PREFACE, frame(HEADERS, flags, 1, blk), frame(HEADERS, END_HEADERS, 3, C3[0]!)]));
  assert.equal(bad(hex('80')), [fin(false, true)], 'index 0');
  assert.equal(bad(hex('be')), [fin(false, true)], 'index past the tables');
  assert.equal(bad(hex('82 41 8c f1e3c2e5f23a6ba0ab90f4')), [fin(false, true)], 'truncated string');
  assert.equal(bad(hex('82 41 81 00')), [fin(false, true)], 'bad Huffman padding');
  assert.equal(bad(hex('82 41 84 ffffffff')), [fin(false, true)], 'EOS in a Huffman string');
  assert.equal(bad(hex('82 ff ffffffff0f')), [fin(false, true)], 'integer overflow');
  assert.equal(bad(hex('82 3fe101')), [fin(false, true)], 'table size update after a field');
  assert.equal(bad(hex('3fe1ff04')), [fin(false, true)], 'table size update above the limit');
  assert.equal(bad(Buffer.from([200]), PADDED | END_HEADERS), [fin(false, true)], 'padding longer than the frame');
  assert.equal(parse(['--h2-client', '--final'], Buffer.concat([PREFACE, frame(HEADERS, 0, 1, C3[0]!), frame(DATA, 0, 1, bytes('x'))])), [fin(false, true)], 'HEADERS not followed by CONTINUATION');
  assert.equal(parse(['--h2-client', '--final'], Buffer.concat([PREFACE, frame(CONTINUATION, END_HEADERS, 1, C3[0]!)])), [fin(false, true)], 'CONTINUATION out of the blue');
  const huge = Buffer.concat([PREFACE, frame(HEADERS, 0, 1, Buffer.alloc(40000, 0x82)), frame(CONTINUATION, END_HEADERS, 1, Buffer.alloc(40000, 0x82))]);
  assert.equal(parse(['--h2-client', '--final'], huge), [fin(false, true)], 'a header block larger than 65536 bytes');
  const many = Buffer.concat([PREFACE, frame(HEADERS, END_HEADERS, 1, Buffer.concat([C3[0]!, Buffer.alloc(100, 0x8f)]))]);
  const out = parse(['--h2-client'], many) as Msg[];
  assert.is(out.length, 1);
  assert.is(out[0]!.headers.length, 64, 'at most 64 regular headers');
  assert.equal(out[0]!.headers[63], ['accept-charset', '']);
});

// ---- real traffic ----

interface Recorder {
  port: number;
  /** the bytes client → server and server → client, once every proxied connection has closed */
  done: () => Promise<{ client: Buffer; server: Buffer }>;
  close: () => Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of `target` that keeps what passes in each direction. */
async function recorder(target: number): Promise<Recorder> {
  const c2s: Buffer[] = [],
    s2c: Buffer[] = [];
  let open = 0,
    conns = 0;
  let waiters: (() => void)[] = [];
  const check = () => {
    if (conns > 0 && open === 0) {
      for (const w of waiters) w();
      waiters = [];
    }
  };
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    conns++;
    open += 2;
    const u = net.connect({ port: target, host: '127.0.0.1', allowHalfOpen: true });
    c.on('data', (d: Buffer) => {
      c2s.push(d);
      u.write(d);
    });
    u.on('data', (d: Buffer) => {
      s2c.push(d);
      c.write(d);
    });
    c.on('end', () => u.end());
    u.on('end', () => c.end());
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => {
      open--;
      check();
    });
    u.on('close', () => {
      open--;
      check();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as AddressInfo).port,
    done: async () => {
      await new Promise<void>((res) => {
        waiters.push(res);
        check();
      });
      return { client: Buffer.concat(c2s), server: Buffer.concat(s2c) };
    },
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

function curl(args: string[]): Promise<{ code: number; stdout: Buffer }> {
  return new Promise((res) => {
    execFile('curl', args, { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 30_000 }, (err, stdout) => {
      res({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout });
    });
  });
}

const listen = (s: net.Server): Promise<number> => new Promise((res) => s.listen(0, '127.0.0.1', () => res((s.address() as AddressInfo).port)));
const closeServer = (s: net.Server | http2.Http2Server): Promise<void> => new Promise((res) => s.close(() => res()));
const hdr = (m: Msg, name: string): string | undefined => m.headers.find(([k]) => k.toLowerCase() === name)?.[1];
const names = (m: Msg): string[] => m.headers.map(([k]) => k);

const h2server = (): http2.Http2Server =>
  http2.createServer((rq, rs) => {
    const chunks: Buffer[] = [];
    rq.on('data', (d: Buffer) => chunks.push(d));
    rq.on('end', () => {
      const body = `hello ${rq.url}${chunks.length ? ' ' + Buffer.concat(chunks).toString() : ''}\n`;
      rs.writeHead(200, { 'content-length': Buffer.byteLength(body), 'x-served': 'yes' });
      rs.end(body);
    });
  });

test('real HTTP/2: curl --http2-prior-knowledge through a recording proxy to a node h2c server', async () => {
  const srv = h2server();
  const sport = await listen(srv as unknown as net.Server);
  const rec = await recorder(sport);
  try {
    // (curl 7.88 cannot reuse a prior-knowledge connection for a second URL — curl/curl#10634 —
    // so the second stream on one connection comes from node's client in the next test)
    const r = await curl(['-s', '--http2-prior-knowledge', `http://127.0.0.1:${rec.port}/path?q=1`, '-H', 'X-Appscope: abc']);
    assert.is(r.code, 0, 'curl exit status');
    assert.is(r.stdout.toString(), 'hello /path?q=1\n');
    const { client, server } = await rec.done();
    assert.ok(client.subarray(0, 24).equals(PREFACE), 'curl starts with the preface');

    const reqs = parse(['--h2-client', '--final'], client) as Msg[];
    assert.is(reqs.length, 2);
    const q = reqs[0]!;
    assert.equal(
      { ...q, headers: [] },
      { ...BASE, request: true, flavor: 20, stream: 1, method: 'GET', target: '/path?q=1', authority: `127.0.0.1:${rec.port}`, scheme: 'http', end_stream: true, headers: [] },
    );
    assert.equal(names(q), ['user-agent', 'accept', 'x-appscope']);
    assert.match(hdr(q, 'user-agent') ?? '', /^curl\/\d/);
    assert.is(hdr(q, 'x-appscope'), 'abc');
    assert.equal(reqs[1], fin(false));
    for (const p of ['1', '5', '100']) assert.equal(parse(['--h2-client', '--final', '--piece', p], client), reqs, `--piece ${p}`);

    const resps = parse(['--h2-server', '--final'], server) as Msg[];
    assert.is(resps.length, 2);
    const s = resps[0]!;
    assert.equal({ ...s, headers: [] }, { ...BASE, flavor: 20, stream: 1, status: 200, content_length: 16, headers: [] });
    assert.equal(names(s), ['content-length', 'x-served', 'date']);
    assert.is(hdr(s, 'content-length'), '16');
    assert.is(hdr(s, 'x-served'), 'yes');
    assert.match(hdr(s, 'date') ?? '', /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.equal(resps[1], fin(false));
    for (const p of ['1', '7']) assert.equal(parse(['--h2-server', '--final', '--piece', p], server), resps, `--piece ${p}`);
  } finally {
    await rec.close();
    await closeServer(srv);
  }
});

test('real HTTP/2: two streams on one connection (node client), the dynamic table in use', async () => {
  const srv = h2server();
  const sport = await listen(srv as unknown as net.Server);
  const rec = await recorder(sport);
  try {
    const session = http2.connect(`http://127.0.0.1:${rec.port}`);
    const ask = (headers: http2.OutgoingHttpHeaders, body?: string): Promise<string> =>
      new Promise((res, rej) => {
        const st = session.request(headers, { endStream: body === undefined });
        const got: Buffer[] = [];
        st.on('data', (d: Buffer) => got.push(d));
        st.on('end', () => res(Buffer.concat(got).toString()));
        st.on('error', rej);
        if (body !== undefined) st.end(body);
      });
    assert.is(await ask({ ':path': '/path?q=1', 'x-appscope': 'abc' }), 'hello /path?q=1\n');
    assert.is(await ask({ ':method': 'POST', ':path': '/second', 'x-appscope': 'abc', 'content-length': '4' }, 'ping'), 'hello /second ping\n');
    await new Promise<void>((res) => session.close(() => res()));
    const { client, server } = await rec.done();

    const reqs = parse(['--h2-client'], client) as Msg[];
    const auth = `127.0.0.1:${rec.port}`;
    assert.equal(
      reqs.map((m) => [m.stream, m.method, m.target, m.authority, m.scheme, m.end_stream, m.content_length, hdr(m, 'x-appscope')]),
      [
        [1, 'GET', '/path?q=1', auth, 'http', true, -1, 'abc'],
        [3, 'POST', '/second', auth, 'http', false, 4, 'abc'],
      ],
    );
    assert.ok(reqs.every((m) => m.request && m.flavor === 20 && m.status === 0));
    for (const p of ['1', '10']) assert.equal(parse(['--h2-client', '--piece', p], client), reqs, `--piece ${p}`);

    const resps = parse(['--h2-server'], server) as Msg[];
    assert.equal(
      resps.map((m) => [m.stream, m.status, m.content_length, m.end_stream, hdr(m, 'x-served'), names(m)]),
      [
        [1, 200, 16, false, 'yes', ['content-length', 'x-served', 'date']],
        [3, 200, 19, false, 'yes', ['content-length', 'x-served', 'date']],
      ],
    );
    assert.ok(resps.every((m) => !m.request && m.flavor === 20 && m.method === '' && m.reason === ''));
    for (const p of ['1', '10']) assert.equal(parse(['--h2-server', '--piece', p], server), resps, `--piece ${p}`);
  } finally {
    await rec.close();
    await closeServer(srv);
  }
});

test('real HTTP/1.1: curl, two requests on one connection, a large chunked response, 1-byte pieces', async () => {
  const BIG = 50,
    CHUNK = 4096;
  const srv = http.createServer((rq, rs) => {
    if (rq.url === '/big') {
      rs.setHeader('content-type', 'text/plain');
      let i = 0;
      const more = () => {
        // every write is its own chunk; the body contains text that looks like HTTP
        while (i < BIG) {
          const ok = rs.write(`HTTP/1.1 200 OK\r\n${String(i).padStart(4, '0')}`.padEnd(CHUNK, '.'));
          i++;
          if (!ok) return void rs.once('drain', more);
          if (i % 7 === 0) return void setImmediate(more);
        }
        rs.end();
      };
      more();
    } else {
      const body = `small ${rq.url}\n`;
      rs.writeHead(200, 'Fine', { 'content-length': Buffer.byteLength(body) });
      rs.end(body);
    }
  });
  const sport = await listen(srv);
  const rec = await recorder(sport);
  try {
    const base = `http://127.0.0.1:${rec.port}`;
    const r = await curl(['-s', `${base}/big`, `${base}/small?q=1`, '-H', 'X-Appscope: abc']);
    assert.is(r.code, 0, 'curl exit status');
    assert.is(r.stdout.length, BIG * CHUNK + 'small /small?q=1\n'.length);
    const { client, server } = await rec.done();

    const reqs = parse(['--h1-req', '--final'], client) as Msg[];
    const host: [string, string] = ['Host', `127.0.0.1:${rec.port}`];
    const ua = hdr(reqs[0]!, 'user-agent') ?? '';
    assert.match(ua, /^curl\/\d/);
    const hs: [string, string][] = [host, ['User-Agent', ua], ['Accept', '*/*'], ['X-Appscope', 'abc']];
    assert.equal(reqs, [req('GET', '/big', hs), req('GET', '/small?q=1', hs), fin(false)]);
    assert.equal(parse(['--h1-req', '--final', '--piece', '1'], client), reqs, '--piece 1');

    const resps = parse(['--h1-resp', '--final'], server) as Msg[];
    assert.is(resps.length, 3);
    const [big, small] = resps as [Msg, Msg];
    assert.equal([big.status, big.reason, big.flavor, big.content_length, hdr(big, 'transfer-encoding'), hdr(big, 'content-type')], [200, 'OK', 11, -1, 'chunked', 'text/plain']);
    assert.equal([small.status, small.reason, small.flavor, small.content_length, hdr(small, 'content-length')], [200, 'Fine', 11, 17, '17']);
    assert.equal(resps[2], fin(false));
    assert.ok(server.length > BIG * CHUNK, 'the whole body went through');
    for (const p of ['1', '1000', '4099']) assert.equal(parse(['--h1-resp', '--final', '--piece', p], server), resps, `--piece ${p}`);
    // a gap inside a chunk's data is skipped
    const at = server.indexOf(bytes('0007'));
    assert.equal(parse(['--h1-resp', '--final', '--gap', `${at}:100`], server), resps, 'gap inside chunk data');
  } finally {
    await rec.close();
    await closeServer(srv);
  }
});

test.run();
