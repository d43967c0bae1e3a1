import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, destinationProblem, formatEnvFile, parseEnvFile, parseScopeYaml, pairsToYaml, resolveConfig, DEFAULTS } from '../src/index.js';

const FULL = `
metric:
  enable: true
  format:
    type: statsd
    statsdprefix: app.
    statsdmaxlen: 1024
    verbosity: 6
  watch:
    - type: fs
    - type: process
  transport:
    type: udp
    host: 127.0.0.1
    port: 8125
event:
  enable: true
  format:
    type: ndjson
    maxeventpersec: 5000
  watch:
    - type: console
      name: (stdout|stderr)
      value: .*
    - type: fs
      name: ^/etc
  transport:
    type: file
    path: /tmp/events.json
payload:
  enable: false
  dir: /tmp/payloads
libscope:
  summaryperiod: 2
  log:
    level: info
    transport:
      type: file
      path: /tmp/scope.log
tags:
  service: web
  team: core
`;

test('scope.yml sections map to the SCOPE_* names AppScope uses', () => {
  const p = parseScopeYaml(FULL, 'scope.yml');
  assert.is(p['SCOPE_METRIC_FORMAT'], 'statsd');
  assert.is(p['SCOPE_STATSD_PREFIX'], 'app.');
  assert.is(p['SCOPE_STATSD_MAXLEN'], '1024');
  assert.is(p['SCOPE_METRIC_VERBOSITY'], '6');
  assert.is(p['SCOPE_METRIC_DEST'], 'udp://127.0.0.1:8125');
  assert.is(p['SCOPE_METRIC_FS'], 'true');
  assert.is(p['SCOPE_METRIC_PROC'], 'true');
  assert.is(p['SCOPE_METRIC_NET'], 'false', 'watch types not listed are off');
  assert.is(p['SCOPE_EVENT_MAXEPS'], '5000');
  assert.is(p['SCOPE_EVENT_CONSOLE'], 'true');
  assert.is(p['SCOPE_EVENT_CONSOLE_NAME'], '(stdout|stderr)');
  assert.is(p['SCOPE_EVENT_FS_NAME'], '^/etc');
  assert.is(p['SCOPE_EVENT_NET'], 'false');
  assert.is(p['SCOPE_EVENT_DEST'], 'file:///tmp/events.json');
  assert.is(p['SCOPE_PAYLOAD_ENABLE'], 'false');
  assert.is(p['SCOPE_SUMMARY_PERIOD'], '2');
  assert.is(p['SCOPE_LOG_LEVEL'], 'info');
  assert.is(p['SCOPE_LOG_DEST'], 'file:///tmp/scope.log');
  assert.is(p['SCOPE_TAG_service'], 'web');
  assert.is(p['SCOPE_TAG_team'], 'core');
});

function configError(text: string): ConfigError {
  try {
    parseScopeYaml(text, 'bad.yml');
  } catch (err) {
    assert.instance(err, ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

test('YAML syntax errors are reported as file:line:col', () => {
  const err = configError('metric:\n  enable: true\n  format: [unclosed\n');
  assert.is(err.exitCode, 2);
  assert.match(err.message, /^bad\.yml:\d+:\d+: /);
});

test('an unknown key is reported where it stands', () => {
  const err = configError('metric:\n  enable: true\n  formt:\n    type: statsd\n');
  assert.is(err.message.split(': unknown')[0], 'bad.yml:3:3');
  assert.match(err.message, /unknown key "formt" in metric/);
});

test('a wrong value type is reported where it stands', () => {
  assert.match(configError('libscope:\n  summaryperiod: soon\n').message, /^bad\.yml:2:18: libscope\.summaryperiod: expected a whole number/);
  assert.match(configError('metric:\n  format:\n    type: xml\n').message, /^bad\.yml:3:11: metric\.format\.type: expected statsd or ndjson/);
  assert.match(configError('event:\n  transport:\n    type: tcp\n    host: h\n').message, /^bad\.yml:3:5: event\.transport: .*needs host:port/);
  assert.match(configError('event:\n  watch:\n    - type: fs\n      name: "("\n').message, /^bad\.yml:4:13: event\.watch\.name: bad regular expression/);
});

test('an empty file is an empty config', () => {
  assert.equal(parseScopeYaml('', 'empty.yml'), {});
  assert.equal(parseScopeYaml('# only a comment\n', 'empty.yml'), {});
});

test('precedence: defaults < scope.yml < flags < environment', () => {
  const merged = resolveConfig(DEFAULTS, { SCOPE_METRIC_FORMAT: 'statsd', SCOPE_SUMMARY_PERIOD: '2' }, { SCOPE_METRIC_FORMAT: 'ndjson', SCOPE_METRIC_VERBOSITY: '7' }, { SCOPE_METRIC_VERBOSITY: '9' });
  assert.is(merged['SCOPE_METRIC_FORMAT'], 'ndjson');
  assert.is(merged['SCOPE_SUMMARY_PERIOD'], '2');
  assert.is(merged['SCOPE_METRIC_VERBOSITY'], '9');
  assert.is(merged['SCOPE_EVENT_ENABLE'], 'true');
});

test('the KEY=VALUE file round-trips and refuses line breaks', () => {
  const pairs = { SCOPE_A: 'x=y', SCOPE_B: '' };
  assert.equal(parseEnvFile(formatEnvFile(pairs)), pairs);
  assert.throws(() => formatEnvFile({ SCOPE_A: 'a\nb' }), /line break/);
});

test('generated scope.yml parses back to the same pairs', () => {
  const pairs = parseScopeYaml(FULL, 'scope.yml');
  const again = parseScopeYaml(pairsToYaml(pairs), 'generated.yml');
  assert.equal(again, pairs);
});

test('destination URLs are checked', () => {
  assert.is(destinationProblem('file:///tmp/x'), null);
  assert.is(destinationProblem('file://stdout'), null);
  assert.is(destinationProblem('tcp://127.0.0.1:9109'), null);
  assert.is(destinationProblem('udp://[::1]:8125'), null);
  assert.is(destinationProblem('unix://@abstract'), null);
  assert.match(destinationProblem('file://relative') ?? '', /absolute path/);
  assert.match(destinationProblem('http://x:1') ?? '', /not a destination scheme/);
  assert.match(destinationProblem('tcp://host') ?? '', /host:port/);
  assert.match(destinationProblem('tcp://host:99999') ?? '', /host:port/);
  assert.match(destinationProblem('events.json') ?? '', /not a destination URL/);
});

test.run();
