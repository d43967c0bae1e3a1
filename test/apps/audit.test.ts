/**
 * The loss audit: for real programs nobody here wrote, the opens, deletes, renames, mkdirs and
 * connects that `scope run` records equal those `strace -f` sees the same program make on the
 * same input (successful and failed), leaving out only what libc and the loader do on their own
 * behalf (lib/audit.ts). strace and sqlite3 come from Debian's packages (install.sh).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { difference, libcOwn, scopeOps, straceOps, STRACE_CALLS, tally } from '../lib/audit.js';
import type { Op } from '../lib/audit.js';
import { envFor, newHome, readLast, runBin, scopeBin } from '../lib/harness.js';

interface Scenario {
  name: string;
  /** fills the fresh working directory */
  prepare: (dir: string) => void;
  cmd: string[];
}

const PY = [
  'import os, shutil',
  "open('a.txt', 'w').write('one\\n')",
  "os.rename('a.txt', 'b.txt')",
  "os.mkdir('d')",
  "os.makedirs('d/e/f')",
  "open('d/e/f/g.txt', 'w').write('deep\\n')",
  "shutil.copy('b.txt', 'd/c.txt')",
  "os.unlink('b.txt')",
  'try:',
  "    open('missing.txt')",
  'except OSError:',
  '    pass',
  "shutil.rmtree('d/e')",
].join('\n');

// connects: one that succeeds (a listener of the script's own) and one refused (a port bound, not listening)
const PYNET = [
  'import socket',
  'srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)',
  'c = socket.create_connection(srv.getsockname()); a, _ = srv.accept(); c.sendall(b"hi"); a.recv(2)',
  'c.close(); a.close(); srv.close()',
  'shut = socket.socket(); shut.bind(("127.0.0.1", 0))',
  'try:',
  '    socket.create_connection(shut.getsockname(), timeout=5)',
  'except OSError:',
  '    pass',
  "open('done.txt', 'w').write('ok')",
].join('\n');

const SCENARIOS: Scenario[] = [
  {
    name: 'tar czf',
    prepare: (dir) => {
      mkdirSync(join(dir, 'src/sub'), { recursive: true });
      for (const f of ['a', 'b', 'sub/c']) writeFileSync(join(dir, 'src', f), `${f}\n`.repeat(100));
    },
    cmd: ['tar', 'czf', 'out.tgz', 'src'],
  },
  {
    name: 'tar xzf',
    prepare: (dir) => {
      mkdirSync(join(dir, 'src/sub'), { recursive: true });
      for (const f of ['a', 'sub/c']) writeFileSync(join(dir, 'src', f), `${f}\n`);
      spawnSync('tar', ['czf', join(dir, 'in.tgz'), '-C', dir, 'src']);
      rmSync(join(dir, 'src'), { recursive: true });
    },
    cmd: ['tar', 'xzf', 'in.tgz'],
  },
  {
    name: 'sqlite3',
    prepare: () => {},
    cmd: ['sqlite3', 'db.sqlite', 'create table t(x); begin; insert into t values (1), (2); commit; select count(*) from t;'],
  },
  {
    name: 'a python script writing, renaming and deleting files',
    prepare: (dir) => writeFileSync(join(dir, 'work.py'), PY),
    cmd: ['python3', 'work.py'],
  },
  {
    name: 'curl to a port that refuses',
    prepare: () => {},
    cmd: ['sh', '-c', 'curl -s -o out.html http://127.0.0.1:1/; test $? = 7'],
  },
  {
    name: 'a python script connecting (one connect succeeds, one is refused)',
    prepare: (dir) => writeFileSync(join(dir, 'net.py'), PYNET),
    cmd: ['python3', 'net.py'],
  },
  {
    name: 'a shell script that forks and execs',
    prepare: () => {},
    cmd: ['sh', '-c', 'for i in 1 2 3; do echo $i > f$i; done; cat f1 f2 > all; rm f3; mkdir sub; mv all sub/; cat nothere 2>/dev/null; ls sub > list; rmdir nodir 2>/dev/null; true'],
  },
];

/** The working directory as <W>; loopback ports the kernel picked (they differ between the runs) as *. */
function normalizePaths(ops: Op[], dir: string): Op[] {
  return ops.map((o) => ({
    ...o,
    path: o.kind === 'connect' && !o.path.endsWith(':1') ? o.path.replace(/:\d+$/, ':*') : o.path.split(dir).join('<W>'),
  }));
}

for (const sc of SCENARIOS) {
  test(`loss audit, ${sc.name}: scope records every open, delete, rename, mkdir and connect strace sees`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'scope-audit-'));
    try {
      const traced = join(root, 'traced');
      const scoped = join(root, 'scoped');
      const traces = join(root, 'traces');
      for (const d of [traced, scoped, traces]) mkdirSync(d);
      sc.prepare(traced);
      sc.prepare(scoped);
      const st = spawnSync('strace', ['-f', '-ff', '-qq', '-y', '-o', join(traces, 'trace'), '-e', `trace=${STRACE_CALLS}`, '--', ...sc.cmd], { cwd: traced, env: envFor(join(root, 'unused')) });
      assert.is(st.status, 0, `strace ${sc.cmd.join(' ')}: ${String(st.stderr)}`);
      const home = newHome();
      const ran = await runBin(scopeBin, ['run', '--', ...sc.cmd], envFor(home), { cwd: scoped, stdio: ['ignore', 'ignore', 'pipe'] });
      assert.is(ran.status, 0, ran.stderr);
      const { events } = await readLast(home);
      rmSync(home, { recursive: true, force: true });
      const keep = (o: Op): boolean => !libcOwn(o.path);
      const straced = normalizePaths(straceOps(traces, 'trace', traced), traced);
      const seen = tally(straced, (o) => keep(o) && !o.optional);
      const optional = tally(straced, (o) => keep(o) && o.optional === true);
      const recorded = tally(normalizePaths(scopeOps(events), scoped), keep);
      const missing = difference(seen, recorded);
      const extra = difference(recorded, seen, optional);
      assert.equal(missing, [], `strace saw, scope did not record:\n${missing.join('\n')}`);
      assert.equal(extra, [], `scope recorded, strace did not see:\n${extra.join('\n')}`);
      assert.ok(seen.size > 0, 'the audit compared something');
      if (/connect/.test(sc.name))
        assert.ok(
          [...seen.keys()].some((k) => k.startsWith('connect ')),
          'connects were compared',
        );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
