/**
 * Endpoints named by URL, as scope-export's `--to` and scope-collect's `--listen` / `--from` take
 * them: `tcp://host:port`, `udp://host:port`, `statsd://host:port`, `otlp+http://host:port[/path]`,
 * `nats://host:port/subject`, `unix:///path`, `unix://@abstract`. One parser, so both ends of a
 * pipe read a URL the same way and say the same thing about a bad one.
 */
import { UsageError } from './errors.js';

export type HostScheme = 'tcp' | 'udp' | 'statsd' | 'otlp+http' | 'nats';
export type EndpointScheme = HostScheme | 'unix';

export type Endpoint =
  | {
      scheme: HostScheme;
      url: string;
      /** As written, without the brackets of an IPv6 literal. */
      host: string;
      port: number;
      /** What follows host:port, without its leading `/` ('' when none). */
      path: string;
    }
  | {
      scheme: 'unix';
      url: string;
      /** A filesystem path, or for an abstract socket its name without the `@`. */
      path: string;
      abstract: boolean;
    };

const EXAMPLES: Record<EndpointScheme, string> = {
  tcp: 'tcp://host:port',
  udp: 'udp://host:port',
  statsd: 'statsd://host:port',
  'otlp+http': 'otlp+http://host:port',
  nats: 'nats://host:port/subject',
  unix: 'unix:///path or unix://@name',
};

/** The default port of a scheme when the URL leaves it out; undefined: the port is required. */
const DEFAULT_PORT: Partial<Record<EndpointScheme, number>> = { statsd: 8125, 'otlp+http': 4318, nats: 4222 };

/**
 * Parse `url`, accepting only `schemes`; `flag` (`--to`, `--listen`) names the option in the error.
 * Throws a UsageError that quotes the URL and says what would have been right.
 */
export function parseEndpoint(url: string, schemes: readonly EndpointScheme[], flag: string): Endpoint {
  const fail = (why: string): never => {
    throw new UsageError(`${flag}: "${url}" ${why}`);
  };
  const expected = () => schemes.map((s) => EXAMPLES[s]).join(', ');
  const m = /^([a-z][a-z0-9+]*):\/\/(.*)$/.exec(url);
  if (!m) fail(`is not a URL (expected ${expected()})`);
  const scheme = (m?.[1] ?? '') as EndpointScheme;
  const rest = m?.[2] ?? '';
  if (!schemes.includes(scheme)) fail(`has scheme "${scheme}"; expected ${expected()}`);
  if (scheme === 'unix') {
    if (rest.startsWith('@')) {
      if (rest.length === 1) fail('names no abstract socket after "@"');
      return { scheme, url, path: rest.slice(1), abstract: true };
    }
    if (!rest.startsWith('/')) fail('needs an absolute path (unix:///path) or an abstract name (unix://@name)');
    return { scheme, url, path: rest, abstract: false };
  }
  const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+)(?::(\d+))?(?:\/(.*))?$/.exec(rest);
  if (!hp) fail(`needs host:port (${EXAMPLES[scheme]})`);
  const host = (hp?.[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const portText = hp?.[2];
  const port = portText === undefined ? DEFAULT_PORT[scheme] : Number(portText);
  if (port === undefined) fail(`needs a port (${EXAMPLES[scheme]})`);
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) fail('has a port outside 0..65535');
  const path = hp?.[3] ?? '';
  if (path !== '' && scheme !== 'otlp+http' && scheme !== 'nats') fail(`takes no path after host:port (${EXAMPLES[scheme]})`);
  return { scheme: scheme as HostScheme, url, host, port: port as number, path };
}

/** host:port as a URL writes it (an IPv6 literal in brackets). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
