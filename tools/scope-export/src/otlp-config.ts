/**
 * Where and how OTLP/HTTP records go, per signal (logs for events, metrics), as OpenTelemetry users
 * configure an exporter: the flags first (`--to otlp+http(s)://…`, `--header K=V`,
 * `--otlp-compression`, `--ca FILE`, `--otlp-encoding`), then the per-signal variables
 * (`OTEL_EXPORTER_OTLP_LOGS_*`, `OTEL_EXPORTER_OTLP_METRICS_*`), then the general ones
 * (`OTEL_EXPORTER_OTLP_*`): ENDPOINT, HEADERS, PROTOCOL, COMPRESSION, CERTIFICATE, TIMEOUT, as the
 * OpenTelemetry specification defines them (a general ENDPOINT is a base to which /v1/logs and
 * /v1/metrics are added; a per-signal one is used as it is). Every value is checked before anything
 * connects; a bad one is a usage error naming the flag or variable.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '@scope/core';

export type OtlpEncoding = 'protobuf' | 'json';
export type OtlpCompression = 'gzip' | 'none';
export type OtlpSignalName = 'logs' | 'metrics';

export interface OtlpSignal {
  /** Where this signal's requests are POSTed (http: or https:). */
  url: URL;
  headers: Record<string, string>;
  compression: OtlpCompression;
  /** Trusted CA certificates (PEM) for https, instead of the system's; undefined: the system's. */
  ca: Buffer | undefined;
  encoding: OtlpEncoding;
  timeoutMs: number;
}

export interface OtlpConfig {
  /** For messages and the summary: the URL given, or the variable it came from. */
  label: string;
  logs: OtlpSignal;
  metrics: OtlpSignal;
}

export interface OtlpFlags {
  /** `--to otlp+http://…` / `otlp+https://…` as written; undefined: the endpoint comes from the environment. */
  to?: string | undefined;
  /** `--header K=V`, each as written. */
  headers: string[];
  compression?: string | undefined;
  ca?: string | undefined;
  encoding?: string | undefined;
}

const PREFIX = 'OTEL_EXPORTER_OTLP_';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the sink writes itself. */
const OWN = new Set(['content-length', 'content-encoding', 'host', 'transfer-encoding', 'connection']);

/** The value of `OTEL_EXPORTER_OTLP_<SIGNAL>_<key>` or else `OTEL_EXPORTER_OTLP_<key>`, and its name. */
function fromEnv(env: NodeJS.ProcessEnv, signal: OtlpSignalName, key: string): { name: string; value: string } | undefined {
  for (const name of [`${PREFIX}${signal.toUpperCase()}_${key}`, `${PREFIX}${key}`]) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return { name, value: value.trim() };
  }
  return undefined;
}

/** One header checked: a token name, a value without line breaks. */
function header(where: string, name: string, value: string): [string, string] {
  if (!TOKEN.test(name)) throw new UsageError(`${where}: "${name}" is not a header name`);
  if (/[\r\n\0]/.test(value)) throw new UsageError(`${where}: the value of ${name} has a line break`);
  if (OWN.has(name.toLowerCase())) throw new UsageError(`${where}: ${name} is set by scope-export itself`);
  return [name.toLowerCase(), value];
}

/** OTEL_EXPORTER_OTLP_HEADERS: `k1=v1,k2=v2`, values percent-encoded (W3C Baggage's format). */
export function parseEnvHeaders(name: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`${name}: "${part.trim()}" is not key=value`);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new UsageError(`${name}: the value of ${part.slice(0, eq).trim()} is not percent-encoded text`);
    }
    const [k, v] = header(name, part.slice(0, eq).trim(), value);
    out[k] = v;
  }
  return out;
}

/** `--header K=V`: the value taken as written. */
export function parseFlagHeader(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--header: "${text}" is not NAME=VALUE`);
  return header('--header', text.slice(0, eq).trim(), text.slice(eq + 1));
}

function encodingOf(where: string, value: string): OtlpEncoding {
  if (value === 'protobuf' || value === 'http/protobuf') return 'protobuf';
  if (value === 'json' || value === 'http/json') return 'json';
  if (value === 'grpc') throw new UsageError(`${where}: grpc is not supported; OTLP/HTTP is (http/protobuf or http/json)`);
  throw new UsageError(`${where}: "${value}" is not http/protobuf or http/json`);
}

function compressionOf(where: string, value: string): OtlpCompression {
  if (value === 'gzip' || value === 'none') return value;
  throw new UsageError(`${where}: "${value}" is not gzip or none`);
}

function readCa(where: string, file: string, read: (f: string) => Buffer): Buffer {
  let pem: Buffer;
  try {
    pem = read(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${where}: ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${where}: ${file} holds no PEM certificate`);
  return pem;
}

/** An endpoint URL checked: http or https, a host, no query or fragment. */
function endpointUrl(where: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${where}: "${text}" is not a URL (http://host:4318 or https://host)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${where}: "${text}" is not http:// or https://`);
  if (url.hostname === '') throw new UsageError(`${where}: "${text}" names no host`);
  return url;
}

/** `otlp+http://h:p/base` → http://h:p/base/v1/<signal> (4318 when no port). */
function flagUrl(to: string, signal: OtlpSignalName): URL {
  const plain = to.replace(/^otlp\+/, '');
  const url = endpointUrl('--to', plain);
  // no port written: OTLP/HTTP's 4318 (the URL class would read http://h:80 as "no port" too)
  if (!/^[a-z]+:\/\/(\[[^\]]*\]|[^/:?#]*):\d+/i.test(plain)) url.port = '4318';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/${signal}`;
  return url;
}

/** The configuration of one OTLP destination (see the top of this file). */
export function otlpConfig(flags: OtlpFlags, env: NodeJS.ProcessEnv, read: (f: string) => Buffer = (f) => readFileSync(f)): OtlpConfig {
  const flagHeaders = Object.fromEntries(flags.headers.map(parseFlagHeader));
  const signal = (s: OtlpSignalName): OtlpSignal => {
    let url: URL;
    if (flags.to !== undefined) url = flagUrl(flags.to, s);
    else {
      const own = env[`${PREFIX}${s.toUpperCase()}_ENDPOINT`]?.trim();
      const base = env[`${PREFIX}ENDPOINT`]?.trim();
      if (own) url = endpointUrl(`${PREFIX}${s.toUpperCase()}_ENDPOINT`, own);
      else if (base) {
        url = endpointUrl(`${PREFIX}ENDPOINT`, base);
        url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/${s}`;
      } else throw new UsageError(`--to otlp: no endpoint: set ${PREFIX}ENDPOINT (or ${PREFIX}${s.toUpperCase()}_ENDPOINT), or give --to otlp+http://host:port`);
    }
    const headers: Record<string, string> = {};
    const general = env[`${PREFIX}HEADERS`];
    if (general) Object.assign(headers, parseEnvHeaders(`${PREFIX}HEADERS`, general));
    const own = env[`${PREFIX}${s.toUpperCase()}_HEADERS`];
    if (own) Object.assign(headers, parseEnvHeaders(`${PREFIX}${s.toUpperCase()}_HEADERS`, own));
    Object.assign(headers, flagHeaders);
    const comp = fromEnv(env, s, 'COMPRESSION');
    const compression = flags.compression !== undefined ? compressionOf('--otlp-compression', flags.compression) : comp ? compressionOf(comp.name, comp.value) : 'none';
    const proto = fromEnv(env, s, 'PROTOCOL');
    const encoding = flags.encoding !== undefined ? encodingOf('--otlp-encoding', flags.encoding) : proto ? encodingOf(proto.name, proto.value) : 'protobuf';
    const cert = fromEnv(env, s, 'CERTIFICATE');
    const ca = flags.ca !== undefined ? readCa('--ca', flags.ca, read) : cert ? readCa(cert.name, cert.value, read) : undefined;
    const timeout = fromEnv(env, s, 'TIMEOUT');
    let timeoutMs = 10_000;
    if (timeout) {
      if (!/^\d+$/.test(timeout.value) || Number(timeout.value) === 0) throw new UsageError(`${timeout.name}: "${timeout.value}" is not a number of milliseconds`);
      timeoutMs = Number(timeout.value);
    }
    if (ca !== undefined && url.protocol !== 'https:') throw new UsageError(`${flags.ca !== undefined ? '--ca' : cert?.name}: a CA certificate goes with an https endpoint, not ${url.href}`);
    return { url, headers, compression, ca, encoding, timeoutMs };
  };
  const label = flags.to ?? env[`${PREFIX}ENDPOINT`]?.trim() ?? `${PREFIX}{LOGS,METRICS}_ENDPOINT`;
  return { label, logs: signal('logs'), metrics: signal('metrics') };
}
