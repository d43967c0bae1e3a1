/** --crashes on a fixture crash directory, --watch of a process that exits or crashes, and the parsers. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateRecord } from '@scope/schemas';
import { libscopePath, testProgramDir } from '@scope/libscope';
import { parseInfo } from '../src/crashes.js';
import { parseEnviron, parseLimits, parseMaps, procAddress } from '../src/procfs.js';
import { parseGdb } from '../src/backtrace.js';
import { noForcedColour, tempDir } from '@scope/core/testing';

const bin = fileURLToPath(new URL('../../bin/scope-snapshot.js', import.meta.url));

function crashDir(home: string, session: string, pid: number): string {
  const dir = join(home, 'history', session, 'crash');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'info'),
    [
      'version: 0.1.0',
      'time: 2026-12-02T03:23:48Z',
      `pid: ${pid}`,
      `tid: ${pid + 1}`,
      'process: myapp',
      'exe: /usr/bin/myapp',
      'signal: 11',
      'signal_name: SIGSEGV',
      'si_code: 1',
      'errno: 0',
      'fault_address: 0x0',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'backtrace'), '#0 0x0000 in crash_here () at app.c:12\n#1 0x0001 in main ()\n');
  writeFileSync(join(dir, 'config'), 'SCOPE_EVENT_DEST=file:///tmp/e.json\n');
  return dir;
}

test('--crashes lists a session crash directory as a crash record', () => {
  const home = tempDir('scope-snapshot-crashes-');
  const dir = crashDir(home, 'myapp_1_4242_1796180000000000000', 4242);
  const r = spawnSync(process.execPath, [bin, '--crashes'], { encoding: 'utf8', env: { ...noForcedColour(), SCOPE_HOME: home } });
  assert.is(r.status, 0, r.stderr);
  const records = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const mine = records.find((x) => x.dir === dir);
  assert.equal(mine, {
    type: 'crash',
    crashed: true,
    pid: 4242,
    dir,
    time: Date.parse('2026-12-02T03:23:48Z') / 1000,
    signal: 'SIGSEGV',
    process: 'myapp',
    files: ['backtrace', 'config', 'info'],
    info: {
      version: '0.1.0',
      time: '2026-12-02T03:23:48Z',
      pid: '4242',
      tid: '4243',
      process: 'myapp',
      exe: '/usr/bin/myapp',
      signal: '11',
      signal_name: 'SIGSEGV',
      si_code: '1',
      errno: '0',
      fault_address: '0x0',
    },
  });
  for (const x of records) assert.ok(validateRecord(x).ok, JSON.stringify(validateRecord(x)));
});

/** The tool watching `pid`: `ready` once it says it is waiting, `done` with how it ended. */
function watchTool(pid: number, home: string): { ready: Promise<void>; done: Promise<{ status: number | null; stdout: string; stderr: string }> } {
  const c = spawn(process.execPath, [bin, '--watch', '--json', String(pid)], { env: { ...noForcedColour(), SCOPE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let said: () => void = () => {};
  const ready = new Promise<void>((resolve) => (said = resolve));
  c.stdout.on('data', (d) => (stdout += d));
  c.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.includes('waiting for pid')) said();
  });
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    c.on('close', (status) => {
      said();
      resolve({ status, stdout, stderr });
    }),
  );
  return { ready, done };
}

/** Watch `pid`, `release` it once the tool waits, and read the record the tool ends with (status 0). */
async function watchToEnd(pid: number, home: string, release: () => void): Promise<any> {
  const w = watchTool(pid, home);
  await w.ready;
  release();
  const r = await w.done;
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('--watch of a process that exits normally: crashed false, status 0', async () => {
  const home = tempDir('scope-snapshot-watch-');
  // It ends when told to, once the tool watches it (a fixed sleep raced the tool's start on a busy machine).
  const p = spawn('sh', ['-c', 'read x'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const rec = await watchToEnd(p.pid as number, home, () => p.stdin?.end('go\n'));
  assert.equal(rec, { type: 'crash', crashed: false, pid: p.pid, process: 'sh' });
  assert.ok(validateRecord(rec).ok);
});

test('--watch of a program that crashes under libscope: what the crash handler wrote', async () => {
  const home = tempDir('scope-snapshot-watch-');
  const dir = join(home, 'history', 'crash_segv_1_1_1', 'crash');
  // exec keeps the pid: the watch starts on sh, the crash comes from crash_segv once the tool watches
  const p = spawn('sh', ['-c', 'read x; LD_PRELOAD="$1" exec "$0"', join(testProgramDir, 'crash_segv'), libscopePath()], {
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...noForcedColour(), SCOPE_SNAPSHOT_BACKTRACE: 'true', SCOPE_SNAPSHOT_DIR: dir, SCOPE_EVENT_DEST: `file://${join(home, 'e.json')}`, SCOPE_METRIC_DEST: `file://${join(home, 'm.json')}` },
  });
  const rec = await watchToEnd(p.pid as number, home, () => p.stdin?.end('go\n'));
  assert.ok(validateRecord(rec).ok, JSON.stringify(validateRecord(rec)));
  assert.is(rec.crashed, true, JSON.stringify(rec));
  assert.is(rec.pid, p.pid);
  assert.is(rec.dir, dir);
  assert.is(rec.signal, 'SIGSEGV');
  assert.is(rec.process, 'crash_segv');
  assert.is(rec.info.fault_address, '0x0');
  assert.match(rec.backtrace, /crash_segv_here/);
  const listed = spawnSync(process.execPath, [bin, '--crashes'], { encoding: 'utf8', env: { ...noForcedColour(), SCOPE_HOME: home } });
  assert.ok(
    listed.stdout.split('\n').some((l) => l !== '' && JSON.parse(l).dir === dir),
    listed.stdout,
  );
});

test('--watch of a process that leaves a crash directory: its info and backtrace', async () => {
  const home = tempDir('scope-snapshot-watch-');
  const p = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = p.pid as number;
  let dir = '';
  const rec = await watchToEnd(pid, home, () => {
    dir = crashDir(home, `sleep_1_${pid}_1`, pid);
    p.kill('SIGSEGV');
  });
  assert.is(rec.crashed, true);
  assert.is(rec.dir, dir);
  assert.is(rec.signal, 'SIGSEGV');
  assert.is(rec.info.fault_address, '0x0');
  assert.match(rec.backtrace, /crash_here \(\) at app\.c:12/);
  assert.ok(validateRecord(rec).ok, JSON.stringify(validateRecord(rec)));
});

test('parsers: info keys in snake_case, /proc/net addresses, limits, maps, gdb, secret names', () => {
  assert.equal(parseInfo('process name: a b\nfault address: 0x10\n'), { process_name: 'a b', fault_address: '0x10' });
  assert.is(procAddress('0100007F:1F90'), '127.0.0.1:8080');
  assert.is(procAddress('00000000000000000000000001000000:0050'), '[::1]:80');
  assert.is(procAddress('0000000000000000FFFF00000100007F:0016'), '[::ffff:127.0.0.1]:22');
  assert.equal(
    parseLimits(
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
        'Max nice priority         0                    0                    \n' +
        'Max cpu time              unlimited            unlimited            seconds   \n',
    ),
    [
      { name: 'Max nice priority', soft: 0, hard: 0, units: null },
      { name: 'Max cpu time', soft: 'unlimited', hard: 'unlimited', units: 'seconds' },
    ],
  );
  assert.equal(parseMaps('00400000-00401000 r-xp 00000000 08:01 12 /bin/x\n00401000-00403000 rw-p 00000000 00:00 0 \n7ff0-7ff8 rw-p 00000000 00:00 0 [stack]\n'), {
    count: 3,
    size: 0x3000 + 8,
    objects: ['/bin/x', '[stack]'],
  });
  assert.equal(
    parseGdb('Thread 2 (Thread 0x7f (LWP 11) "a"):\n#0  spin () at a.c:1\n#1  0x1 in start_thread ()\n\nThread 1 (process 10):\n#0  main ()\n'),
    new Map([
      [11, ['spin () at a.c:1', '0x1 in start_thread ()']],
      [10, ['main ()']],
    ]),
  );
  assert.equal(parseEnviron('A=1\u0000DB_PASSWORD=x\u0000GITHUB_TOKEN=y\u0000SSH_AUTH_SOCK=z\u0000', false), {
    A: '1',
    DB_PASSWORD: '[REDACTED]',
    GITHUB_TOKEN: '[REDACTED]',
    SSH_AUTH_SOCK: '[REDACTED]',
  });
});

test.run();
