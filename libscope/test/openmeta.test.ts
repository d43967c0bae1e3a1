// An fs.open's file_perms / file_owner / file_group describe the file the descriptor opened, even
// when another file has taken its name since: the reporting thread looks through the app's
// /proc/self/fd (a directory it keeps in its own descriptor table, opened again in a forked
// child), and only when the descriptor is gone already does it look the name up. The directory
// must never show in the app's own table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evts, run, session } from './lib.js';

const s = session({ SCOPE_EVENT_MAXEPS: '0' });
const work = join(realpathSync(s.dir), 'work');
mkdirSync(work);
for (const who of ['parent', 'child']) {
  writeFileSync(join(work, who), '');
  chmodSync(join(work, who), 0o640);
  writeFileSync(join(work, `${who}.new`), '');
  chmodSync(join(work, `${who}.new`), 0o604);
}
// Opens the file, puts another over its name, keeps the descriptor open while the reporting
// thread gets to the open; prints the targets of its own descriptors.
const code = `
import os, sys, time
d = sys.argv[1]
def one(who):
    fd = os.open(os.path.join(d, who), os.O_RDONLY)
    os.rename(os.path.join(d, who + '.new'), os.path.join(d, who))
    time.sleep(0.5)
    links = []
    for n in os.listdir('/proc/self/fd'):
        try:
            links.append(os.readlink('/proc/self/fd/' + n))
        except OSError:   # the listing's own descriptor, closed by now
            pass
    print(who, os.getpid(), fd, '|'.join(links), flush=True)
    os.close(fd)
one('parent')
pid = os.fork()
if pid == 0:
    one('child')
    os._exit(0)
_, st = os.waitpid(pid, 0)
sys.exit(st >> 8)
`;
const r = run('python3', ['-c', code, work], s.env);
const events = s.events();
test.after(() => rmSync(s.dir, { recursive: true, force: true }));

const printed = r.stdout
  .toString()
  .trim()
  .split('\n')
  .map((l) => l.split(' '))
  .map(([who, pid, fd, links]) => ({ who: who ?? '', pid: Number(pid), fd: Number(fd), links: (links ?? '').split('|') }));

test('the program runs to its end in both processes', () => {
  assert.is(r.status, 0, r.stderr.toString());
  assert.equal(
    printed.map((p) => p.who),
    ['parent', 'child'],
  );
  assert.ok(
    printed.every((p) => p.links.length >= 3),
    'each listed its descriptors',
  );
});

for (const who of ['parent', 'child']) {
  test(`${who}: the fs.open names the file the descriptor opened, not the one renamed over it`, () => {
    const p = printed.find((x) => x.who === who);
    assert.ok(p, `${who} printed its line`);
    const open = evts(events, 'fs.open').find((e) => e.body.pid === p.pid && e.body.data.fd === p.fd && e.body.data.file === join(work, who));
    assert.ok(open, `an fs.open of ${who} with fd ${p.fd} from pid ${p.pid}`);
    assert.is(open.body.data.file_perms, 0o640, "the opened file's mode, not the replacement's 0604");
    assert.is(open.body.data.file_owner, process.getuid?.());
    assert.is(open.body.data.file_group, process.getgid?.());
  });

  test(`${who}: none of the app's own descriptors is libscope's`, () => {
    const p = printed.find((x) => x.who === who);
    assert.ok(p);
    for (const l of p.links) {
      assert.not.ok(l.startsWith('/proc/'), `the app's table holds ${l}`);
      assert.not.ok(l.endsWith('events.json') || l.endsWith('metrics.json') || l.endsWith('libscope.log'), `the app's table holds ${l}`);
    }
  });
}

test.run();
