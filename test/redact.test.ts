/**
 * Credentials on a command line stay out of what scope writes: libscope's `cmd` (its C copy of the
 * rules, libscope/src/report/redact.c) and scope-run's args.json / session.json (@scope/core's
 * redactArgs) must redact the very same way. Both are run over the same argv samples.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactArgs, REDACTED, SECRET_NAME } from '@scope/core';
import { libscopePath } from '@scope/libscope';
import { envFor, newHome, parseLines, readLast, runBin, scopeBin, startRecords } from './lib/harness.js';

/** argv lists (after the program) that exercise every rule and the cases around them. */
const SAMPLES: string[][] = [
  ['-s', '-H', 'Authorization: Bearer s3cr3t-abc', '-H', 'Accept: text/plain', '-H', 'X-Api-Key:k3y'],
  ['--password=hunter2', '--user=bob', '--token', 'tok-123', '--verbose', '--api-key', '--next', 'plain'],
  ['https://alice:pa55@example.com/x?y=1', 'ftp://anon@host/', 'http://h/p?access_token=at1&x=2&session=s1#frag', 'http://h/p?q=a&token=t2'],
  ['DB_PASSWORD=pw1', 'MODE=fast', '-Dkey=v1', 'cookie:c1', 'Cookie: c2=v', 'auth://x', 'a&token=notquery'],
  ['--Secret-Thing', 'value', 'PASSWORD=', '==', '?', '?=x', '?token=', 'x?token=a b&pass=c', 'é?token=ü&x=ß'],
  ['', 'plain', '--', '--key', '-', 'user:pw@host', 'git@github.com:o/r.git', 'mysql://root:r00t@db:3306/app'],
];

function startCmd(argv: string[], extra: NodeJS.ProcessEnv): string {
  const dir = mkdtempSync(join(tmpdir(), 'scope-redact-'));
  try {
    const env: NodeJS.ProcessEnv = { ...envFor(dir), LD_PRELOAD: libscopePath(), SCOPE_EVENT_DEST: `file://${dir}/events.json`, SCOPE_METRIC_ENABLE: 'false', ...extra };
    const r = spawnSync('/bin/true', argv, { env });
    assert.is(r.status, 0);
    const start = startRecords(parseLines(readFileSync(join(dir, 'events.json'), 'utf8')))[0];
    assert.ok(start, 'a process-start record');
    return String(start.info.process.cmd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('libscope and @scope/core redact the same argv the same way', () => {
  for (const args of SAMPLES) {
    const argv = ['/bin/true', ...args];
    assert.is(startCmd(args, {}), redactArgs(argv).join(' '), `argv ${JSON.stringify(argv)}`);
  }
});

test('what the rules catch, and what they leave', () => {
  const out = SAMPLES.map((a) => redactArgs(a));
  assert.equal(out[0], ['-s', '-H', `Authorization: ${REDACTED}`, '-H', 'Accept: text/plain', '-H', `X-Api-Key: ${REDACTED}`]);
  assert.equal(out[1], [`--password=${REDACTED}`, '--user=bob', '--token', REDACTED, '--verbose', '--api-key', '--next', 'plain']);
  assert.equal(out[2], [`https://alice:${REDACTED}@example.com/x?y=1`, 'ftp://anon@host/', `http://h/p?access_token=${REDACTED}&x=2&session=${REDACTED}#frag`, `http://h/p?q=a&token=${REDACTED}`]);
  assert.equal(out[3], [`DB_PASSWORD=${REDACTED}`, 'MODE=fast', `-Dkey=${REDACTED}`, `cookie: ${REDACTED}`, `Cookie: ${REDACTED}`, 'auth://x', 'a&token=notquery']);
  assert.equal(out[5]?.[7], `mysql://root:${REDACTED}@db:3306/app`);
  // snapshot's environment redaction uses the same secret-looking names
  assert.ok(SECRET_NAME.test('GITHUB_TOKEN') && SECRET_NAME.test('DB_PASSWORD') && !SECRET_NAME.test('HOME'));
});

test('SCOPE_REDACT_ARGS=false: libscope writes the command line verbatim', () => {
  const args = SAMPLES[1] as string[];
  assert.is(startCmd(args, { SCOPE_REDACT_ARGS: 'false' }), ['/bin/true', ...args].join(' '));
});

test('scope run: args.json, session.json and every record keep no credential; SCOPE_REDACT_ARGS=false keeps them', async () => {
  const argv = ['true', '-H', 'Authorization: Bearer s3cr3t-abc', '--password=hunter2', 'http://bob:pa55@h/x?token=t0k&a=1'];
  const secrets = ['s3cr3t-abc', 'hunter2', 'pa55', 't0k'];
  const home = newHome();
  try {
    const ran = await runBin(scopeBin, ['run', '--no-stream', '--', ...argv], envFor(home));
    assert.is(ran.status, 0, ran.stderr);
    const { session, events, metrics } = await readLast(home);
    assert.equal(JSON.parse(readFileSync(session.paths.args, 'utf8')), redactArgs(argv));
    assert.equal(session.manifest.args, redactArgs(argv));
    for (const f of readdirSync(session.dir)) {
      const p = join(session.dir, f);
      if (!statSync(p).isFile()) continue;
      const text = readFileSync(p, 'utf8');
      for (const s of secrets) assert.not.ok(text.includes(s), `${f} holds ${s}`);
    }
    assert.ok(events.length > 0 && metrics.length > 0);
    assert.is(startRecords(events)[0]?.info.process.cmd, redactArgs(argv).join(' '));

    const plain = await runBin(scopeBin, ['run', '--no-stream', '--', ...argv], envFor(home, { SCOPE_REDACT_ARGS: 'false' }));
    assert.is(plain.status, 0, plain.stderr);
    const last = await readLast(home);
    assert.equal(JSON.parse(readFileSync(last.session.paths.args, 'utf8')), argv);
    assert.is(startRecords(last.events)[0]?.info.process.cmd, argv.join(' '));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
