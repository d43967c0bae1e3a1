/**
 * The addon's handover (addon/handover.cc): `scope attach` gives a process the descriptors of its
 * session's files over a one-time unix socket. Only the target's pid gets them: here real processes
 * (handover_peer, the library's side of the protocol) connect as the target's user, as another
 * user, and before the target, and the file shows who wrote into it. Root only (the peers run as
 * other users, as an attached nginx worker would).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirInRoot, handoverClose, handoverListen, handoverSend, unlinkInDir } from '../addon/index.js';
import { prog, stripScope } from './lib.js';

const OTHER = 'scope-e2e-other';
const NOBODY = 65534;

function needRoot(): void {
  assert.is(process.getuid?.(), 0, 'this test needs root: its peers run as nobody and as another user');
}

/** handover_peer on `sock`, run as uid:gid (setpriv, unscoped), its output collected. */
class Peer {
  readonly child: ChildProcess;
  out = '';
  constructor(sock: string, user: { uid: number; gid: number }) {
    this.child = spawn('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', prog('handover_peer'), sock], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: stripScope(),
    });
    this.child.stdout?.on('data', (c: Buffer) => (this.out += c.toString()));
  }
  get pid(): number {
    return this.child.pid as number;
  }
  async until(re: RegExp): Promise<string> {
    const end = Date.now() + 10_000;
    while (!re.test(this.out)) {
      if (Date.now() > end) throw new Error(`peer ${this.pid}: no ${re} in: ${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.out;
  }
  stop(): void {
    this.child.kill('SIGKILL');
  }
}

function otherUser(): { uid: number; gid: number } {
  if (spawnSync('id', [OTHER]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER], { encoding: 'utf8' });
    assert.is(made.status, 0, made.stderr);
  }
  const id = (flag: string) => Number(spawnSync('id', [flag, OTHER], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A root-only directory others may pass through (not list), with a root 0600 file and a socket name;
 * `listen` binds the handover socket there through a descriptor of the directory, as attach does.
 */
function place(): { dir: string; file: string; sock: string; listen: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'scope-handover-'));
  chmodSync(dir, 0o711);
  const file = join(dir, 'events.json');
  writeFileSync(file, '', { mode: 0o600 });
  const listen = () => {
    const dirfd = dirInRoot(dir, '/');
    try {
      return handoverListen(dirfd, 'h.sock', NOBODY, NOBODY);
    } finally {
      closeSync(dirfd);
    }
  };
  return { dir, file, sock: join(dir, 'h.sock'), listen };
}

test('only the target pid gets the descriptor: a process of its own user that connects first is refused and gets nothing', async () => {
  needRoot();
  const { dir, file, sock, listen } = place();
  const lfd = listen();
  const peers: Peer[] = [];
  try {
    assert.is(statSync(sock).uid, NOBODY);
    assert.is(statSync(sock).mode & 0o777, 0o600);
    const intruder = new Peer(sock, { uid: NOBODY, gid: NOBODY });
    peers.push(intruder);
    await intruder.until(/connected/);
    const target = new Peer(sock, { uid: NOBODY, gid: NOBODY });
    peers.push(target);
    await target.until(/connected/);
    const fd = openSync(file, 'a');
    let r;
    try {
      r = handoverSend(lfd, target.pid, [{ tag: 'e', fd }], 5000);
    } finally {
      closeSync(fd);
    }
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.refused, [{ pid: intruder.pid, uid: NOBODY }]);
    await intruder.until(/fds /);
    await target.until(/fds /);
    assert.match(intruder.out, /fds 0 -/);
    assert.match(target.out, /fds 1 e/);
    assert.is(readFileSync(file, 'utf8'), `peer ${target.pid}\n`, 'only the target wrote');
    // and the file is still root's own: nothing was loosened for the target
    assert.is(statSync(file).uid, 0);
    assert.is(statSync(file).mode & 0o777, 0o600);
  } finally {
    handoverClose(lfd);
    for (const p of peers) p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("another user cannot even connect: the socket is the target user's, 0600", async () => {
  needRoot();
  const other = otherUser();
  const { dir, sock, listen } = place();
  const lfd = listen();
  const peer = new Peer(sock, other);
  try {
    assert.match(await peer.until(/connect: |connected/), /connect: Permission denied/);
    const r = handoverSend(lfd, peer.pid, [{ tag: 'e', fd: 0 }], 300);
    assert.is(r.ok, false);
    assert.equal(r.refused, []);
  } finally {
    handoverClose(lfd);
    peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a target that never comes: not ok, with the reason, once the time is up', () => {
  needRoot();
  const { dir, listen } = place();
  const lfd = listen();
  try {
    const r = handoverSend(lfd, 4194000, [{ tag: 'e', fd: 0 }], 200);
    assert.is(r.ok, false);
    assert.match(r.error ?? '', /pid 4194000 did not come for its descriptors in time/);
    assert.throws(() => listen(), /bind h\.sock: Address already in use/, 'a name that exists is never reused');
  } finally {
    handoverClose(lfd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the socket is named through the directory's descriptor: a directory path longer than sun_path works; a name with a / is refused", async () => {
  needRoot();
  const base = mkdtempSync(join(tmpdir(), 'scope-handover-'));
  let deep = base;
  while (deep.length < 150) deep = join(deep, 'a-rather-long-directory-name');
  mkdirSync(deep, { recursive: true });
  chmodSync(base, 0o711);
  const dirfd = dirInRoot(deep, '/');
  let lfd = -1;
  try {
    assert.throws(() => handoverListen(dirfd, '../h.sock', NOBODY, NOBODY), /not one plain name/);
    lfd = handoverListen(dirfd, 'h.sock', NOBODY, NOBODY);
    const st = lstatSync(join(deep, 'h.sock'));
    assert.ok(st.isSocket());
    assert.is(st.uid, NOBODY);
    assert.is(st.mode & 0o777, 0o600);
    assert.ok(unlinkInDir(dirfd, 'h.sock'));
    assert.not.ok(existsSync(join(deep, 'h.sock')));
    assert.is(unlinkInDir(dirfd, 'h.sock'), false, 'gone already: false, no throw');
  } finally {
    if (lfd >= 0) handoverClose(lfd);
    closeSync(dirfd);
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
