// Files libscope writes where another user can write too (a /tmp-like directory: world-writable,
// sticky). The attacker is the second user scope-e2e-other, root is the scoped process: a file or
// a symbolic link the attacker made first never receives root's payloads, events or crash
// snapshot, and every refusal is in root's log.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prog, run, session } from './lib.js';
import { findFreePort, runAsync, startHttp } from './servers.js';
import { tempDir } from '@scope/core/testing';

const OTHER = 'scope-e2e-other';

function asRoot(): void {
  assert.is(process.getuid?.(), 0, 'these tests need root (the victim) and the user scope-e2e-other (the attacker)');
}

/** A directory like /tmp: anyone writes, only owners remove. */
function publicDir(): string {
  const dir = tempDir('safefiles-');
  chmodSync(dir, 0o1777);
  return dir;
}

/** Run a shell command as the attacker. */
function other(script: string, ...args: string[]): void {
  const r = spawnSync('runuser', ['-u', OTHER, '--', 'sh', '-c', `umask 0; ${script}`, 'sh', ...args]);
  assert.is(r.status, 0, `as ${OTHER}: ${script}: ${r.stderr.toString()}`);
}

test('payloads: a file the attacker made first gets nothing; a directory of theirs is refused, logged', async () => {
  asRoot();
  const srv = await startHttp({ body: 'secret body\n' });
  try {
    const pub = publicDir();
    // a local port free now (one derived from the pid was sometimes taken: curl then exits 45)
    const lport = await findFreePort();
    const name = (pid: string, dir: string): string => `${pid}_127.0.0.1:${srv.port}_127.0.0.1:${lport}.${dir}`;
    // the shell's pid is curl's (exec): the attacker makes both names before curl starts
    const s = session({ SCOPE_PAYLOAD_ENABLE: 'true', SCOPE_PAYLOAD_DIR: pub });
    const script =
      `runuser -u ${OTHER} -- sh -c 'umask 0; : > "$1"; : > "$2"' sh "$1/$$_$2.out" "$1/$$_$2.in"; ` + `exec curl -s --noproxy '*' --local-port ${lport} -H 'Authorization: Bearer s3cr3t' "$3"`;
    const r = await runAsync('sh', ['-c', script, 'sh', pub, `127.0.0.1:${srv.port}_127.0.0.1:${lport}`, srv.url], s.env);
    assert.is(r.status, 0, r.stderr);
    const pid = readdirSync(pub)
      .find((f) => f.endsWith('.out'))!
      .split('_')[0]!;
    for (const d of ['out', 'in']) {
      const f = join(pub, name(pid, d));
      assert.is(statSync(f).uid, 999, 'made by the attacker');
      assert.is(readFileSync(f, 'latin1'), '', `the attacker's ${d} file stays empty`);
    }
    const mine = join(pub, 'scope-payloads-0');
    assert.is(statSync(mine).mode & 0o777, 0o700, "a private directory of root's");
    assert.match(readFileSync(join(mine, name(pid, 'out')), 'latin1'), /Authorization: Bearer s3cr3t/);
    assert.match(readFileSync(join(mine, name(pid, 'in')), 'latin1'), /secret body/);

    // the private directory squatted: nothing written anywhere, one line in the log
    const pub2 = publicDir();
    other('mkdir "$1/scope-payloads-0"', pub2);
    const s2 = session({ SCOPE_PAYLOAD_ENABLE: 'true', SCOPE_PAYLOAD_DIR: pub2 });
    const r2 = await runAsync('curl', ['-s', '--noproxy', '*', srv.url, srv.url], s2.env);
    assert.is(r2.status, 0, r2.stderr);
    assert.equal(readdirSync(join(pub2, 'scope-payloads-0')), [], "nothing in the attacker's directory");
    assert.equal(readdirSync(pub2), ['scope-payloads-0']);
    const lines = s2
      .log()
      .split('\n')
      .filter((l) => l.includes('payload file'));
    assert.is(lines.length, 1, s2.log());
    assert.match(lines[0]!, /not written: refused: owned by uid 999, not by us/);
  } finally {
    await srv.close();
  }
});

test('file destinations: a symbolic link or a file the attacker made first is refused, the destination down with the reason', () => {
  asRoot();
  const pub = publicDir();
  const victim = join(tempDir('safefiles-victim-'), 'passwd');
  writeFileSync(victim, 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 });
  other('ln -s "$2" "$1/events.json"; : > "$1/metrics.json"', pub, victim);
  const s = session({ SCOPE_EVENT_DEST: `file://${pub}/events.json`, SCOPE_METRIC_DEST: `file://${pub}/metrics.json` });
  const r = run('cat', ['/etc/hostname'], s.env);
  assert.is(r.status, 0);
  assert.is(readFileSync(victim, 'utf8'), 'root:x:0:0::/root:/bin/sh\n', "the link's target is untouched");
  assert.ok(lstatSync(join(pub, 'events.json')).isSymbolicLink());
  assert.is(readFileSync(join(pub, 'metrics.json'), 'utf8'), '', "the attacker's file gets no metrics");
  const log = s.log();
  assert.match(log, new RegExp(`event destination file://${pub}/events.json: cannot open: refused: is a symbolic link`), log);
  assert.match(log, new RegExp(`metric destination file://${pub}/metrics.json: cannot open: refused: owned by uid 999`), log);
  // a name that is free is made exclusively, 0600, and used
  const s2 = session({ SCOPE_EVENT_DEST: `file://${pub}/mine.json` });
  assert.is(run('cat', ['/etc/hostname'], s2.env).status, 0);
  const st = statSync(join(pub, 'mine.json'));
  assert.equal([st.uid, st.mode & 0o777], [0, 0o600]);
  assert.ok(readFileSync(join(pub, 'mine.json'), 'utf8').includes('"format":"ndjson"'));
});

test('crash snapshots: a snapshot directory the attacker made first is refused, said in the log, written elsewhere', () => {
  asRoot();
  const pub = publicDir();
  other('mkdir "$1/crash"', pub);
  const s = session({ SCOPE_SNAPSHOT_BACKTRACE: 'true', SCOPE_SNAPSHOT_DIR: join(pub, 'crash') });
  const r = run(prog('crash_segv'), [], s.env);
  assert.is(r.signal, 'SIGSEGV');
  assert.equal(readdirSync(join(pub, 'crash')), [], "nothing in the attacker's directory");
  const m = /crash snapshots: (\S+) refused: owned by uid 999, not by us; they go to (\/tmp\/scope-crash-\w+) instead/.exec(s.log());
  assert.ok(m, s.log());
  assert.is(m![1], join(pub, 'crash'));
  try {
    assert.is(statSync(m![2]!).mode & 0o777, 0o700);
    assert.ok(existsSync(join(m![2]!, 'backtrace')), 'the snapshot is in the private directory');
    assert.match(readFileSync(join(m![2]!, 'info'), 'utf8'), new RegExp(`^pid: ${r.pid}$`, 'm'));
  } finally {
    rmSync(m![2]!, { recursive: true, force: true });
  }
});

test.run();
