/**
 * parseEndpoint: every scheme scope-export and scope-collect take, default ports, IPv6 literals,
 * abstract unix names, and a usage error that quotes the flag and the URL for each way to be wrong.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostPort, parseEndpoint, UsageError } from '../src/index.js';
import type { EndpointScheme } from '../src/index.js';

const ALL: EndpointScheme[] = ['tcp', 'udp', 'statsd', 'otlp+http', 'nats', 'unix'];

test('host schemes: host, port and path', () => {
  assert.equal(parseEndpoint('tcp://127.0.0.1:9109', ALL, '--to'), { scheme: 'tcp', url: 'tcp://127.0.0.1:9109', host: '127.0.0.1', port: 9109, path: '' });
  assert.equal(parseEndpoint('nats://localhost:4222/scope.events', ALL, '--to'), { scheme: 'nats', url: 'nats://localhost:4222/scope.events', host: 'localhost', port: 4222, path: 'scope.events' });
  const v6 = parseEndpoint('udp://[::1]:8125', ALL, '--listen');
  assert.equal(v6.scheme === 'udp' && v6.host, '::1');
});

test('default ports: statsd 8125, otlp+http 4318, nats 4222', () => {
  const ports = ['statsd://h', 'otlp+http://h', 'nats://h'].map((u) => {
    const e = parseEndpoint(u, ALL, '--to');
    return e.scheme === 'unix' ? -1 : e.port;
  });
  assert.equal(ports, [8125, 4318, 4222]);
});

test('unix: a path or an abstract name', () => {
  assert.equal(parseEndpoint('unix:///run/s.sock', ALL, '--listen'), { scheme: 'unix', url: 'unix:///run/s.sock', path: '/run/s.sock', abstract: false });
  assert.equal(parseEndpoint('unix://@scope', ALL, '--listen'), { scheme: 'unix', url: 'unix://@scope', path: 'scope', abstract: true });
});

test('bad URLs: a usage error naming the flag, the URL and what was expected', () => {
  const cases: [string, EndpointScheme[], RegExp][] = [
    ['localhost:9109', ALL, /is not a URL/],
    ['http://h:1', ['tcp', 'nats'], /scheme "http"; expected tcp:\/\/host:port, nats:\/\/host:port\/subject/],
    ['tcp://h', ALL, /needs a port/],
    ['tcp://h:70000', ALL, /outside 0\.\.65535/],
    ['tcp://h:1/x', ALL, /takes no path/],
    ['unix://rel', ALL, /absolute path/],
    ['unix://@', ALL, /names no abstract socket/],
  ];
  for (const [url, schemes, why] of cases) {
    try {
      parseEndpoint(url, schemes, '--to');
      assert.unreachable(url);
    } catch (err) {
      assert.instance(err, UsageError);
      assert.ok((err as Error).message.startsWith(`--to: "${url}" `), (err as Error).message);
      assert.match((err as Error).message, why);
    }
  }
});

test('hostPort brackets IPv6 literals', () => {
  assert.equal([hostPort('::1', 80), hostPort('a.b', 1)], ['[::1]:80', 'a.b:1']);
});

test.run();
