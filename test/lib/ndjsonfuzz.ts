// The NDJSON readers under random mutation (npm run fuzz; test/ndjsonfuzz.test.ts replays the
// regressions and a short run). Valid records (scope-events' fixture) are mutated line by line:
// cut short, made huge, nested deep, given invalid UTF-8, NULs and CRs, flipped bytes, turned
// into JSON that is not an object. The input goes through the real tools over a pipe, written in
// random pieces (a multi-byte character may be split between two reads), and what comes out is
// held to the stream contract (shared/DESIGN.md, "Streams"):
//   - the tool ends by itself with status 0, or 1 when it reported bad lines; no signal, no stack
//     trace, nothing on stderr but its bad-line messages and their summary;
//   - every line is accounted for exactly once: passed through (in order), reported as
//     `<tool>: stdin:<line>: <why>` with its own line number, or (scope-events) counted as a torn
//     record in its one warning;
//   - a line that is not JSON, or not an object, is reported (or torn); a line that is a record
//     (the fixture's, or one whose mutation left it a valid record) comes out equal to its input.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './harness.js';

export interface Tool {
  name: 'scope-events' | 'scope-filter';
  bin: string;
  args: string[];
  /** Counts torn records in one warning instead of reporting each (scope-events' reader). */
  torn: boolean;
  /** Keys the tool adds to each record it passes (scope-filter's matchedScopes, matchedPolicies). */
  adds?: string[];
}

export const TOOLS: Tool[] = [
  { name: 'scope-events', bin: join(repoRoot, 'tools/scope-events/bin/scope-events.js'), args: ['--json'], torn: true },
  {
    name: 'scope-filter',
    bin: join(repoRoot, 'tools/scope-filter/bin/scope-filter.js'),
    args: ['--json', '-f', 'event=*'],
    torn: false,
    adds: ['matchedScopes', 'matchedPolicies'],
  },
];

/** The records the mutations start from: scope-events' fixture, and one with multi-byte text. */
export function fixtureLines(): string[] {
  const text = readFileSync(join(repoRoot, 'tools/scope-events/test/fixtures/events.ndjson'), 'utf8');
  const lines = text.split('\n').filter((l) => {
    try {
      const v = JSON.parse(l) as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    } catch {
      return false;
    }
  });
  const evt = lines.find((l) => l.includes('"source":"fs.open"'));
  if (evt) lines.push(evt.replace(/"file":"[^"]*"/, '"file":"/tmp/caf\u00e9 \u2713 \ud83d\ude00 \u4e2d\u6587"'));
  return lines;
}

/** mulberry32: the same sequence from the same seed on any machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_LINE = 4 * 1024 * 1024; // @scope/core's MAX_LINE_LENGTH, in characters

type Mutation = (line: Buffer, r: () => number) => Buffer;
const int = (r: () => number, n: number) => Math.floor(r() * n);
const insert = (b: Buffer, at: number, x: Buffer) => Buffer.concat([b.subarray(0, at), x, b.subarray(at)]);
/** A position just inside a string value (after `":"`), or anywhere when there is none. */
function inString(b: Buffer, r: () => number): number {
  const at: number[] = [];
  for (let i = b.indexOf('":"'); i >= 0 && at.length < 64; i = b.indexOf('":"', i + 1)) at.push(i + 3);
  return at.length ? (at[int(r, at.length)] as number) : int(r, b.length + 1);
}

export const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, r) => b.subarray(0, 1 + int(r, Math.max(1, b.length - 1))),
  huge: (b, r) => {
    // past the limit (a bad line) or just under it (a record of megabytes)
    const n = r() < 0.5 ? MAX_LINE + 1 + int(r, 1000) : MAX_LINE - b.length - 64;
    return insert(b, inString(b, r), Buffer.alloc(n, 'x'));
  },
  deep: (b, r) => {
    const d = [10, 1000, 100_000][int(r, 3)] as number;
    const at = b.indexOf('"body":{');
    const nest = Buffer.from(`"deep":${'['.repeat(d)}${']'.repeat(d)},`);
    return at < 0 ? Buffer.concat([Buffer.from('['.repeat(d)), b]) : insert(b, at + 8, nest);
  },
  badUtf8: (b, r) => {
    const bad = [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xc0, 0xaf]][int(r, 6)] as number[];
    return insert(b, r() < 0.8 ? inString(b, r) : int(r, b.length + 1), Buffer.from(bad));
  },
  nul: (b, r) => insert(b, int(r, b.length + 1), Buffer.from([0])),
  cr: (b, r) => (r() < 0.5 ? Buffer.concat([b, Buffer.from('\r')]) : insert(b, int(r, b.length + 1), Buffer.from('\r'))),
  flip: (b, r) => {
    const c = Buffer.from(b);
    for (let k = 1 + int(r, 3); k > 0; k--) c[int(r, c.length)] = int(r, 256);
    return c;
  },
  notObject: (_b, r) => Buffer.from(['[1,2]', '"text"', '42', 'null', 'true', '{', '}', '{}x', '\u00ef\u00bb\u00bf{}'][int(r, 9)] as string),
  notRecord: (_b, r) => Buffer.from(['{}', '{"a":1}', '{"type":"evt"}', '{"type":"metric","body":"x"}'][int(r, 4)] as string),
};

/** One input: lines (without their \n), a final newline or not. */
export interface Input {
  lines: Buffer[];
  /** Which mutation made each line ('' for a fixture line as it is, 'blank' for an empty one). */
  how: string[];
  finalNewline: boolean;
}

export function makeInput(r: () => number, fixtures: string[], allowHuge = true): Input {
  const lines: Buffer[] = [];
  const how: string[] = [];
  const names = Object.keys(MUTATIONS).filter((m) => allowHuge || m !== 'huge');
  let huge = 0;
  for (let n = 5 + int(r, 40); n > 0; n--) {
    const base = Buffer.from(fixtures[int(r, fixtures.length)] as string);
    const x = r();
    if (x < 0.05) {
      lines.push(Buffer.alloc(0));
      how.push('blank');
    } else if (x < 0.55) {
      lines.push(base);
      how.push('');
    } else {
      let m = names[int(r, names.length)] as string;
      if (m === 'huge' && ++huge > 1) m = 'truncate'; // at most one line of megabytes an input
      let line = (MUTATIONS[m] as Mutation)(base, r);
      // a line cannot hold a newline: what a mutation put there becomes a space
      line = Buffer.from(line.map((c) => (c === 10 ? 32 : c)));
      lines.push(line);
      how.push(m);
    }
  }
  return { lines, how, finalNewline: r() < 0.8 };
}

export function inputBytes(input: Input): Buffer {
  const parts: Buffer[] = [];
  input.lines.forEach((l, i) => {
    parts.push(l);
    if (i < input.lines.length - 1 || input.finalNewline) parts.push(Buffer.from('\n'));
  });
  return Buffer.concat(parts);
}

/** Back from NDJSON bytes to lines: what `inputBytes` made (a regression file read again). */
export function parseInput(bytes: Buffer): Input {
  const finalNewline = bytes.length > 0 && bytes[bytes.length - 1] === 10;
  const body = finalNewline ? bytes.subarray(0, bytes.length - 1) : bytes;
  const lines: Buffer[] = [];
  for (let start = 0; start <= body.length; ) {
    const nl = body.indexOf(10, start);
    const end = nl < 0 ? body.length : nl;
    lines.push(body.subarray(start, end));
    start = end + 1;
  }
  return { lines, how: lines.map(() => '?'), finalNewline };
}

interface Expect {
  /** The record the line is, as a JSON parser reads its text (undefined: not JSON). */
  value: unknown;
  json: boolean;
  object: boolean;
  /** A fixture line as it is: must come out. */
  good: boolean;
  blank: boolean;
}

function expectOf(line: Buffer, how: string): Expect {
  const text = line.toString('utf8');
  if (text.trim() === '') return { value: undefined, json: false, object: false, good: false, blank: true };
  let value: unknown;
  let json = true;
  try {
    value = JSON.parse(text);
  } catch {
    json = false;
  }
  const object = json && typeof value === 'object' && value !== null && !Array.isArray(value);
  return { value, json, object, good: how === '', blank: false };
}

export interface Outcome {
  tool: string;
  status: number | null;
  signal: string | null;
  problems: string[];
}

/** Deep equality without recursion (a record may nest 100 000 deep). */
export function sameJson(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop() as [unknown, unknown];
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    for (const k of kx) {
      if (!Object.hasOwn(y, k)) return false;
      stack.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]]);
    }
  }
  return true;
}

/** The record without the keys the tool adds (at the top or in body). */
function strip(rec: unknown, keys: string[] | undefined): unknown {
  if (!keys || typeof rec !== 'object' || rec === null) return rec;
  const copy = { ...(rec as Record<string, unknown>) };
  for (const k of keys) delete copy[k];
  const body = copy['body'];
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const b = { ...(body as Record<string, unknown>) };
    for (const k of keys) delete b[k];
    copy['body'] = b;
  }
  return copy;
}

/** Runs one tool over the input, written in random pieces, and checks the contract. */
export async function check(tool: Tool, input: Input, r: () => number): Promise<Outcome> {
  const bytes = inputBytes(input);
  const child = spawn(process.execPath, [tool.bin, ...tool.args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.on('error', () => {});
  const done = new Promise<{ status: number | null; signal: string | null }>((resolve) => child.on('close', (status, signal) => resolve({ status, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, r() < 0.3 ? 1 + int(r, 7) : 1 + int(r, 1 << 16));
    if (!child.stdin.write(bytes.subarray(at, at + n))) await new Promise((res) => child.stdin.once('drain', res));
    at += n;
    if (r() < 0.1) await new Promise((res) => setTimeout(res, 1)); // a read may end mid-character
  }
  child.stdin.end();
  const { status, signal } = await done;
  clearTimeout(timer);
  const problems: string[] = [];
  const stderr = Buffer.concat(err).toString('utf8');
  const stdout = Buffer.concat(out).toString('utf8');
  if (signal) problems.push(`killed by ${signal}${signal === 'SIGKILL' ? ' (no end within 120 s)' : ''}`);

  const reported = new Map<number, number>();
  let torn = 0;
  let summary = false;
  const esc = tool.name.replace('-', '\\-');
  const lineMsg = new RegExp(`^${esc}: stdin:(\\d+): \\S`);
  const tornMsg = new RegExp(`^${esc}: stdin: (\\d+) torn records? skipped`);
  const countMsg = new RegExp(`^${esc}: (\\d+) bad input lines? in stdin$`);
  const errLines = stderr.split('\n');
  for (let i = 0; i < errLines.length; i++) {
    const l = errLines[i] as string;
    let m: RegExpExecArray | null;
    if ((m = lineMsg.exec(l))) {
      const n = Number(m[1]);
      reported.set(n, (reported.get(n) ?? 0) + 1);
      // its text, when shown, is the next line, indented
      if (errLines[i + 1]?.startsWith('  ')) i++;
    } else if ((m = tornMsg.exec(l))) torn += Number(m[1]);
    else if (countMsg.test(l)) summary = true;
    else if (l !== '') problems.push(`unexpected stderr line: ${JSON.stringify(l.slice(0, 200))}`);
  }

  const outputs: unknown[] = [];
  const outLines = stdout.split('\n');
  if (outLines.pop() !== '') problems.push('stdout does not end with a newline');
  for (const l of outLines) {
    try {
      outputs.push(strip(JSON.parse(l), tool.adds));
    } catch {
      problems.push(`stdout line is not JSON: ${l.slice(0, 200)}`);
    }
  }

  let o = 0;
  let tornLines = 0;
  let bad = 0;
  input.lines.forEach((line, i) => {
    const n = i + 1;
    if (!input.finalNewline && i === input.lines.length - 1 && line.length === 0) return; // no line there
    const e = expectOf(line, input.how[i] ?? '?');
    const times = reported.get(n) ?? 0;
    const passed = e.object && o < outputs.length && sameJson(outputs[o], e.value);
    if (passed) o++;
    if (times > 1) problems.push(`line ${n} reported ${times} times`);
    if (e.blank) {
      if (passed || times) problems.push(`blank line ${n} ${passed ? 'passed' : 'reported'}`);
      return;
    }
    if (passed && times) problems.push(`line ${n} both passed and reported`);
    if (times) bad++;
    const tornLike = tool.torn && !e.json && line[0] === 0x7b; // `{`…: maybe counted as torn
    if (!passed && !times) {
      if (tornLike) tornLines++;
      else problems.push(`line ${n} (${input.how[i]}) neither passed nor reported: ${line.subarray(0, 120).toString('utf8')}`);
    }
    if (e.good && !passed) problems.push(`line ${n} (a fixture record) did not come out`);
    if (!e.object && passed) problems.push(`line ${n} (not a JSON object) came out`);
  });
  if (o !== outputs.length) problems.push(`${outputs.length - o} output record(s) match no input line (order or content changed)`);
  for (const n of reported.keys()) if (n < 1 || n > input.lines.length) problems.push(`reported line ${n} is past the input's ${input.lines.length} lines`);
  if (tornLines !== torn) problems.push(`${tornLines} line(s) unaccounted for, but ${torn} counted as torn`);
  if (!signal) {
    const want = bad > 0 ? 1 : 0;
    if (status !== want && !(status === 1 && bad === 0 && torn > 0 && tool.torn)) problems.push(`exit status ${status}, expected ${want}`);
  }
  if (bad > 0 && !tool.torn && !summary) problems.push('no closing count of bad lines');
  return { tool: tool.name, status, signal, problems };
}
