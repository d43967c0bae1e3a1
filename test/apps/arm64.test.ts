/**
 * libscope for linux-arm64: `npm run build:arm64 -w @scope/libscope` (Debian's aarch64 cross compilers,
 * test/apps/install.sh) makes all four binaries as aarch64 ELF files, and a program built for aarch64
 * (programs/arm64/smoke.c) runs under qemu's user-mode emulator with that libscope.so preloaded: its
 * open, read, close, console write and refused connect are recorded as the same program's are on this
 * machine with the x86-64 build. What cannot be run here: the addon (no arm64 node) and scope-supervise
 * (qemu-user has no ptrace).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { libscopePath } from '@scope/libscope';
import { tempDir } from '@scope/core/testing';
import { freePort, parseLines, repoRoot } from '../lib/harness.js';

const libscope = join(repoRoot, 'libscope');
const out = join(libscope, 'build-linux-arm64', 'Release');
const dir = tempDir('scope-arm64-');
const source = join(repoRoot, 'test/apps/programs/arm64/smoke.c');

/** e_machine of an ELF file: 62 x86-64, 183 aarch64. */
function machine(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(20);
    readSync(fd, b, 0, 20, 0);
    assert.is(b.toString('latin1', 0, 4), '\x7fELF', file);
    return b.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

test('npm run build:arm64 makes libscope.so, the addon, scope-exec and scope-supervise for aarch64', () => {
  const r = spawnSync('npm', ['run', 'build:arm64', '-w', '@scope/libscope'], { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 });
  assert.is(r.status, 0, r.stderr);
  for (const f of ['libscope.so', 'scope_addon.node', 'scope-exec', 'scope-supervise']) assert.is(machine(join(out, f)), 183, f);
});

/** The records of `smoke` run under a libscope, by `run` (a prefix: qemu's, or none). */
function smoke(program: string, lib: string, run: string[], name: string): { events: Record<string, any>[]; metrics: Record<string, any>[]; stdout: string } {
  const target = join(dir, 'target.txt');
  writeFileSync(target, 'twelve bytes');
  const events = join(dir, `${name}-events.json`);
  const metrics = join(dir, `${name}-metrics.json`);
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    SCOPE_EVENT_DEST: `file://${events}`,
    SCOPE_METRIC_DEST: `file://${metrics}`,
    SCOPE_METRIC_FORMAT: 'ndjson',
    SCOPE_EVENT_CONSOLE: 'true',
  };
  const argv = [...run, program, target, String(port)];
  const r = spawnSync(argv[0] as string, argv.slice(1), { env: run.length > 0 ? env : { ...env, LD_PRELOAD: lib }, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, `${name}: ${r.stderr}`);
  return { events: parseLines(readFileSync(events, 'utf8')), metrics: parseLines(readFileSync(metrics, 'utf8')), stdout: r.stdout };
}
let port = 0;

test('a program built for aarch64 runs under the aarch64 libscope (qemu-aarch64) and is recorded as on x86-64', async () => {
  port = await freePort('tcp');
  const armProgram = join(dir, 'smoke-arm64');
  const cc = spawnSync('aarch64-linux-gnu-gcc', ['-O1', '-o', armProgram, source], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  const hostProgram = join(dir, 'smoke-host');
  assert.is(spawnSync('cc', ['-O1', '-o', hostProgram, source], { encoding: 'utf8' }).status, 0);
  const arm = smoke(armProgram, join(out, 'libscope.so'), ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', '-E', `LD_PRELOAD=${join(out, 'libscope.so')}`], 'arm64');
  const host = smoke(hostProgram, libscopePath(), [], 'host');
  assert.is(arm.stdout, 'read 12\n');
  const kinds = (rs: Record<string, any>[]) => [...new Set(rs.filter((e) => e['type'] === 'evt').map((e) => e['body']['source'] as string))].sort();
  assert.equal(kinds(arm.events), kinds(host.events));
  for (const want of ['fs.open', 'fs.close', 'net.error']) assert.ok(kinds(arm.events).includes(want), `${want} in ${kinds(arm.events).join(' ')}`);
  const close = arm.events.find((e) => e['body']?.['source'] === 'fs.close' && String(e['body']['data']['file']).endsWith('target.txt'));
  assert.is(close?.['body']['data']['file_read_bytes'], 12);
  const refused = arm.events.find((e) => e['body']?.['source'] === 'net.error');
  assert.match(JSON.stringify(refused?.['body']['data']), /ECONNREFUSED|refused/i);
  const metricNames = (ms: Record<string, any>[]) => new Set(ms.map((m) => m['body']['_metric'] as string));
  for (const m of ['proc.cpu', 'proc.mem', 'fs.read']) assert.ok(metricNames(arm.metrics).has(m), m);
});

test.run();
