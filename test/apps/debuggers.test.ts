/**
 * scope-snapshot's backtraces from each debugger alone (test/apps/install.sh installs gdb and
 * elfutils' eu-stack): with only eu-stack, then only gdb, on PATH (a directory holding a link to it),
 * every thread of attach_threads (built with -g: main waits in pthread_cond_timedwait, 8 threads spin
 * in spin()) has a backtrace naming its function and, for the program's own frames, its source line.
 * With both or neither, tools/scope-snapshot's own tests run on any machine.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { testProgramDir } from '@scope/libscope';
import { noForcedColour, tempDir } from '@scope/core/testing';
import { repoRoot } from '../lib/harness.js';

const bin = join(repoRoot, 'tools/scope-snapshot/bin/scope-snapshot.js');
const tmp = tempDir('scope-debuggers-');

for (const tool of ['eu-stack', 'gdb'] as const) {
  test(`with only ${tool} on PATH: every thread's function and file:line`, async () => {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(found !== '', `${tool} is installed (test/apps/install.sh)`);
    const dir = join(tmp, `only-${tool}`);
    mkdirSync(dir);
    symlinkSync(found, join(dir, tool));
    const c = spawn(join(testProgramDir, 'attach_threads'), [], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = spawnSync(process.execPath, [bin, '--json', String(c.pid)], { env: { ...noForcedColour(), SCOPE_HOME: tmp, PATH: dir }, encoding: 'utf8', timeout: 120_000 });
      assert.is(r.status, 0, r.stderr);
      const rec = JSON.parse(r.stdout);
      assert.is(rec.backtrace_tool, tool);
      const ours = rec.threads.filter((t: any) => t.name === 'attach_threads');
      assert.ok(ours.length >= 9, `9 threads of attach_threads, got ${ours.length}`);
      for (const t of rec.threads) assert.ok(Array.isArray(t.backtrace) && t.backtrace.length > 0, `thread ${t.tid} has no backtrace`);
      const spinning = ours.filter((t: any) => t.backtrace.some((f: string) => /\bspin\b.* at \S*attach_threads\.c:\d+/.test(f)));
      assert.is(spinning.length, 8, JSON.stringify(ours.map((t: any) => t.backtrace)));
      const main = rec.threads.find((t: any) => t.tid === c.pid);
      assert.ok(
        main.backtrace.some((f: string) => /\bmain\b.* at \S*attach_threads\.c:\d+/.test(f)),
        main.backtrace.join('\n'),
      );
      assert.ok(
        main.backtrace.some((f: string) => /pthread_cond_timedwait/.test(f)),
        main.backtrace.join('\n'),
      );
    } finally {
      c.kill('SIGKILL');
    }
  });
}

test.run();
