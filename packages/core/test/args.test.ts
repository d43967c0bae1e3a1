import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkFlags, parseFlags, runConfigArgs, runFlagPairs, splitLeadingFlags, UsageError } from '../src/index.js';

const def = { ...runConfigArgs, passthrough: { type: 'boolean' } } as const;

test('our flags end at -- or at the first word that is not a flag', () => {
  assert.equal(splitLeadingFlags(['-v', '9', 'ls', '-l'], def), { flags: ['-v', '9'], rest: ['ls', '-l'] });
  assert.equal(splitLeadingFlags(['--passthrough', '--', '-weird'], def), { flags: ['--passthrough'], rest: ['-weird'] });
  assert.equal(splitLeadingFlags(['--metricformat=statsd', 'true'], def), { flags: ['--metricformat=statsd'], rest: ['true'] });
  assert.equal(splitLeadingFlags(['-v9', 'true'], def), { flags: ['-v', '9'], rest: ['true'] });
});

test('unknown flags and missing values are usage errors', () => {
  assert.throws(
    () => splitLeadingFlags(['--bogus', 'ls'], def),
    (e: unknown) => e instanceof UsageError && /unknown option "--bogus"/.test(e.message),
  );
  assert.throws(() => splitLeadingFlags(['-u'], def), /needs a value/);
  assert.throws(() => checkFlags(['x', '--nope'], def), /unknown option "--nope"/);
  checkFlags(['x', '-v', '3', '--', '--nope'], def);
});

test('run flags become SCOPE_* pairs, validated', () => {
  const parsed = parseFlags(['-e', 'file:///tmp/e.json', '-m', 'udp://127.0.0.1:8125', '--metricformat', 'statsd', '-v', '7'], def);
  assert.equal(runFlagPairs(parsed), {
    SCOPE_EVENT_DEST: 'file:///tmp/e.json',
    SCOPE_METRIC_DEST: 'udp://127.0.0.1:8125',
    SCOPE_METRIC_FORMAT: 'statsd',
    SCOPE_METRIC_VERBOSITY: '7',
  });
  assert.throws(() => runFlagPairs(parseFlags(['-v', '12'], def)), /--verbosity: "12"/);
  assert.throws(() => runFlagPairs(parseFlags(['-e', 'nowhere'], def)), /--eventdest: /);
  assert.throws(
    () => parseFlags(['--metricformat', 'xml'], def),
    (e: unknown) => e instanceof UsageError && /metricformat/.test(e.message),
  );
});

test('-b and -d turn on the crash handler backtrace and core file (AppScope names)', () => {
  const { flags, rest } = splitLeadingFlags(['-b', '-d', '--', 'prog', '-d'], def);
  assert.equal(rest, ['prog', '-d']);
  const pairs = runFlagPairs(parseFlags(flags, def));
  assert.is(pairs['SCOPE_SNAPSHOT_BACKTRACE'], 'true');
  assert.is(pairs['SCOPE_SNAPSHOT_COREDUMP'], 'true');
  assert.equal(runFlagPairs(parseFlags(['--backtrace'], def)), { SCOPE_SNAPSHOT_BACKTRACE: 'true' });
});

test.run();
