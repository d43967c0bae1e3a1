/**
 * scope-attach and a target in a root of its own (chroot): its config file and handover socket go
 * in ITS /tmp, resolved inside its root. A /tmp that is a symbolic link to a directory outside (the
 * "victim", a directory of this test) is refused with a clear message, and nothing is created there;
 * a real /tmp is used, and left clean. The target is libscope/test's attach_sleep with its libc and
 * loader copied into the root. chroot needs root: without it, the same tree is checked through the
 * addon's lookup, which is what attach uses.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirInRoot, libscopePath, testProgramDir } from '@scope/libscope';
import type { InRootError } from '@scope/libscope';
import { noForcedColour, tempDir } from '@scope/core/testing';

const bin = fileURLToPath(new URL('../../bin/scope-attach.js', import.meta.url));
const isRoot = process.getuid?.() === 0;
const sleeper = join(testProgramDir, 'attach_sleep');

/** A root holding attach_sleep and what it (and libscope, with `withLibscope`) needs to run. */
function makeRoot(tmp: 'victim' | 'dir', withLibscope = false): { top: string; root: string; victim: string } {
  const top = tempDir('scope-attach-root-');
  const root = join(top, 'root');
  const victim = join(top, 'victim');
  mkdirSync(victim);
  mkdirSync(root);
  const copy = (file: string) => {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    copyFileSync(file, join(root, file));
  };
  copyFileSync(sleeper, join(root, 'attach_sleep'));
  chmodSync(join(root, 'attach_sleep'), 0o755);
  const libs = new Set<string>();
  for (const exe of withLibscope ? [sleeper, libscopePath()] : [sleeper]) {
    const ldd = spawnSync('ldd', [exe], { encoding: 'utf8' });
    assert.is(ldd.status, 0, `ldd ${exe}: ${ldd.stderr}`);
    for (const m of ldd.stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) libs.add(m[1] as string);
  }
  assert.ok(libs.size > 0, 'ldd named no library');
  for (const lib of libs) copy(lib);
  if (withLibscope) copy(libscopePath()); // the target dlopens it by the same absolute path
  if (tmp === 'victim') {
    symlinkSync(victim, join(root, 'tmp')); // absolute: resolved against OUR root it is the victim
  } else {
    // recursive: a libscope under /tmp (a checkout there) was copied into the root's /tmp already
    mkdirSync(join(root, 'tmp'), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
  }
  return { top, root, victim };
}

/** attach_sleep chrooted into root, its output collected. */
class Target {
  readonly child: ChildProcess;
  out = '';
  constructor(root: string) {
    this.child = spawn('chroot', [root, '/attach_sleep'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    this.child.stdout?.on('data', (c: Buffer) => (this.out += c.toString()));
  }
  get pid(): number {
    return this.child.pid as number;
  }
  async ticking(): Promise<number> {
    const until = Date.now() + 10_000;
    const seen = (this.out.match(/tick/g) ?? []).length;
    while ((this.out.match(/tick/g) ?? []).length <= seen) {
      if (Date.now() > until) throw new Error(`pid ${this.pid} does not tick: ${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return seen;
  }
  stop(): void {
    this.child.kill('SIGKILL');
  }
}

function attach(pid: number, home: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, '--json', String(pid)], {
    encoding: 'utf8',
    env: { ...noForcedColour(), SCOPE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ourConfFiles = (pid: number) => readdirSync('/tmp').filter((f) => f.startsWith(`.scope-attach-${pid}-`));
const sessions = (home: string) => (existsSync(join(home, 'history')) ? readdirSync(join(home, 'history')) : []);
const mapsHaveLibscope = (pid: number) => /libscope\.so/.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));

test('a target whose /tmp is a link to a directory outside its root: refused, named, nothing created there, the target untouched', async () => {
  const { root, victim } = makeRoot('victim');
  if (!isRoot) {
    // no chroot here: the lookup attach makes, on the same tree
    let err: InRootError | undefined;
    try {
      closeSync(dirInRoot(root, '/tmp', { symlinks: 'refuse' }));
    } catch (e) {
      err = e as InRootError;
    }
    assert.ok(err, 'a /tmp that is a link was opened');
    assert.is(err!.code, 'ELOOP');
    assert.is(err!.link, victim);
    assert.equal(readdirSync(victim), []);
    return;
  }
  const home = tempDir('scope-attach-root-home-');
  const target = new Target(root);
  try {
    await target.ticking();
    const r = attach(target.pid, home);
    assert.is(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, `scope-attach: pid ${target.pid}: its /tmp is a symbolic link (to ${victim}); refusing to write through it`);
    assert.equal(readdirSync(victim), [], 'nothing created in the directory the link points to');
    assert.equal(ourConfFiles(target.pid), [], 'nor in our /tmp');
    assert.equal(sessions(home), [], 'the session made for it is removed');
    assert.not.ok(mapsHaveLibscope(target.pid), 'libscope was not loaded');
    await target.ticking(); // and it runs on
  } finally {
    target.stop();
  }
});

test('a target with a /tmp of its own in its root: attached, the config and socket made there and removed, nothing in our /tmp', async () => {
  if (!isRoot) {
    // no chroot here: a real /tmp in the tree is opened, and is the tree's own
    const { root } = makeRoot('dir');
    const fd = dirInRoot(root, '/tmp', { symlinks: 'refuse' });
    try {
      assert.is(readdirSync(`/proc/self/fd/${fd}`).length, 0);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const { root, victim } = makeRoot('dir', true);
  const home = tempDir('scope-attach-root-home-');
  const target = new Target(root);
  try {
    await target.ticking();
    const r = attach(target.pid, home);
    assert.is(r.status, 0, r.stdout + r.stderr);
    const rec = JSON.parse(r.stdout);
    assert.is(rec.ok, true);
    assert.is(rec.pid, target.pid);
    assert.ok(mapsHaveLibscope(target.pid));
    const events = readFileSync(join(rec.session, 'events.json'), 'utf8');
    assert.match(events, `"pid":${target.pid}`, 'the target records into the session');
    // what stays is the library's control socket directory (scope-<euid>/ctl.<pid>), the target's own
    const ctlDir = `scope-${process.geteuid?.() ?? 0}`;
    // a libscope under /tmp (a checkout there) is in the root's /tmp by the same path
    const libTop = libscopePath().startsWith('/tmp/') ? libscopePath().split('/')[2] : undefined;
    const left = readdirSync(join(root, 'tmp')).filter((n) => n !== libTop);
    assert.equal(
      left.filter((n) => n !== ctlDir),
      [],
      'its config file and the handover socket are gone from its /tmp',
    );
    if (left.includes(ctlDir)) assert.equal(readdirSync(join(root, 'tmp', ctlDir)), [`ctl.${target.pid}`], 'the control socket of the target itself');
    assert.equal(ourConfFiles(target.pid), [], 'and nothing was put in ours');
    assert.equal(readdirSync(victim), []);
    await target.ticking();
  } finally {
    target.stop();
  }
});

test.run();
