/**
 * Every row of FILTER.md's kinds table and of its semantics table, over the fixture stream: which
 * records pass, with which matchedScopes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { events, filtered, LINES_PARSED } from './fixture.js';

const SH = ['sh-open'];
const LS = ['ls-open', 'ls-close', 'ls-error', 'ls-stdout'];
const CURL = ['curl-open', 'curl-dns1', 'curl-dns2', 'curl-net443', 'curl-net80'];
const NGINX = ['nginx-503', 'nginx-404', 'nginx-200', 'nginx-req', 'nginx-log'];
const LONG = ['long-open'];
const NOTICE = ['notice']; // written by ls (pid 101)
const GHOST = ['ghost-open']; // pid 999: no process-start record
const ORDER = [...SH, ...LS, ...CURL, ...NGINX, ...LONG, ...NOTICE, ...GHOST];
const ALL = ORDER;
const FS_OPEN = ['sh-open', 'ls-open', 'curl-open', 'long-open', 'ghost-open'];

/** The tags in stream order, each with matchedScopes "1". */
const one = (...groups: string[][]): string[] => {
  const want = new Set(groups.flat());
  return ORDER.filter((t) => want.has(t)).map((t) => `${t}:1`);
};
const without = (...groups: string[][]): string[] => {
  const drop = new Set(groups.flat());
  return ALL.filter((t) => !drop.has(t));
};

interface Row {
  name: string;
  flags: string[];
  want: string[];
}

const kinds: Row[] = [
  { name: 'event: one name', flags: ['event=fs.open'], want: one(FS_OPEN) },
  { name: 'event: a family with trailing *', flags: ['event=net.*'], want: one(['curl-net443', 'curl-net80']) },
  { name: 'event: * is every event record', flags: ['event=*'], want: one(ALL) },
  { name: 'event: -NAME excludes', flags: ['event=-fs.open'], want: one(without(FS_OPEN)) },
  { name: 'event: != excludes', flags: ['event!=fs.open'], want: one(without(FS_OPEN)) },
  { name: 'event: a family minus one of it', flags: ['event=http.*', 'event!=http.req'], want: one(['nginx-503', 'nginx-404', 'nginx-200']) },
  { name: 'event: a log file by its path', flags: ['event=/var/log/*'], want: one(['nginx-log']) },
  { name: 'sourcetype =', flags: ['sourcetype=dns'], want: one(['curl-dns1', 'curl-dns2']) },
  { name: 'sourcetype !=', flags: ['sourcetype!=fs'], want: one(without(FS_OPEN, ['ls-close', 'ls-error'])) },
  { name: 'comm: body.proc', flags: ['comm=ls'], want: one(LS, NOTICE) },
  { name: 'comm: the full name, no 15-character cut', flags: ['comm=a-very-long-process-name'], want: one(LONG) },
  { name: 'comm: a 15-character cut does not match', flags: ['comm=a-very-long-pr'], want: [] },
  { name: 'binary: the executable from the start record', flags: ['binary=/usr/bin/ls'], want: one(LS, NOTICE) },
  { name: 'binary: host: prefix', flags: ['binary=host:/usr/bin/curl'], want: one(CURL) },
  { name: 'binary: MNTNS: prefix, its namespace', flags: ['binary=4026532000:/usr/bin/curl'], want: one(CURL) },
  { name: 'binary: MNTNS: prefix, another namespace', flags: ['binary=4026531841:/usr/bin/curl'], want: [] },
  { name: 'binary: MNTNS: per value, a plain path beside it', flags: ['binary=4026531841:/usr/bin/curl,/usr/bin/curl'], want: one(CURL) },
  { name: 'binary: MNTNS: and !=', flags: ['binary!=4026532000:/usr/bin/curl'], want: one(without(CURL, GHOST)) },
  { name: 'binary: suffix wildcard', flags: ['binary=*/nginx'], want: one(NGINX) },
  { name: 'pid =', flags: ['pid=101'], want: one(LS, NOTICE) },
  { name: 'pid >', flags: ['pid>103'], want: one(LONG, GHOST) },
  { name: 'pid=new: a start record was seen', flags: ['pid=new'], want: one(without(GHOST)) },
  { name: 'pid!=new', flags: ['pid!=new'], want: one(GHOST) },
  { name: 'ppid from the start record', flags: ['ppid=100'], want: one(LS, CURL, NOTICE) },
  { name: 'ppid >=', flags: ['ppid>=100'], want: one(LS, CURL, LONG, NOTICE) },
  { name: 'uid from the body, else the start record', flags: ['uid=1000'], want: one(LS, LONG, NOTICE) },
  { name: 'uid = another', flags: ['uid=33'], want: one(CURL) },
  { name: 'gid <', flags: ['gid<1'], want: one(SH, NGINX) },
  { name: 'host', flags: ['host=web1'], want: one(NGINX) },
  { name: 'container (bare)', flags: ['container'], want: one(CURL) },
  { name: 'not-container', flags: ['not-container'], want: one(without(CURL, GHOST)) },
  { name: 'container=ID-prefix', flags: ['container=abc123'], want: one(CURL) },
  { name: 'container!=ID-prefix', flags: ['container!=abc'], want: one(without(CURL, GHOST)) },
  { name: 'mntns', flags: ['mntns=4026532000'], want: one(CURL) },
  { name: 'pidns', flags: ['pidns=4026531836'], want: one(without(GHOST)) },
  { name: 'tree: the pid and its descendants', flags: ['tree=101'], want: one(LS, LONG, NOTICE) },
  { name: "tree=A and tree!=B: A's tree without B's", flags: ['tree=100', 'tree!=101'], want: one(SH, CURL) },
  { name: 'without follow: only the process itself', flags: ['comm=sh'], want: one(SH) },
  { name: 'follow: children of a matching process match too', flags: ['comm=sh', 'follow'], want: one(SH, LS, CURL, LONG, NOTICE) },
  { name: 'EVENT.data.FIELD constrains only its event', flags: ['fs.open.data.file=/etc/*'], want: one(without(['curl-open'])) },
  { name: 'EVENT.data.FIELD with its event', flags: ['event=fs.open', 'fs.open.data.file=/etc/*'], want: one(['sh-open', 'ls-open', 'long-open', 'ghost-open']) },
  { name: 'EVENT.data.FIELD suffix', flags: ['event=dns.req', 'dns.req.data.domain=*.example.com'], want: one(['curl-dns1']) },
  { name: 'EVENT.data.FIELD numeric >=', flags: ['event=http.resp', 'http.resp.data.http_status_code>=500'], want: one(['nginx-503']) },
  { name: 'EVENT.data.FIELD numeric =', flags: ['event=net.open', 'net.open.data.net_peer_port=443'], want: one(['curl-net443']) },
  { name: 'EVENT.error: HTTP status 400 and up', flags: ['event=http.*', 'http.resp.error'], want: one(['nginx-503', 'nginx-404', 'nginx-req']) },
  { name: 'not-EVENT.error', flags: ['event=http.resp', 'not-http.resp.error'], want: one(['nginx-200']) },
  { name: 'EVENT.error: an errno', flags: ['event=fs.error', 'fs.error.error'], want: one(['ls-error']) },
];

const semantics: Row[] = [
  { name: 'values in one = flag are ORed', flags: ['comm=ls,curl'], want: one(LS, CURL, NOTICE) },
  { name: 'values in one != flag are ANDed', flags: ['comm!=ls,curl'], want: one(SH, NGINX, LONG, GHOST) },
  { name: 'repeating a kind adds to the same sets', flags: ['comm=ls', 'comm=curl'], want: one(LS, CURL, NOTICE) },
  { name: 'EQ and NE: v in EQ or v not in NE', flags: ['pid=101', 'pid!=102'], want: one(without(CURL)) },
  { name: "NE only on a number matches the rest (not Tracee's nothing)", flags: ['pid!=101'], want: one(without(LS, NOTICE)) },
  { name: 'a range: lo < v < hi', flags: ['pid>100', 'pid<103'], want: one(LS, CURL, NOTICE) },
  { name: '>= is =v plus >v', flags: ['pid>=102'], want: one(CURL, NGINX, LONG, GHOST) },
  { name: '<= is =v plus <v', flags: ['pid<=101'], want: one(SH, LS, NOTICE) },
  { name: 'several > keep the lowest bound', flags: ['pid>103', 'pid>101'], want: one(CURL, NGINX, LONG, GHOST) },
  { name: 'several < keep the highest bound', flags: ['pid<101', 'pid<103'], want: one(SH, LS, CURL, NOTICE) },
  { name: 'a range with EQ and NE: v in EQ or (in range and not in NE)', flags: ['pid=100', 'pid>102', 'pid!=103'], want: one(SH, LONG, GHOST) },
  { name: 'prefix wildcard', flags: ['comm=cu*'], want: one(CURL) },
  { name: 'suffix wildcard', flags: ['comm=*nx'], want: one(NGINX) },
  { name: 'contains wildcard', flags: ['comm=*very*'], want: one(LONG) },
  { name: 'a * inside is literal', flags: ['comm=c*l'], want: [] },
  { name: 'matching is case-sensitive', flags: ['comm=LS'], want: [] },
  { name: 'a missing field fails =', flags: ['ppid=1'], want: one(SH, NGINX) },
  { name: 'a missing field fails != too', flags: ['ppid!=5'], want: one(without(GHOST)) },
  { name: 'different kinds AND', flags: ['comm=ls', 'event=fs.*'], want: one(['ls-open', 'ls-close', 'ls-error']) },
  { name: 'no event selector: the default set, every event record', flags: ['uid=1000'], want: one(LS, LONG, NOTICE) },
  { name: 'unprefixed is scope 1 and merges with 1:', flags: ['comm=ls', '1:event=fs.open'], want: one(['ls-open']) },
];

for (const row of [...kinds, ...semantics]) {
  test(row.name, async () => {
    assert.equal(await events(row.flags), row.want, row.flags.join(' '));
    assert.equal(await events(row.flags, LINES_PARSED), row.want, `parsed whole: ${row.flags.join(' ')}`);
  });
}

test('scopes 3 and 9 both matching give matchedScopes "260" and both names', async () => {
  const got = await events(['3:comm=ls', '9:event=fs.*']);
  assert.equal(got, ['sh-open:256', 'ls-open:260', 'ls-close:260', 'ls-error:260', 'ls-stdout:4', 'curl-open:256', 'long-open:256', 'notice:4', 'ghost-open:256']);
  const { LINES } = await import('./fixture.js');
  const { runFilter } = await import('../src/filter.js');
  const { parseFilters } = await import('../src/parse.js');
  const out: string[] = [];
  await runFilter(
    (async function* () {
      yield LINES;
    })(),
    parseFilters(['3:comm=ls', '9:event=fs.*']),
    {
      tool: 't',
      where: 'stdin',
      format: 'json',
      strict: false,
      live: false,
      hostname: 'vm',
      warn: () => {},
      write: async (t) => {
        out.push(...t.split('\n'));
      },
    },
  );
  const lsOpen = out.map((l) => JSON.parse(l)).find((r) => r.body?.tag === 'ls-open');
  assert.is(lsOpen.body.matchedScopes, '260');
  assert.equal(lsOpen.body.matchedPolicies, ['3', '9']);
});

test('scope 64 gives matchedScopes "9223372036854775808" exactly', async () => {
  assert.equal(await events(['64:pid=101', '64:event=fs.open']), ['ls-open:9223372036854775808']);
  assert.equal(await events(['1:pid=101', '64:pid=101', '1:event=fs.open', '64:event=fs.open']), ['ls-open:9223372036854775809']);
});

test('event=start.msg with comm: every exec of ls, as process-start records only', async () => {
  assert.equal(await filtered(['event=start.msg', 'comm=ls']), ['start-ls:1', 'proc.cpu:pass']);
});

test('process-start records and metrics pass through unchanged when no scope names start.msg', async () => {
  const got = await filtered(['comm=nobody']);
  assert.equal(got, ['start-sh:pass', 'start-ls:pass', 'start-curl:pass', 'start-nginx:pass', 'start-a-very-long-process-name:pass', 'proc.cpu:pass']);
});

test('a start record is kept when a scope with start.msg matches, and events of another scope still pass', async () => {
  const got = await filtered(['1:event=start.msg', '1:comm=curl', '2:event=dns.req']);
  assert.equal(got, ['start-curl:1', 'curl-dns1:2', 'curl-dns2:2', 'proc.cpu:pass']);
});

test.run();
