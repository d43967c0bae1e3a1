// Every interposed function, family by family: each fam_* program (test/fam_*.c) calls every
// function of its family on files in a work directory. Each program runs once unscoped and once
// scoped; the two runs must be indistinguishable (status, stdout, stderr, the files written), and
// then one test per function asserts the record that function must produce:
//   opens (open … fcntl64, opendir, freopen)     → an fs.open event with data.op = the function
//   close, fclose, fcloseall, closedir           → an fs.close event with data.op = the function
//   reads                                        → an fs.read metric with op = the function, > 0
//   writes (and printf, puts, … to stdout)       → an fs.write metric with op = the function, > 0
//   sendfile, copy_file_range, splice            → also an fs.read metric with that op
//   text written to stdout / stderr              → stdout / stderr console events holding it
//   seeks, stats                                 → fs.seek / fs.stat metrics with op = the function
//   unlink, unlinkat, rmdir                      → fs.delete events (data.file absolute)
//   rename, renameat, renameat2                  → fs.rename events (data.file, data.new_file)
//   mkdir, mkdirat                               → fs.mkdir events
//   a failing call                               → an fs.error event (op, errno_name) and metric
// The stress programs (sigalrm, vforkexec, fdchaos, a shell pipeline) must behave the same scoped
// and leave records written after the stress. Every record must validate against @scope/schemas.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { evts, isMetric, isStart, prog, readNdjsonAll, run, session } from './lib.js';
import type { Evt, Metric, Session } from './lib.js';
import { tempDir } from '@scope/core/testing';
import { isTornRecord } from '@scope/core';

/** One program run unscoped and scoped, each in a fresh work directory, and what libscope wrote. */
interface Ran {
  name: string;
  plain: SpawnSyncReturns<Buffer>;
  scoped: SpawnSyncReturns<Buffer>;
  plainWork: string;
  /** the scoped run's work directory, as the program was given it (absolute, no symlinks) */
  work: string;
  s: Session;
  /** every line of events.json then metrics.json, valid or not */
  records: unknown[];
  events: Evt[];
  metrics: Metric[];
  failures: string[];
}

const FAM_ENV = { SCOPE_METRIC_VERBOSITY: '4', SCOPE_SUMMARY_PERIOD: '1' };
const cleanup: string[] = [];
const cache = new Map<string, Ran | Error>();

/** Runs `name` (a test program, or cmd with args) once per test file, unscoped then scoped; a run
 * that could not be made (timeout, missing program) fails every test that needs it, once each. */
function ran(name: string, opts: { cmd?: string; args?: (work: string) => string[]; timeout?: number } = {}): Ran {
  const hit = cache.get(name);
  if (hit instanceof Error) throw hit;
  if (hit) return hit;
  try {
    const r = runBoth(name, opts);
    cache.set(name, r);
    return r;
  } catch (e) {
    cache.set(name, e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}

function runBoth(name: string, opts: { cmd?: string; args?: (work: string) => string[]; timeout?: number }): Ran {
  const cmd = opts.cmd ?? prog(name);
  const args = opts.args ?? ((w: string) => [w]);
  const timeout = opts.timeout ?? 60_000;
  const plainWork = realpathSync(tempDir('libscope-plain-'));
  cleanup.push(plainWork);
  const plain = run(cmd, args(plainWork), undefined, timeout);
  const s = session(FAM_ENV);
  cleanup.push(s.dir);
  const work = join(realpathSync(s.dir), 'work');
  mkdirSync(work);
  const scoped = run(cmd, args(work), s.env, timeout);
  const ev = readNdjsonAll(join(s.dir, 'events.json'));
  const me = readNdjsonAll(join(s.dir, 'metrics.json'));
  const records = [...ev.records, ...me.records];
  const r: Ran = {
    name,
    plain,
    scoped,
    plainWork,
    work,
    s,
    records,
    events: evts(ev.records),
    metrics: records.filter(isMetric),
    failures: [...ev.failures, ...me.failures],
  };
  return r;
}

/** What a directory holds: relative path → "dir", "link <target>" or "file <content>". */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const key = rel ? `${rel}/${name}` : name;
      const path = join(dir, key);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out[key] = `link ${readlinkSync(path)}`;
      else if (st.isDirectory()) {
        out[key] = 'dir';
        walk(key);
      } else out[key] = `file ${readFileSync(path, 'latin1')}`;
    }
  };
  walk('');
  return out;
}

const text = (b: Buffer): string => b.toString('utf8');
const names = (xs: Iterable<unknown>): string => [...new Set(xs)].map(String).sort().join(', ') || 'none';
const sameFile = (file: unknown, base: string): boolean => file === base || String(file).endsWith(`/${base}`);

/** The fs metrics of the scoped program's own process with this name and op. */
function metricsOf(r: Ran, metric: string, op: string): Metric[] {
  return r.metrics.filter((m) => m.body._metric === metric && m.body.op === op && m.body.pid === r.scoped.pid);
}

function assertMetric(r: Ran, metric: string, op: string, positive: boolean): void {
  const ms = metricsOf(r, metric, op);
  const seen = names(r.metrics.filter((m) => m.body._metric === metric).map((m) => m.body.op));
  assert.ok(ms.length > 0, `no ${metric} metric with op ${op} (${metric} ops seen: ${seen})`);
  if (positive) {
    const total = ms.reduce((n, m) => n + Number(m.body._value), 0);
    assert.ok(total > 0, `${metric} op ${op}: _value total ${total}, expected > 0`);
  }
}

function evtsWithOp(r: Ran, source: string, op: string): Evt[] {
  return r.events.filter((e) => e.body.source === source && e.body.data.op === op);
}

function assertEvtOp(r: Ran, source: string, op: string): Evt[] {
  const es = evtsWithOp(r, source, op);
  const seen = names(r.events.filter((e) => e.body.source === source).map((e) => e.body.data.op));
  assert.ok(es.length > 0, `no ${source} event with op ${op} (${source} ops seen: ${seen})`);
  return es;
}

/** "<function> fd=<n>" lines of fam_open's stdout. */
function fdsPrinted(r: Ran): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of text(r.scoped.stdout).split('\n')) {
    const x = /^(\S+) fd=(\d+)$/.exec(l);
    if (x?.[1] && x[2]) m.set(x[1], Number(x[2]));
  }
  return m;
}

function sameAsUnscoped(name: string, compareFiles = true): void {
  test(`${name}: exits 0, and scoped gives the same status, stdout, stderr${compareFiles ? ' and files' : ''} as unscoped`, () => {
    const r = ran(name);
    assert.is(r.plain.status, 0, `unscoped status (stderr: ${text(r.plain.stderr)})`);
    assert.is(r.scoped.status, r.plain.status, `scoped status (stderr: ${text(r.scoped.stderr)})`);
    assert.is(r.scoped.signal, null);
    assert.fixture(text(r.scoped.stdout), text(r.plain.stdout));
    assert.fixture(text(r.scoped.stderr), text(r.plain.stderr));
    if (compareFiles) assert.equal(tree(r.work), tree(r.plainWork));
  });
}

/** The numbers (from 1) of the lines of a file that are a record a killed writer left unfinished. */
function tornLines(path: string): Set<number> {
  const torn = new Set<number>();
  if (!existsSync(path)) return torn;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((l, i) => {
      if (isTornRecord(l)) torn.add(i + 1);
    });
  return torn;
}

/** killed: a process of the run dies of a signal (the pipeline's `yes`, of SIGPIPE), and the kernel
 * may stop its last append at a page boundary: such a half line (only that) is not a failure. */
function allValid(name: string, opts: { killed?: boolean } = {}): void {
  test(`${name}: every record in events.json and metrics.json validates with @scope/schemas`, () => {
    const r = ran(name);
    assert.ok(r.records.length > 0, 'records were written');
    let failures = r.failures;
    if (opts.killed) {
      const torn = new Map(['events.json', 'metrics.json'].map((f) => [join(r.s.dir, f), tornLines(join(r.s.dir, f))]));
      failures = failures.filter((f) => {
        const m = /^(.*):(\d+): not JSON/.exec(f);
        return !(m && torn.get(m[1] ?? '')?.has(Number(m[2])));
      });
    }
    assert.equal(failures.slice(0, 5), [], `${failures.length} invalid lines`);
  });
}

// ---------------------------------------------------------------------------------------------
// fam_open: descriptors opened and closed

sameAsUnscoped('fam_open');
allValid('fam_open');

/** opener → the file it opens in the work dir (null: a duplicate of dupsrc.dat; '.': the dir) */
const OPENERS: [string, string | null][] = [
  ['open', 'open.dat'],
  ['open64', 'open64.dat'],
  ['openat', 'openat.dat'],
  ['openat64', 'openat64.dat'],
  ['__open_2', '__open_2.dat'],
  ['__open64_2', '__open64_2.dat'],
  ['__openat_2', '__openat_2.dat'],
  ['__openat64_2', '__openat64_2.dat'],
  ['creat', 'creat.dat'],
  ['creat64', 'creat64.dat'],
  ['fopen', 'fopen.dat'],
  ['fopen64', 'fopen64.dat'],
  ['freopen', 'freopen.dat'],
  ['freopen64', 'freopen64.dat'],
  ['opendir', '.'],
  ['dup', null],
  ['dup2', null],
  ['dup3', null],
  ['fcntl', null],
  ['fcntl64', null],
];
for (const [op, file] of OPENERS) {
  const what = file === null ? 'a duplicate' : file === '.' ? 'the directory' : file;
  test(`fam_open: ${op} gives an fs.open with op ${op} for ${what} and the fd it returned`, () => {
    const r = ran('fam_open');
    const fd = fdsPrinted(r).get(op);
    assert.is(typeof fd, 'number', `fam_open printed the fd of ${op}`);
    const es = assertEvtOp(r, 'fs.open', op);
    const match = es.filter((e) => file === null || (file === '.' ? e.body.data.file === r.work : sameFile(e.body.data.file, file)));
    assert.ok(match.length > 0, `${op}: files seen ${names(es.map((e) => e.body.data.file))}`);
    assert.ok(
      match.some((e) => e.body.data.fd === fd),
      `${op}: fd ${fd}, seen ${names(match.map((e) => e.body.data.fd))}`,
    );
  });
}

for (const op of ['close', 'fclose', 'fcloseall', 'closedir']) {
  test(`fam_open: ${op} gives an fs.close with op ${op}`, () => {
    const r = ran('fam_open');
    const es = assertEvtOp(r, 'fs.close', op);
    if (op === 'closedir')
      assert.ok(
        es.some((e) => e.body.data.file === r.work),
        `closedir of the directory: ${names(es.map((e) => e.body.data.file))}`,
      );
    if (op === 'fcloseall') {
      const files = es.map((e) => String(e.body.data.file));
      for (const f of ['fcloseall-a.dat', 'fcloseall-b.dat'])
        assert.ok(
          files.some((x) => sameFile(x, f)),
          `fcloseall closes ${f}: ${names(files)}`,
        );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// fam_read: every read function counts as fs.read

sameAsUnscoped('fam_read');
allValid('fam_read');

const READS = [
  'read',
  'readv',
  'pread',
  'pread64',
  'preadv',
  'preadv64',
  'preadv2',
  'preadv64v2',
  '__read_chk',
  '__pread_chk',
  '__pread64_chk',
  'fread',
  '__fread_chk',
  'fread_unlocked',
  '__fread_unlocked_chk',
  'fgets',
  '__fgets_chk',
  'fgets_unlocked',
  'fgetws',
  '__fgetws_chk',
  'fgetwc',
  'fgetc',
  'getline',
  'getdelim',
  '__getdelim',
  'fscanf',
  '__isoc99_fscanf',
  'readdir',
];

for (const op of READS) test(`fam_read: ${op} counts as fs.read with op ${op} (bytes > 0)`, () => assertMetric(ran('fam_read'), 'fs.read', op, true));

test('fam_read: a summary carries its calls (numops) and fs.duration its longest call (max), which scope report builds on', () => {
  const r = ran('fam_read');
  // pread64 is called once; its first call in the thread is timed.
  const reads = metricsOf(r, 'fs.read', 'pread64');
  assert.equal(
    reads.reduce((n, m) => n + Number(m.body.numops), 0),
    1,
    JSON.stringify(reads),
  );
  const durs = metricsOf(r, 'fs.duration', 'pread64');
  assert.equal(durs.length, 1, JSON.stringify(durs));
  const d = durs[0]!.body;
  assert.equal(d.numops, 1);
  assert.ok(typeof d.max === 'number' && d.max >= Number(d._value), `max ${String(d.max)} below the mean ${String(d._value)}`);
});

// ---------------------------------------------------------------------------------------------
// fam_write: every write function counts as fs.write; console text becomes console events

sameAsUnscoped('fam_write');
allValid('fam_write');

const WRITES = [
  'write',
  'pwrite',
  'pwrite64',
  'writev',
  'pwritev',
  'pwritev2',
  'pwritev64',
  'pwritev64v2',
  'fwrite',
  'fwrite_unlocked',
  'fputs',
  'fputs_unlocked',
  'fputc',
  'fputc_unlocked',
  'putwc',
  'fputwc',
  'fprintf',
  'vfprintf',
  '__fprintf_chk',
  '__vfprintf_chk',
  'sendfile',
  'sendfile64',
  'copy_file_range',
  'splice',
  'puts',
  'putchar',
  'printf',
  'vprintf',
  '__printf_chk',
  '__vprintf_chk',
];
for (const op of WRITES) test(`fam_write: ${op} counts as fs.write with op ${op} (bytes > 0)`, () => assertMetric(ran('fam_write'), 'fs.write', op, true));

for (const op of ['sendfile', 'sendfile64', 'copy_file_range', 'splice'])
  test(`fam_write: ${op} also counts as fs.read with op ${op} (bytes > 0)`, () => assertMetric(ran('fam_write'), 'fs.read', op, true));

/** [the call, the text fam_write writes with it, the console stream] */
const CONSOLE: [string, string, 'stdout' | 'stderr'][] = [
  ['puts', '[puts] to stdout\n', 'stdout'],
  ['putchar', '[putchar] to stdout\n', 'stdout'],
  ['printf', '[printf 1] to stdout\n', 'stdout'],
  ['vprintf', '[vprintf 2] to stdout\n', 'stdout'],
  ['__printf_chk', '[__printf_chk 3] to stdout\n', 'stdout'],
  ['__vprintf_chk', '[__vprintf_chk 4] to stdout\n', 'stdout'],
  ['fputs(stdout)', '[fputs] to stdout\n', 'stdout'],
  ['fwrite(stdout)', '[fwrite] to stdout\n', 'stdout'],
  ['write(1)', '[write] to stdout\n', 'stdout'],
  ['fprintf(stderr)', '[fprintf 5] to stderr\n', 'stderr'],
];
for (const [call, line, stream] of CONSOLE) {
  test(`fam_write: ${call} gives a ${stream} console event with its text`, () => {
    const r = ran('fam_write');
    // stdio may split or join its writes: the text is looked for in all the messages, in order
    const es = r.events.filter((e) => e.body.source === stream && e.body.pid === r.scoped.pid);
    const all = es.map((e) => String(e.body.data.message)).join('');
    assert.ok(all.includes(line), `${JSON.stringify(line)} not in the ${es.length} ${stream} messages: ${JSON.stringify(all.slice(0, 600))}`);
    for (const e of es) assert.is(e.body.sourcetype, 'console');
  });
}

// ---------------------------------------------------------------------------------------------
// fam_seek and fam_stat

sameAsUnscoped('fam_seek');
allValid('fam_seek');
const SEEKS = ['lseek', 'lseek64', 'fseek', 'fseeko', 'fseeko64', 'ftell', 'ftello', 'ftello64', 'rewind', 'fsetpos', 'fsetpos64', 'fgetpos', 'fgetpos64'];
for (const op of SEEKS) test(`fam_seek: ${op} counts as fs.seek with op ${op}`, () => assertMetric(ran('fam_seek'), 'fs.seek', op, false));

sameAsUnscoped('fam_stat');
allValid('fam_stat');
const STATS = [
  'stat',
  'lstat',
  'fstat',
  'fstatat',
  'statx',
  'stat64',
  'lstat64',
  'fstat64',
  'fstatat64',
  '__xstat',
  '__xstat64',
  '__lxstat',
  '__lxstat64',
  '__fxstat',
  '__fxstat64',
  '__fxstatat',
  '__fxstatat64',
  'statfs',
  'statfs64',
  'fstatfs',
  'fstatfs64',
  'statvfs',
  'statvfs64',
  'fstatvfs',
  'fstatvfs64',
  'access',
  'faccessat',
];
for (const op of STATS) test(`fam_stat: ${op} counts as fs.stat with op ${op}`, () => assertMetric(ran('fam_stat'), 'fs.stat', op, false));

// ---------------------------------------------------------------------------------------------
// fam_ns: names made, changed and removed

sameAsUnscoped('fam_ns');
allValid('fam_ns');

/** [function, event source, old name in the work dir, new name] */
const NS: [string, string, string, string?][] = [
  ['mkdir', 'fs.mkdir', 'mkdir.d'],
  ['mkdirat', 'fs.mkdir', 'mkdirat.d'],
  ['rename', 'fs.rename', 'rename.old', 'rename.new'],
  ['renameat', 'fs.rename', 'renameat.old', 'renameat.new'],
  ['renameat2', 'fs.rename', 'renameat2.old', 'renameat2.new'],
  ['unlink', 'fs.delete', 'unlink.dat'],
  ['unlinkat', 'fs.delete', 'unlinkat.dat'],
  ['rmdir', 'fs.delete', 'rmdir.d'],
];
for (const [op, source, from, to] of NS) {
  test(`fam_ns: ${op} gives an ${source} event with op ${op} and the absolute path${to ? 's' : ''}`, () => {
    const r = ran('fam_ns');
    const es = assertEvtOp(r, source, op);
    const e = es.find((x) => x.body.data.file === join(r.work, from));
    assert.ok(e, `${op}: data.file ${join(r.work, from)}, seen ${names(es.map((x) => x.body.data.file))}`);
    if (to) assert.is(e.body.data.new_file, join(r.work, to), `${op}: data.new_file`);
    assert.is(e.body.sourcetype, 'fs');
  });
}

// ---------------------------------------------------------------------------------------------
// fam_errors: failing calls

sameAsUnscoped('fam_errors');
allValid('fam_errors');

const FAILS: [string, string][] = [
  ['open', 'open of a missing file'],
  ['fopen', 'fopen of a missing file'],
  ['read', 'read on fd 999'],
  ['write', 'write on fd 999'],
  ['stat', 'stat of a missing file'],
  ['lseek', 'lseek on a pipe'],
  ['unlink', 'unlink of a missing file'],
  ['rename', 'rename of a missing file'],
  ['mkdir', 'mkdir of an existing directory'],
];
for (const [op, what] of FAILS) {
  test(`fam_errors: ${what} gives an fs.error event (op ${op}, the errno name printed) and an fs.error metric`, () => {
    const r = ran('fam_errors');
    const line = text(r.scoped.stdout)
      .split('\n')
      .find((l) => l.startsWith(`${op} `));
    assert.ok(line, `fam_errors printed a line for ${op}`);
    const errno = line.split(' ')[1];
    const es = assertEvtOp(r, 'fs.error', op);
    assert.ok(
      es.some((e) => e.body.data.errno_name === errno),
      `${op}: errno_name ${errno}, seen ${names(es.map((e) => e.body.data.errno_name))}`,
    );
    assertMetric(r, 'fs.error', op, false);
  });
}

// ---------------------------------------------------------------------------------------------
// Stress: signals, vfork, descriptor chaos, a pipeline — same behaviour, and records keep coming

const STRESS_TIMEOUT = 180_000;

test('sigalrm: 100000 handler writes from SIGALRM every 50 µs: same status and stdout scoped as unscoped', () => {
  const r = ran('sigalrm', { timeout: STRESS_TIMEOUT });
  assert.is(r.plain.status, 0);
  assert.is(r.scoped.status, 0, `scoped: signal ${r.scoped.signal}, stderr ${text(r.scoped.stderr)}`);
  const out = text(r.scoped.stdout);
  assert.ok(out === text(r.plain.stdout), `stdout differs: ${out.length} bytes scoped, ${r.plain.stdout.length} unscoped, ends ${JSON.stringify(out.slice(-40))}`);
  assert.ok(out.endsWith('tick\nticks=100000\n'));
});
test('sigalrm: records keep coming after the ticks (fs.open of after-ticks, 1.2 s after the storm)', () => {
  const r = ran('sigalrm', { timeout: STRESS_TIMEOUT });
  const after = join(r.work, 'after-ticks');
  assert.ok(
    r.events.some((e) => e.body.source === 'fs.open' && e.body.data.file === after),
    `fs.open of ${after}`,
  );
});
allValid('sigalrm');

sameAsUnscoped('vforkexec');
test("vforkexec: the vfork'd children that exec write their own process-start; the parent's records keep coming", () => {
  const r = ran('vforkexec');
  const parent = r.scoped.pid;
  const starts = r.records.filter(isStart);
  for (const procname of ['sh', 'echo']) {
    const st = starts.find((x) => x.info.process.procname === procname);
    assert.ok(st, `process-start of ${procname} (seen: ${names(starts.map((x) => x.info.process.procname))})`);
    assert.is.not(st.info.process.pid, parent, `${procname} reports under its own pid`);
    assert.is(st.info.process.ppid, parent, `${procname}'s parent is vforkexec`);
  }
  const after = join(r.work, 'after-vfork');
  const open = r.events.find((e) => e.body.source === 'fs.open' && e.body.data.file === after);
  assert.ok(open, `fs.open of ${after}`);
  assert.is(open.body.pid, parent);
});
allValid('vforkexec');

sameAsUnscoped('fdchaos');
test('fdchaos: after closing 0..1023, close_range and dup2 over 3..63, records keep coming', () => {
  const r = ran('fdchaos');
  assert.is(readFileSync(join(r.work, 'done'), 'utf8'), 'files=16\n');
  assert.ok(isStart(r.records[0]), 'process-start first');
  const opened = new Set(r.events.filter((e) => e.body.source === 'fs.open').map((e) => e.body.data.file));
  for (const f of ['p1-0', 'p2-4', 'p3-0', 'p4-4', 'done']) assert.ok(opened.has(join(r.work, f)), `fs.open of ${f} (seen: ${names([...opened].map((x) => String(x).split('/').at(-1)))})`);
  const closed = r.events.find((e) => e.body.source === 'fs.close' && e.body.data.file === join(r.work, 'done'));
  assert.ok(closed, 'fs.close of done');
  assert.is(closed.body.data.file_write_bytes, 9);
  assert.is(r.events.filter((e) => e.body.source === 'stdout').length, 0, 'files on fds 0..2 are not the console');
  const exitMetrics = new Set(r.metrics.map((m) => m.body._metric));
  for (const n of ['proc.cpu', 'proc.mem', 'proc.fd']) assert.ok(exitMetrics.has(n), `${n} written`);
});
allValid('fdchaos');

const PIPELINE = 'yes | head -c 50000000 | wc';
const pipeline = (): Ran => ran('pipeline', { cmd: 'sh', args: () => ['-c', PIPELINE], timeout: STRESS_TIMEOUT });
test(`sh -c '${PIPELINE}': same status and stdout scoped as unscoped`, () => {
  const r = pipeline();
  assert.is(r.plain.status, 0);
  assert.is(r.scoped.status, 0, `stderr: ${text(r.scoped.stderr)}`);
  assert.is(text(r.scoped.stdout), text(r.plain.stdout));
});
test(`sh -c '${PIPELINE}': every process reports, and wc's own records come after 50 MB went through`, () => {
  const r = pipeline();
  const starts = r.records.filter(isStart);
  const byProc = new Map(starts.map((x) => [x.info.process.procname, x.info.process.pid]));
  for (const p of ['sh', 'yes', 'head', 'wc']) assert.ok(byProc.has(p), `${p} wrote a process-start (seen: ${names(byProc.keys())})`);
  const wc = byProc.get('wc');
  const out = r.events
    .filter((e) => e.body.source === 'stdout' && e.body.pid === wc)
    .map((e) => String(e.body.data.message))
    .join('');
  // coreutils writes the final newline with putchar_unlocked, which <stdio.h> expands inline: no
  // interposer sees it (README, known limits), so the text is compared without it
  assert.is(out.trimEnd(), text(r.plain.stdout).trimEnd(), "wc's stdout console event");
  assert.ok(
    r.metrics.some((m) => m.body.pid === wc && m.body._metric === 'proc.cpu'),
    "wc's proc.cpu metric",
  );
});
allValid('pipeline', { killed: true });

test.after(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

test.run();
