/**
 * Loss audit for git: `git init && git add && git commit` in a fresh repository, run by `scope run`
 * under `strace -f` (strace is inside the scoped command, so both watch the same run). Every open
 * strace sees git and its shell make (open, openat, creat; successful or failed) must be an fs.open
 * or an fs.error event of the same process naming the same file, and every fs.open / fs.error of
 * an opening function scope records must be one strace saw: nothing lost, nothing invented.
 *
 * Left out, as libc's own business: the loader (ld.so.cache, shared objects), locale and gconv
 * files, and what the name service and time zone code read (nsswitch.conf, passwd, group,
 * localtime); and libscope's own opens (its session files, opened at start, and everything its
 * reporting thread opens: that thread is the one that calls unshare(CLONE_FILES)).
 * strace and git come from Debian's packages (test/apps/install.sh).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libcOwn } from '../lib/audit.js';
import { assertValidSession, envFor, newHome, readLast, runBin, scopeBin } from '../lib/harness.js';
import type { Rec } from '../lib/harness.js';

interface Open {
  pid: number;
  call: string;
  path: string;
  ok: boolean;
  err: string;
  line: string;
}

/** The open calls of a `strace -f -o` file, an unfinished call joined with its resumption, and
 * the tids that are libscope's reporting threads. */
function straceOpens(text: string): { opens: Open[]; ours: Set<number>; execs: Set<string> } {
  const pending = new Map<string, string>();
  const calls: { tid: number; text: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const [tid, rest] = [m[1], m[2]];
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(tid, rest.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    calls.push({ tid: Number(tid), text: resumed ? (pending.get(tid) ?? '') + (resumed[1] ?? '') : rest });
  }
  const ours = new Set(calls.filter((c) => /^unshare\(CLONE_FILES\)\s*=\s*0/.test(c.text)).map((c) => c.tid));
  // tid and path of each exec: libscope reads the ELF headers of what is about to be exec'd
  // (elfkind.c: a static executable gets a notice), an open of its own on the app's thread
  const execs = new Set(
    calls
      .map((c) => /^execve\("((?:[^"\\]|\\.)*)"/.exec(c.text)?.[1])
      .filter((p) => p !== undefined)
      .map((p) => p as string),
  );
  const opens: Open[] = [];
  for (const c of calls) {
    const m = /^(open|openat|creat)\((?:[^,"]+, )?"((?:[^"\\]|\\.)*)"[^)]*\)\s+=\s+(-?\d+)(?: (\w+))?/.exec(c.text);
    if (!m?.[1] || m[2] === undefined) continue;
    opens.push({ pid: c.tid, call: m[1], path: m[2], ok: Number(m[3]) >= 0, err: m[4] ?? '', line: `${c.tid} ${c.text}` });
  }
  return { opens, ours, execs: new Set([...execs].flatMap((p) => calls.filter((c) => c.text.startsWith(`execve("${p}"`)).map((c) => `${c.tid} ${p}`))) };
}

/** libscope's own read in the constructor, on the app's thread (the command line, before main). */
const LIBSCOPE_OWN = /^\/proc\/self\/(cmdline|exe)$/; /* the command line; a Go executable? (elfkind.c) */
const OPENERS =
  /^(open|open64|openat|openat64|__open_2|__open64_2|__openat_2|__openat64_2|creat|creat64|fopen|fopen64|freopen|freopen64|opendir|mkstemp|mkstemp64|mkostemp|mkostemp64|mkstemps|mkstemps64|mkostemps|mkostemps64|tmpfile|tmpfile64)$/;

/** Does scope's absolute name stand for the path strace shows (as given, maybe relative)?
 * Trailing slashes aside; "." (the cwd) matches any directory name. */
const names = (file: string, given: string): boolean => {
  const f = file.replace(/\/+$/, '');
  const g = given.replace(/\/+$/, '');
  const rel = g.replace(/^(\.\/)+/, '');
  if (rel === '.' || rel === '') return f.startsWith('/');
  return f === g || (!g.startsWith('/') && f.endsWith(`/${rel}`));
};

test('loss audit, git init + add + commit: every open strace sees is an fs.open or fs.error, and no other', async () => {
  const home = newHome();
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'scope-audit-git-')));
  try {
    const repo = join(top, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'a.txt'), 'audited\n');
    const trace = join(top, 'strace.txt');
    const env = envFor(home, {
      HOME: top,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'audit',
      GIT_AUTHOR_EMAIL: 'audit@example.invalid',
      GIT_COMMITTER_NAME: 'audit',
      GIT_COMMITTER_EMAIL: 'audit@example.invalid',
      LC_ALL: 'C',
    });
    const r = await runBin(
      scopeBin,
      ['run', '--no-stream', '--', 'strace', '-f', '-qq', '-o', trace, '-e', 'trace=open,openat,creat,unshare,execve', 'sh', '-c', 'git init -q . && git add a.txt && git commit -qm audited'],
      env,
      { cwd: repo },
    );
    assert.is(r.status, 0, r.stderr);
    const { session, events } = await readLast(home);
    await assertValidSession(session);
    const manifest = JSON.parse(readFileSync(session.paths.manifest, 'utf8')) as Record<string, unknown>;
    assert.is(manifest.drops, 0, 'no drops in session.json');

    const { opens, ours, execs } = straceOpens(readFileSync(trace, 'utf8'));
    assert.ok(ours.size >= 3, `libscope's reporting threads found in the trace (sh and git's processes): ${ours.size}`);
    const homeReal = realpathSync(home);
    const audited = opens.filter(
      (o) => !ours.has(o.pid) && !libcOwn(o.path) && !LIBSCOPE_OWN.test(o.path) && !(o.ok && execs.has(`${o.pid} ${o.path}`)) && !o.path.startsWith(homeReal) && !o.path.startsWith(home),
    );
    const traced = new Set(audited.map((o) => o.pid));
    const procs = new Set(events.filter((e: Rec) => e.type === 'evt' && traced.has(e.body.pid)).map((e: Rec) => e.body.proc));
    for (const p of ['git']) assert.ok(procs.has(p), `events of ${p} (processes seen: ${[...procs].join(', ')})`);
    assert.ok(
      audited.some((o) => /\/objects\/[0-9a-f]{2}\/tmp_obj_/.test(o.path)),
      "git's temporary object files are in the trace",
    );

    const pool = events.filter((e: Rec) => e.type === 'evt' && traced.has(e.body.pid) && (e.body.source === 'fs.open' || e.body.source === 'fs.error') && OPENERS.test(String(e.body.data.op)));
    const missing: string[] = [];
    for (const o of audited) {
      const want = o.ok ? 'fs.open' : 'fs.error';
      const i = pool.findIndex((e: Rec) => e.body.pid === o.pid && e.body.source === want && names(String(e.body.data.file), o.path));
      if (i < 0) missing.push(`${want} missing for: ${o.line}`);
      else pool.splice(i, 1);
    }
    const invented = pool.map((e: Rec) => `${e.body.proc}[${e.body.pid}] ${e.body.source} ${e.body.data.op} ${e.body.data.file}`);
    assert.equal(missing, [], `${missing.length} of ${audited.length} opens strace saw are not in the session:\n${missing.join('\n')}`);
    assert.equal(invented, [], `events of opens strace did not see:\n${invented.join('\n')}`);
  } finally {
    rmSync(top, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
