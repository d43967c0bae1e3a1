/**
 * The pure parts of scope report, profile and diff: path and argument normalisation, routes, globs
 * and allow-lists, profile validation, the diff of two profiles, Make escaping, and the collection
 * of records a run cannot easily be made to produce (accepted connections, an executable changed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collect, emptyCollected, quantile, routeOf } from '../src/collect.js';
import { depsMake, makeEscape } from '../src/deps.js';
import type { Deps } from '../src/deps.js';
import { asProfile, diffProfiles, diffText, globRegExp, parseAllowList } from '../src/diff.js';
import { normaliseArg, normalisePath } from '../src/normalise.js';
import { buildProfile } from '../src/profile.js';
import type { Profile } from '../src/profile.js';
import { buildReport } from '../src/report.js';

test('normalisePath: home, mktemp names below temporary directories, /proc/<pid>, long numbers; the rest kept', () => {
  const o = { home: '/home/ci', tmpdirs: ['/scratch'] };
  assert.is(normalisePath('/home/ci/.cache/x', o), '~/.cache/x');
  assert.is(normalisePath('/home/cia/x', o), '/home/cia/x');
  assert.is(normalisePath('/tmp/tmp.Xa3bQ9/out.o', o), '/tmp/tmp.*/out.o');
  assert.is(normalisePath('/tmp/build/w.YzovZe/a', o), '/tmp/build/w.*/a');
  assert.is(normalisePath('/scratch/job-a1b2c3d4/log', o), '/scratch/job-*/log');
  assert.is(normalisePath('/tmp/output/report', o), '/tmp/output/report');
  assert.is(normalisePath('/etc/ssl/certs', o), '/etc/ssl/certs');
  assert.is(normalisePath('/var/lib/x/abc123def', o), '/var/lib/x/abc123def');
  assert.is(normalisePath('/proc/4242/status', o), '/proc/<pid>/status');
  assert.is(normalisePath('/proc/4242/task/4243/stat', o), '/proc/<pid>/task/<tid>/stat');
  assert.is(normalisePath('/var/log/build-1796655735.log', o), '/var/log/build-<n>.log');
});

test('normaliseArg: paths inside arguments, and long numbers', () => {
  assert.is(normaliseArg('--out=/tmp/tmp.Ab12Cd/x', {}), '--out=/tmp/tmp.*/x');
  assert.is(normaliseArg('--seed=1796655735', {}), '--seed=<n>');
  assert.is(normaliseArg('-j4', {}), '-j4');
});

test('routeOf: the query dropped, numbers and ids as placeholders', () => {
  assert.is(routeOf('/users/17?x=1'), '/users/:n');
  assert.is(routeOf('/o/123e4567-e89b-12d3-a456-426614174000/items'), '/o/:id/items');
  assert.is(routeOf('/blob/0123456789abcdef0123'), '/blob/:id');
  assert.is(routeOf('/v2/api'), '/v2/api');
  assert.is(routeOf(''), '/');
  assert.is(routeOf('*'), '*');
});

test('quantile: nearest rank', () => {
  assert.is(quantile([], 0.5), null);
  assert.is(quantile([5], 0.99), 5);
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.is(quantile(xs, 0.5), 50);
  assert.is(quantile(xs, 0.99), 99);
});

test('globRegExp: * within a segment, ** across, ? one character, the rest literal', () => {
  assert.ok(globRegExp('/usr/bin/*').test('/usr/bin/curl'));
  assert.not.ok(globRegExp('/usr/bin/*').test('/usr/bin/x/curl'));
  assert.ok(globRegExp('/tmp/**').test('/tmp/a/b/c'));
  assert.ok(globRegExp('*.debian.org:443').test('deb.debian.org:443'));
  assert.not.ok(globRegExp('*.debian.org:443').test('debianXorg:443'));
  assert.ok(globRegExp('file?.txt').test('file1.txt'));
  assert.ok(globRegExp('**').test('sh -c a\nb'));
  assert.not.ok(globRegExp('sh *').test('sh a\nb'));
});

test('parseAllowList: sections and patterns; a wrong section or value named with the file', () => {
  const allow = parseAllowList('peers: ["*.x:443"]\nany: "/tmp/**"\n', 'allow.yml');
  assert.is(allow.get('peers')?.length, 1);
  assert.is(allow.get('any')?.length, 1);
  assert.is(parseAllowList('', 'allow.yml').size, 0);
  assert.throws(() => parseAllowList('hosts: [x]', 'allow.yml'), /allow\.yml: "hosts" is not a section/);
  assert.throws(() => parseAllowList('peers: [1]', 'allow.yml'), /allow\.yml: peers: a list of patterns/);
  assert.throws(() => parseAllowList('- a', 'allow.yml'), /allow\.yml: an allow-list maps section names/);
  assert.throws(() => parseAllowList('a: [', 'allow.yml'), /allow\.yml: not YAML/);
});

const profile = (over: Partial<Profile> = {}): Profile => ({
  'scope-profile': 1,
  source: { session: 1, command: 'job' },
  executables: [{ path: '/usr/bin/curl', sha256: 'aa', args: ['curl -s http://x/'] }],
  files: { written: ['/tmp/tmp.*/out'], deleted: [] },
  dns: ['x'],
  peers: ['x:80'],
  http: ['GET x'],
  ...over,
});

test('asProfile: a profile passes; anything else is named with what is wrong', () => {
  assert.ok(asProfile(profile(), 'p.yml'));
  assert.throws(() => asProfile([], 'p.yml'), /p\.yml: not a scope profile: not a mapping/);
  assert.throws(() => asProfile({ ...profile(), 'scope-profile': 2 }, 'p.yml'), /scope-profile is 2, expected 1/);
  assert.throws(() => asProfile({ ...profile(), dns: 'x' }, 'p.yml'), /dns is not a list of strings/);
  assert.throws(() => asProfile({ ...profile(), executables: [{ sha256: 'x' }] }, 'p.yml'), /executables\[0\] has no path/);
});

test('diffProfiles: equal profiles, an added peer, a removed file, a changed executable; the allow-list decides', () => {
  const same = diffProfiles(profile(), profile({ source: { session: 2, command: 'other' } }), new Map(), { a: 'a', b: 'b' });
  assert.is(same.changes.length, 0);
  assert.match(diffText(same), /^no change between a and b/);
  const b = profile({ peers: ['x:80', 'evil.example:443'], files: { written: [], deleted: [] }, executables: [{ path: '/usr/bin/curl', sha256: 'bb', args: ['curl -s http://x/'] }] });
  const d = diffProfiles(profile(), b, new Map(), { a: 'a', b: 'b' });
  assert.equal(
    d.changes.map((c) => `${c.change} ${c.section} ${c.item}`),
    ['removed files.written /tmp/tmp.*/out', 'added peers evil.example:443', 'changed executables.content /usr/bin/curl'],
  );
  assert.is(d.unexpected, 3);
  const allowed = diffProfiles(profile(), b, parseAllowList('files.written: ["/tmp/**"]\nexecutables.content: ["/usr/bin/*"]', 'a.yml'), { a: 'a', b: 'b' });
  assert.is(allowed.unexpected, 1);
  assert.match(diffText(allowed), /^\+ peers: evil\.example:443$/m);
  assert.match(diffText(allowed), /^~ executables\.content: \/usr\/bin\/curl: sha256 aa → bb {2}\(allowed\)$/m);
  // files.read is compared only when both have it.
  const reads = diffProfiles(profile({ files: { written: ['/tmp/tmp.*/out'], deleted: [], read: ['/etc/'] } }), profile(), new Map(), { a: 'a', b: 'b' });
  assert.is(reads.changes.length, 0);
});

test('makeEscape and depsMake: make-safe names; commands without outputs are left out', () => {
  assert.is(makeEscape('/a b/c#d:e$f'), '/a\\ b/c\\#d\\:e$$f');
  const deps: Deps = {
    type: 'deps',
    processes: [
      { pid: 1, ppid: null, cmd: 'sh -c x\ny', exe: '/bin/sh', inputs: ['/a'], outputs: [], deleted: [] },
      { pid: 2, ppid: 1, cmd: 'cc -c a.c', exe: '/usr/bin/cc', inputs: ['/src/a.c', '/src/a.h'], outputs: ['/out/a.o'], deleted: [] },
    ],
  };
  assert.is(depsMake(deps), '# 2: cc -c a.c\n/out/a.o: /src/a.c /src/a.h\n');
  // A path with a line break cannot be written as a Make name: left out, and said so.
  deps.processes[1]!.inputs.push('/src/evil\nall: /etc/shadow');
  assert.is(depsMake(deps), '# 2: cc -c a.c\n# 1 path with a control character left out (see --deps without --make)\n/out/a.o: /src/a.c /src/a.h\n');
});

test('collect: accepted connections are one peer per client address (their ports are ephemeral), with the bytes of their closes', async () => {
  const c = emptyCollected();
  const ev = (source: string, ch: string, data: Record<string, unknown>) => ({ type: 'evt', body: { sourcetype: 'net', source, pid: 7, _time: 1, _channel: ch, data } });
  for (let i = 0; i < 3; i++) {
    const d = { net_transport: 'IP.TCP', net_peer_ip: '10.0.0.9', net_peer_port: 50000 + i, op: i === 0 ? 'accept4' : 'accept' };
    collect(c, ev('net.open', `ch${i}`, d));
    collect(c, ev('net.close', `ch${i}`, { ...d, op: 'close', net_bytes_sent: 10, net_bytes_recv: 5 }));
  }
  const r = buildReport(c, null, null);
  assert.equal(r.connections, [{ peer: '10.0.0.9', name: null, transport: 'IP.TCP', connections: 0, accepted: 3, sent: 30, received: 15 }]);
  const p = await buildProfile(c, { hash: async () => null });
  assert.equal(p.peers, ['accepted from 10.0.0.9']);
});

test('collect: a record of another kind is counted as other and changes nothing else', () => {
  const c = emptyCollected();
  collect(c, { type: 'status', verb: 'attach' });
  collect(c, { type: 'evt' });
  assert.is(c.counts.other, 2);
  assert.is(c.counts.events, 0);
});

test.run();
