// Console means console: text written to fd 1 and 2 is a stdout / stderr event only when the
// descriptor is a terminal, a pipe, a socket or another device. When it is a regular file (a
// shell's `> out.gz` opened it and dup2'd it onto 1 before the exec), the writes are that file's:
// counted in its fs.close under its name, and file events when it is a log file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evts, isMetric, session } from './lib.js';
import type { Evt, Session } from './lib.js';

const consoleEvts = (events: unknown[]): Evt[] => evts(events).filter((e) => e.body.sourcetype === 'console');
const show = (es: Evt[]): string => JSON.stringify(es.map((e) => [e.body.proc, e.body.source, e.body.data]).slice(0, 5));

/** sh -c SCRIPT in dir, scoped. */
function sh(s: Session, dir: string, script: string) {
  const r = spawnSync('sh', ['-c', script], { env: s.env, cwd: dir, timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

/** A session whose directory is also the work directory (absolute, no symlinks); removed after fn. */
function inSession(fn: (s: Session, dir: string) => void): void {
  const s = session();
  try {
    fn(s, realpathSync(s.dir));
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
}

test('sh -c "gzip -c F > OUT.gz": no console events; fs.close of OUT.gz in gzip carries its bytes', () => {
  inSession((s, dir) => {
    const input = Buffer.alloc(200_000);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7919) % 251; // compresses, but not to nothing
    writeFileSync(join(dir, 'F'), input);
    const r = sh(s, dir, 'gzip -c F > OUT.gz');
    assert.is(r.status, 0, r.stderr.toString());
    const size = statSync(join(dir, 'OUT.gz')).size;
    assert.ok(size > 100, `OUT.gz has ${size} bytes`);
    const events = s.events();
    assert.equal(consoleEvts(events), [], `console events: ${show(consoleEvts(events))}`);
    const out = join(dir, 'OUT.gz');
    const closes = evts(events, 'fs.close').filter((e) => e.body.data.file === out && e.body.proc === 'gzip');
    assert.is(closes.length, 1, `gzip's fs.close of ${out}: ${show(evts(events, 'fs.close'))}`);
    const c = closes[0] as Evt;
    assert.is(c.body.data.file_write_bytes, size, 'file_write_bytes is the size of OUT.gz');
    assert.ok(Number(c.body.data.file_write_ops) >= 1);
    assert.is(c.body.data.fd, 1);
    assert.is(c.body.data.file_perms, statSync(out).mode & 0o7777, 'its mode, as for a file the process opened');
    // gzip did not open it (the shell did): no fs.open for it in gzip's process
    assert.equal(
      evts(events, 'fs.open').filter((e) => e.body.data.file === out && e.body.proc === 'gzip'),
      [],
    );
    // and the shell's open and dup2 are there
    const shOps = evts(events, 'fs.open')
      .filter((e) => e.body.data.file === out && e.body.proc === 'sh')
      .map((e) => e.body.data.op);
    assert.ok(shOps.includes('dup2'), `sh's opens of OUT.gz: ${shOps.join(', ')}`);
    const gzipPid = c.body.pid;
    const written = s
      .metrics()
      .filter(isMetric)
      .filter((m) => m.body._metric === 'fs.write' && m.body.pid === gzipPid);
    assert.is(
      written.reduce((n, m) => n + m.body._value, 0),
      size,
      "gzip's fs.write metrics add up to the file's size",
    );
  });
});

test('a log file on fd 1 gives file events, from a builtin and from a program the shell starts', () => {
  inSession((s, dir) => {
    writeFileSync(join(dir, 'in.txt'), 'program\n');
    const r = sh(s, dir, 'echo builtin > x.log; cat in.txt > y.log');
    assert.is(r.status, 0, r.stderr.toString());
    const events = s.events();
    assert.equal(consoleEvts(events), [], `console events: ${show(consoleEvts(events))}`);
    const text = (file: string, proc: string): string =>
      evts(events, join(dir, file))
        .filter((e) => e.body.proc === proc && e.body.sourcetype === 'file')
        .map((e) => String(e.body.data.message))
        .join('');
    assert.is(text('x.log', 'sh'), 'builtin\n', `file events: ${show(evts(events).filter((e) => e.body.sourcetype === 'file'))}`);
    assert.is(text('y.log', 'cat'), 'program\n');
    const close = evts(events, 'fs.close').find((e) => e.body.data.file === join(dir, 'y.log') && e.body.proc === 'cat');
    assert.is(close?.body.data.file_write_bytes, 'program\n'.length);
  });
});

// AppScope's default log-file pattern, (\/logs?\/)|(\.log$)|(\.log[.\d]), which libscope matches by
// hand inside open(): each name below is written by the shell, and only the log files among them
// give file events (relative names are read as if a '/' preceded them).
const LOG_NAMES: [string, boolean][] = [
  ['a.log', true],
  ['a.log.1', true],
  ['a.log7', true],
  ['log/a', true],
  ['logs/a', true],
  ['d/logs/b', true],
  ['.log', true],
  ['a.logx', false],
  ['a.lo', false],
  ['a.log_', false],
  ['catalog/a', false],
  ['blogs/a', false],
  ['logsx/a', false],
  ['log', false],
  ['logs', false],
  ['d/.lo/g', false],
];
test('the default log-file pattern, by hand: each name a shell writes to gives file events exactly when it is a log file', () => {
  inSession((s, dir) => {
    const script = LOG_NAMES.map(([name], i) => `mkdir -p "$(dirname ${name})" && echo line${i} > ${name}`).join('; ');
    const r = sh(s, dir, script);
    assert.is(r.status, 0, r.stderr.toString());
    const fileEvents = evts(s.events()).filter((e) => e.body.sourcetype === 'file');
    for (const [i, [name, isLog]] of LOG_NAMES.entries()) {
      const text = fileEvents
        .filter((e) => e.body.source === join(dir, name))
        .map((e) => String(e.body.data.message))
        .join('');
      assert.is(text, isLog ? `line${i}\n` : '', `${name}: ${isLog ? 'a log file' : 'not a log file'}`);
    }
  });
});

test('stdout a pipe is still the console: stdout events (text, and binary as one marker)', () => {
  inSession((s, dir) => {
    writeFileSync(join(dir, 'F'), 'some text to compress\n'.repeat(100));
    const r = sh(s, dir, 'echo to the pipe; gzip -c F');
    assert.is(r.status, 0, r.stderr.toString());
    const events = s.events();
    const fromSh = evts(events, 'stdout').filter((e) => e.body.proc === 'sh');
    assert.is(fromSh.map((e) => e.body.data.message).join(''), 'to the pipe\n');
    const gz = evts(events, 'stdout').filter((e) => e.body.proc === 'gzip');
    assert.ok(gz.length >= 1, 'gzip writing to a pipe gives stdout events');
    for (const e of gz) assert.is(e.body.data.message, '-- binary data ignored --');
  });
});

test('a device on fd 1 is the console too (a shell\'s "> /dev/null")', () => {
  inSession((s, dir) => {
    const r = sh(s, dir, 'echo into the device > /dev/null');
    assert.is(r.status, 0);
    const out = evts(s.events(), 'stdout').filter((e) => e.body.proc === 'sh');
    assert.is(out.map((e) => e.body.data.message).join(''), 'into the device\n');
  });
});

test('dup2 of a file the process did not open onto fd 1: an fs.open named after the file, no console', () => {
  inSession((s, dir) => {
    const path = join(dir, 'out.log');
    writeFileSync(join(dir, 'in.txt'), 'program\n');
    const fd = openSync(path, 'w');
    try {
      // fd 3 is inherited (libscope never saw it opened); `exec 1>&3` is a dup2(3, 1)
      const r = spawnSync('sh', ['-c', 'exec 1>&3 3>&-; echo builtin; cat in.txt'], {
        env: s.env,
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe', fd],
      });
      assert.is(r.status, 0, r.stderr?.toString());
      assert.is(r.stdout.toString(), '');
    } finally {
      closeSync(fd);
    }
    assert.is(readFileSync(path, 'utf8'), 'builtin\nprogram\n');
    const events = s.events();
    assert.equal(consoleEvts(events), [], `console events: ${show(consoleEvts(events))}`);
    const dup = evts(events, 'fs.open').find((e) => e.body.data.file === path && e.body.proc === 'sh');
    assert.is(dup?.body.data.op, 'dup2');
    assert.is(dup?.body.data.fd, 1);
    // each process's reporting thread writes its own: their order in the file is not the writes'
    const text = evts(events, path)
      .map((e) => `${e.body.proc}: ${String(e.body.data.message)}`)
      .sort();
    assert.equal(text, ['cat: program\n', 'sh: builtin\n']);
  });
});

test.run();
