// Files libc creates and opens itself, with internal calls no interposer sees: the mkstemp family
// and tmpfile give an fs.open like open does (op the function, file the name the call made, the
// fd it returned) and an fs.close with the bytes written; mkdtemp gives an fs.mkdir; a failing
// mkstemp an fs.error. test/fam_tmp.c calls each once; it runs unscoped and scoped, and both runs
// must print the same (but for the random names) and exit 0.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evts, prog, run, session } from './lib.js';
import type { Evt } from './lib.js';

const plainDir = realpathSync(mkdtempSync(join(tmpdir(), 'libscope-plain-')));
const s = session();
const work = join(realpathSync(s.dir), 'work');
mkdirSync(work);
const plain = run(prog('fam_tmp'), [plainDir], undefined);
const scoped = run(prog('fam_tmp'), [work], s.env);
const events = s.events();
rmSync(plainDir, { recursive: true, force: true });

/** "<function> fd=<n> file=<name>" lines → function → { fd, file } */
const printed = new Map<string, { fd: number | undefined; file: string }>();
for (const l of scoped.stdout.toString().split('\n')) {
  const m = /^(\S+)(?: fd=(\d+))? file=(.*)$/.exec(l);
  if (m?.[1] && m[3] !== undefined) printed.set(m[1], { fd: m[2] === undefined ? undefined : Number(m[2]), file: m[3] });
}
const mine = (e: Evt): boolean => e.body.pid === scoped.pid;

test('fam_tmp: exits 0 scoped and unscoped, and prints the same but for the random names', () => {
  assert.is(plain.status, 0, plain.stderr.toString());
  assert.is(scoped.status, 0, scoped.stderr.toString());
  const shape = (out: Buffer, dir: string): string =>
    out
      .toString()
      .split(dir)
      .join('DIR')
      .replace(/-[A-Za-z0-9]{6}(\.sfx)?$/gm, '-RANDOM$1')
      .replace(/#\d+/g, '#N');
  assert.fixture(shape(scoped.stdout, work), shape(plain.stdout, plainDir));
});

const MADE = ['mkstemp', 'mkstemp64', 'mkostemp', 'mkostemp64', 'mkstemps', 'mkstemps64', 'mkostemps', 'mkostemps64'];
for (const op of [...MADE, 'tmpfile', 'tmpfile64']) {
  test(`fam_tmp: ${op} gives an fs.open with op ${op}, the name it made and its fd; its fs.close the bytes`, () => {
    const p = printed.get(op);
    assert.ok(p, `fam_tmp printed what ${op} made`);
    const opens = evts(events, 'fs.open').filter((e) => mine(e) && e.body.data.op === op);
    assert.is(opens.length, 1, `fs.open events with op ${op}: ${opens.length}`);
    const open = opens[0] as Evt;
    assert.is(open.body.data.file, p.file);
    assert.is(open.body.data.fd, p.fd);
    if (MADE.includes(op)) {
      assert.ok(p.file.startsWith(`${work}/${op}-`), p.file);
      assert.is(open.body.data.file_perms, 0o600, 'the mode mkstemp gives');
      assert.is(readFileSync(p.file, 'utf8'), `${op}\n`);
    } else {
      assert.ok(p.file.startsWith('/'), `the kernel's name for it: ${p.file}`);
    }
    const close = evts(events, 'fs.close').find((e) => mine(e) && e._channel === open._channel);
    assert.ok(close, `an fs.close on the same channel as ${op}'s fs.open`);
    assert.is(close.body.data.file, p.file);
    assert.is(close.body.data.file_write_bytes, op.length + 1);
  });
}

test('fam_tmp: mkdtemp gives an fs.mkdir named after the directory it made', () => {
  const p = printed.get('mkdtemp');
  assert.ok(p?.file.startsWith(`${work}/mkdtemp-`), p?.file);
  const made = evts(events, 'fs.mkdir').filter((e) => mine(e) && e.body.data.op === 'mkdtemp');
  assert.equal(
    made.map((e) => e.body.data.file),
    [p?.file],
  );
  assert.is(made[0]?.body.data.file_perms, 0o700);
});

test('fam_tmp: a mkstemp that fails gives an fs.error with the template, EINVAL', () => {
  const p = printed.get('mkstemp-bad');
  const errs = evts(events, 'fs.error').filter((e) => mine(e) && e.body.data.op === 'mkstemp');
  assert.is(errs.length, 1);
  assert.is(errs[0]?.body.data.file, p?.file);
  assert.is(errs[0]?.body.data.errno_name, 'EINVAL');
});

test.after(() => rmSync(s.dir, { recursive: true, force: true }));

test.run();
