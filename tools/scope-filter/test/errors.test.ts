/**
 * Every error of FILTER.md's list, through the tool itself: status 2, and a message that quotes the
 * flag (or the policy file) and says why. Nothing is read or written.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureFile } from './fixture.js';
import { run } from './helpers.js';
import { tempDir } from '@scope/core/testing';

const input = fixtureFile();

interface ErrRow {
  name: string;
  args: string[];
  /** Parts of the message, all of them. */
  says: string[];
}

const rows: ErrRow[] = [
  { name: 'a scope above 64', args: ['-f', '65:comm=ls'], says: ['-f "65:comm=ls"', 'outside 1..64'] },
  { name: 'scope 0', args: ['-f', '0:comm=ls'], says: ['-f "0:comm=ls"', 'outside 1..64'] },
  { name: 'a scope that is not a number', args: ['-f', 'x:comm=ls'], says: ['-f "x:comm=ls"', 'not a scope number'] },
  { name: 'an unknown kind', args: ['-f', 'colour=red'], says: ['-f "colour=red"', 'unknown kind "colour"'] },
  { name: 'an operator with no value', args: ['-f', 'comm='], says: ['-f "comm="', 'has no value'] },
  { name: 'an empty value in a list', args: ['-f', 'comm=ls,'], says: ['-f "comm=ls,"', 'empty value'] },
  { name: 'a kind that needs an operator, bare', args: ['-f', 'comm'], says: ['-f "comm"', 'needs an operator'] },
  { name: 'an operator the kind does not take', args: ['-f', 'comm>5'], says: ['-f "comm>5"', 'comm takes = and !=, not >'] },
  { name: 'an operator event does not take', args: ['-f', 'event<fs.open'], says: ['-f "event<fs.open"', 'event takes = and !='] },
  { name: 'a boolean given a value', args: ['-f', 'follow=1'], says: ['-f "follow=1"', 'boolean'] },
  { name: 'an unknown event', args: ['-f', 'event=fs.opne'], says: ['-f "event=fs.opne"', 'unknown event "fs.opne"'] },
  { name: 'an unknown event family', args: ['-f', 'event=disk.*'], says: ['-f "event=disk.*"', 'unknown event family'] },
  { name: 'an unknown event in a data filter', args: ['-f', 'fs.opne.data.file=/x'], says: ['-f "fs.opne.data.file=/x"', 'unknown event "fs.opne"'] },
  { name: 'an unknown field', args: ['-f', 'fs.open.data.filename=/x'], says: ['-f "fs.open.data.filename=/x"', 'no data field "filename"', 'file'] },
  { name: 'an unknown sourcetype', args: ['-f', 'sourcetype=disk'], says: ['-f "sourcetype=disk"', 'unknown sourcetype'] },
  { name: 'a bad number', args: ['-f', 'pid=12a'], says: ['-f "pid=12a"', '"12a" is not a number'] },
  { name: 'a bad number in a range', args: ['-f', 'http.resp.data.http_status_code>=5xx'], says: ['"5xx" is not a number'] },
  { name: 'a lone *', args: ['-f', 'comm=*'], says: ['-f "comm=*"', 'lone *'] },
  { name: 'a lone * in a data filter', args: ['-f', 'fs.open.data.file=*'], says: ['lone *'] },
  { name: 'conflicting booleans: container and not-container', args: ['-f', 'container', '-f', 'not-container'], says: ['-f "not-container"', 'conflicts'] },
  { name: 'conflicting booleans: follow and not-follow', args: ['-f', '2:follow', '-f', '2:not-follow'], says: ['-f "2:not-follow"', 'conflicts'] },
  { name: 'conflicting booleans: EVENT.error both ways', args: ['-f', 'http.resp.error', '-f', 'not-http.resp.error'], says: ['conflicts'] },
  { name: 'no filter at all', args: [], says: ['no filter'] },
  { name: '-f and --policy together', args: ['-f', 'comm=ls', '--policy', input], says: ['not both'] },
];

for (const row of rows) {
  test(`error: ${row.name}`, () => {
    const r = run(row.args, { stdin: input });
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stdout, '', 'nothing written');
    for (const s of row.says) assert.ok(r.stderr.includes(s), `stderr should say ${JSON.stringify(s)}:\n${r.stderr}`);
    assert.ok(r.stderr.startsWith('scope-filter: '), r.stderr);
    assert.not.ok(/\n\s+at /.test(r.stderr), 'no stack trace');
  });
}

function policyDir(files: Record<string, string>): string {
  const dir = tempDir('scope-filter-policies-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test('error: more than 64 policies', () => {
  const docs = Array.from({ length: 65 }, (_, i) => `name: p${i + 1}\nrules:\n  - event: fs.open\n`).join('---\n');
  const dir = policyDir({ 'many.yml': docs });
  const r = run(['--policy', dir], { stdin: input });
  assert.is(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes('65 policies') && r.stderr.includes('at most 64'), r.stderr);
});

test('error: a policy without rules', () => {
  const dir = policyDir({ 'a.yml': 'name: empty\nscope:\n  - comm=ls\n' });
  const r = run(['--policy', dir], { stdin: input });
  assert.is(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes('policy "empty"') && r.stderr.includes('a.yml') && r.stderr.includes('no rules'), r.stderr);
});

test('error: a bad filter inside a policy names the file and the entry', () => {
  const dir = policyDir({ 'b.yml': 'name: web\nscope: [comm>5]\nrules:\n  - event: http.resp\n' });
  const r = run(['--policy', dir], { stdin: input });
  assert.is(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes('b.yml') && r.stderr.includes('"comm>5"') && r.stderr.includes('comm takes = and !='), r.stderr);
});

test('error: YAML that does not parse gives file:line:col', () => {
  const dir = policyDir({ 'c.yml': 'name: web\nrules: [\n' });
  const r = run(['--policy', join(dir, 'c.yml')], { stdin: input });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /c\.yml:\d+:\d+: /);
});

test('error: a policy path that does not exist', () => {
  const r = run(['--policy', '/nonexistent/policies'], { stdin: input });
  assert.is(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes('/nonexistent/policies') && r.stderr.includes('no such file'), r.stderr);
});

test.run();
