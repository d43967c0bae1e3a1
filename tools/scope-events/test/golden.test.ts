/**
 * Golden tests: every option in both formats on a fixed fixture, compared byte for byte with
 * test/golden/<case>.txt (people format, --pretty into a pipe: no colour) and <case>.ndjson (--json).
 * UPDATE_GOLDEN=1 rewrites the golden files (review the diff before keeping it).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fixtures, golden, run } from './helpers.js';

const input = `${fixtures}events.ndjson`;
const update = process.env['UPDATE_GOLDEN'] === '1';

const cases: Array<[string, string[]]> = [
  ['all', []],
  ['match', ['--match', 'nginx.conf']],
  ['match-short', ['-m', '127.0.0.1']],
  ['source', ['--source', 'net.close']],
  ['source-list', ['-s', 'fs.open,stdout,stderr']],
  ['sourcetype', ['--sourcetype', 'http']],
  ['sourcetype-list', ['-t', 'dns,console']],
  ['fields', ['--sourcetype', 'http', '--fields', 'http_method,http_target,http_status_code']],
  ['fields-only', ['--fields', 'file,duration']],
  ['sort-duration', ['--sort', 'data.duration']],
  ['sort-duration-reverse', ['--sort', 'data.duration', '-r', '--source', 'net.close']],
  ['sort-proc', ['--sort', 'proc', '--sourcetype', 'fs']],
  ['sort-time-reverse', ['--sort', '_time', '--reverse', '-t', 'net']],
  ['reverse', ['-r', '-s', 'fs.open']],
  ['last', ['--last', '3']],
  ['last-short', ['-n', '2', '-t', 'fs']],
  ['last-sort', ['--sort', 'data.duration', '-r', '-n', '2', '--source', 'net.close']],
  ['all-flag', ['--all', '-t', 'dns']],
  ['combined', ['-m', 'nginx', '-t', 'fs,net', '--fields', 'file,net_peer_ip,duration', '-n', '4']],
  ['event', ['7']],
  ['event-base36', ['e']],
];

for (const [name, args] of cases) {
  for (const [format, flag, ext] of [
    ['people', '--pretty', 'txt'],
    ['ndjson', '--json', 'ndjson'],
  ] as const) {
    test(`golden ${name} (${format}): scope-events ${args.join(' ')}`, () => {
      const r = run([flag, ...args], { stdin: input });
      assert.is(r.stderr, '', 'no message');
      assert.is(r.status, 0);
      const file = `${golden}${name}.${ext}`;
      if (update || !existsSync(file)) {
        if (!update) throw new Error(`${file} is missing (UPDATE_GOLDEN=1 writes it)`);
        writeFileSync(file, r.stdout);
      }
      assert.fixture(r.stdout, readFileSync(file, 'utf8'));
    });
  }
}

test('NDJSON without any selection passes every record through unchanged, non-events included', () => {
  const r = run(['--json'], { stdin: input });
  assert.is(r.stdout, readFileSync(input, 'utf8'));
});

test('into a pipe the default is NDJSON; -j is --json', () => {
  const plain = run(['-s', 'fs.open'], { stdin: input });
  const j = run(['-j', '-s', 'fs.open'], { stdin: input });
  assert.is(
    plain.stdout,
    readFileSync(`${golden}source-list.ndjson`, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"fs.open"'))
      .join('\n') + '\n',
  );
  assert.is(j.stdout, plain.stdout);
});

test('an unknown event id: a message naming the id and the input, status 1', () => {
  for (const id of ['zz', '1']) {
    const r = run(['--pretty', id], { stdin: input });
    assert.is(r.status, 1);
    assert.is(r.stdout, '');
    assert.is(r.stderr, `scope-events: no event ${id} in stdin\n`);
  }
});

test.run();
