/**
 * The addon's lookups inside another root (addon/inroot.cc), through their typed wrapper: a plain
 * temporary tree is the root, with a directory OUTSIDE it that links try to reach ("outside", whose
 * absolute path also exists inside the root with other contents, so a read says which one it got).
 * Run with both resolvers: openat2 (RESOLVE_IN_ROOT) where the kernel has it, and the walk.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@scope/core/testing';
import { dirInRoot, openat2Available, openInDir, openInRoot, unlinkInDir } from '../addon/index.js';
import type { InRootError, InRootOptions } from '../addon/index.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY } = constants;

interface Tree {
  top: string;
  root: string;
  outside: string;
}

/** top/root (the root), top/outside (what must stay untouched), links in the root pointing out. */
function tree(): Tree {
  const top = tempDir('scope-inroot-');
  const root = join(top, 'root');
  const outside = join(top, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'marker'), 'outside\n');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'marker'), 'inside\n');
  writeFileSync(join(top, 'marker'), 'above the root\n');
  // the same absolute path, inside the root: where an in-root lookup of the link lands
  mkdirSync(join(root, outside), { recursive: true });
  writeFileSync(join(root, outside, 'marker'), 'inside, at the link target\n');
  symlinkSync(outside, join(root, 'abs')); // absolute link to a directory outside
  symlinkSync(join(outside, 'marker'), join(root, 'final')); // absolute link to a file outside
  symlinkSync('../../..', join(root, 'etc', 'up')); // relative link climbing out
  writeFileSync(join(root, 'etc', 'plain'), 'plain\n');
  return { top, root, outside };
}

function read(fd: number): string {
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function refusal(fn: () => unknown): InRootError {
  try {
    const fd = fn();
    if (typeof fd === 'number') closeSync(fd);
  } catch (err) {
    return err as InRootError;
  }
  throw new Error('expected a refusal, got a descriptor');
}

const outsideUntouched = (t: Tree) => assert.equal(readdirSync(t.outside), ['marker'], 'nothing created outside the root');

const haveOpenat2 = openat2Available();
const resolvers: [string, InRootOptions][] = [
  ['auto', {}],
  ['walk', { resolver: 'walk' }],
];

test('the tree is what the tests think: outside the root, the links lead out', () => {
  const t = tree();
  assert.is(readFileSync(join(t.root, 'abs', 'marker'), 'utf8'), 'outside\n');
  assert.is(readFileSync(join(t.root, 'final'), 'utf8'), 'outside\n');
  assert.is(readFileSync(join(t.root, '..', 'marker'), 'utf8'), 'above the root\n');
});

for (const [name, opts] of resolvers) {
  test(`${name}: ".." never climbs above the root`, () => {
    const t = tree();
    assert.is(read(openInRoot(t.root, '../../etc/marker', O_RDONLY, 0, opts)), 'inside\n');
    assert.is(read(openInRoot(t.root, '/../etc/../../etc/marker', O_RDONLY, 0, opts)), 'inside\n');
    const d = dirInRoot(t.root, '/etc/../..', opts);
    try {
      assert.is(statSync(`/proc/self/fd/${d}`).ino, statSync(t.root).ino, '/.. of the root is the root');
    } finally {
      closeSync(d);
    }
  });

  test(`${name}: a link as the final component is refused, named, with where it points`, () => {
    const t = tree();
    const e = refusal(() => openInRoot(t.root, '/final', O_RDONLY, 0, opts));
    assert.is(e.code, 'ELOOP');
    assert.is(e.component, '/final');
    assert.is(e.link, join(t.outside, 'marker'));
    assert.match(e.message, `/final: is a symbolic link (to ${join(t.outside, 'marker')})`);
    const d = refusal(() => dirInRoot(t.root, '/abs', opts));
    assert.is(d.code, 'ELOOP');
    assert.is(d.link, t.outside);
  });

  test(`${name}: O_CREAT|O_EXCL refuses an existing file and a planted link, and creates nothing through it`, () => {
    const t = tree();
    const e = refusal(() => openInRoot(t.root, '/etc/plain', O_WRONLY | O_CREAT | O_EXCL, 0o600, opts));
    assert.is(e.code, 'EEXIST');
    assert.match(e.message, '/etc/plain: exists already');
    const l = refusal(() => openInRoot(t.root, '/final', O_WRONLY | O_CREAT | O_EXCL, 0o600, opts));
    assert.is(l.code, 'EEXIST');
    assert.match(l.message, /a symbolic link/);
    assert.is(readFileSync(join(t.outside, 'marker'), 'utf8'), 'outside\n');
    outsideUntouched(t);
  });

  test(`${name}: a new file is made 0600 where the root says`, () => {
    const t = tree();
    const fd = openInRoot(t.root, '/etc/new', O_WRONLY | O_CREAT | O_EXCL, 0o600, opts);
    closeSync(fd);
    assert.is(statSync(join(t.root, 'etc', 'new')).mode & 0o777, 0o600);
  });

  test(`${name}, links refused: a link in the middle is refused, named; nothing made outside`, () => {
    const t = tree();
    const refuse: InRootOptions = { ...opts, symlinks: 'refuse' };
    const e = refusal(() => openInRoot(t.root, '/abs/new', O_WRONLY | O_CREAT | O_EXCL, 0o600, refuse));
    assert.is(e.code, 'ELOOP');
    assert.is(e.component, '/abs');
    assert.is(e.link, t.outside);
    assert.match(e.message, `/abs: is a symbolic link (to ${t.outside})`);
    const up = refusal(() => dirInRoot(t.root, '/etc/up/x', refuse));
    assert.is(up.component, '/etc/up');
    assert.is(up.link, '../../..');
    const missing = refusal(() => dirInRoot(t.root, '/etc/nothing/here', refuse));
    assert.is(missing.code, 'ENOENT');
    assert.is(missing.component, '/etc/nothing');
    const notDir = refusal(() => dirInRoot(t.root, '/etc/plain', refuse));
    assert.is(notDir.code, 'ENOTDIR');
    assert.match(notDir.message, '/etc/plain: is not a directory');
    outsideUntouched(t);
  });
}

test('links followed inside the root: an absolute link resolves against the root (openat2), or is refused (no openat2)', () => {
  const t = tree();
  if (haveOpenat2) {
    assert.is(read(openInRoot(t.root, '/abs/marker', O_RDONLY, 0)), 'inside, at the link target\n');
    assert.is(read(openInRoot(t.root, '/etc/up/etc/marker', O_RDONLY, 0)), 'inside\n', 'a relative link climbing out stops at the root');
    closeSync(openInRoot(t.root, '/abs/new', O_WRONLY | O_CREAT | O_EXCL, 0o600));
    assert.ok(existsSync(join(t.root, t.outside, 'new')), 'made inside the root, at the link target');
  } else {
    assert.is(refusal(() => openInRoot(t.root, '/abs/new', O_WRONLY | O_CREAT | O_EXCL, 0o600)).code, 'ELOOP');
  }
  outsideUntouched(t);
});

test('magic links are never followed: /proc/self/root in our own root', () => {
  for (const [, opts] of resolvers) {
    const e = refusal(() => dirInRoot('/', '/proc/self/root/tmp', opts));
    assert.is(e.code, 'ELOOP', e.message);
  }
});

test("a pid's root: dirInRoot(pid, '/tmp') is that process's /tmp; a pid that is not there says so", () => {
  const d = dirInRoot(process.pid, '/tmp', { symlinks: 'refuse' });
  try {
    assert.is(statSync(`/proc/self/fd/${d}`).ino, statSync('/tmp').ino);
  } finally {
    closeSync(d);
  }
  const e = refusal(() => dirInRoot(4194002, '/tmp'));
  assert.is(e.code, 'ESRCH');
  assert.match(e.message, /pid 4194002's root/);
});

test('openInDir and unlinkInDir: one plain name in a held directory, never followed', () => {
  const t = tree();
  const d = dirInRoot(t.root, '/etc', { symlinks: 'refuse' });
  try {
    assert.throws(() => openInDir(d, '../x', O_WRONLY | O_CREAT, 0o600), /not one plain name/);
    assert.throws(() => unlinkInDir(d, '..'), /not one plain name/);
    const e = refusal(() => openInDir(d, 'up', O_RDONLY | O_DIRECTORY, 0));
    assert.is(e.code, 'ELOOP');
    assert.is(e.link, '../../..');
    closeSync(openInDir(d, 'made', O_WRONLY | O_CREAT | O_EXCL, 0o600));
    assert.is(statSync(join(t.root, 'etc', 'made')).mode & 0o777, 0o600);
    assert.is(refusal(() => openInDir(d, 'made', O_WRONLY | O_CREAT | O_EXCL, 0o600)).code, 'EEXIST');
    assert.ok(unlinkInDir(d, 'made'));
    assert.is(unlinkInDir(d, 'made'), false);
    assert.ok(unlinkInDir(d, 'up'), 'a link is removed itself, not what it points to');
    assert.ok(existsSync(t.top));
  } finally {
    closeSync(d);
  }
  outsideUntouched(t);
});

test.run();
