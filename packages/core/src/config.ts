/**
 * Config: AppScope's scope.yml ⇄ the flat SCOPE_* pairs libscope reads. One table maps each YAML
 * path to its variable, so both directions come from it. Precedence (lowest first): defaults,
 * scope.yml, command-line flags, SCOPE_* in the environment.
 */
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Node as YamlNode, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

// yaml costs ~35 ms to load, a third of `scope run -- true`; most runs have no scope.yml, so it
// is loaded only when a file is parsed or written.
type YamlLib = typeof import('yaml');
let yamlLib: YamlLib | undefined;
const Y = (): YamlLib => (yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib);
const isMap = (n: unknown): n is YAMLMap => Y().isMap(n);
const isSeq = (n: unknown): n is YAMLSeq => Y().isSeq(n);
const isScalar = (n: unknown): n is Scalar => Y().isScalar(n);
import { ConfigError, ScopeError } from './errors.js';

/** SCOPE_* name → value, as libscope reads them. */
export type ScopePairs = Record<string, string>;

type Kind = 'bool' | 'int' | 'string' | 'transport' | 'loglevel' | 'metricformat';

interface Entry {
  path: string[];
  key: string;
  kind: Kind;
}

// Scalar settings. Transports map to a destination URL; watch lists and tags are handled below.
const TABLE: Entry[] = [
  { path: ['metric', 'enable'], key: 'SCOPE_METRIC_ENABLE', kind: 'bool' },
  { path: ['metric', 'format', 'type'], key: 'SCOPE_METRIC_FORMAT', kind: 'metricformat' },
  { path: ['metric', 'format', 'statsdprefix'], key: 'SCOPE_STATSD_PREFIX', kind: 'string' },
  { path: ['metric', 'format', 'statsdmaxlen'], key: 'SCOPE_STATSD_MAXLEN', kind: 'int' },
  { path: ['metric', 'format', 'verbosity'], key: 'SCOPE_METRIC_VERBOSITY', kind: 'int' },
  { path: ['metric', 'transport'], key: 'SCOPE_METRIC_DEST', kind: 'transport' },
  // transport.tls.enable is the URL's scheme (tls://); the other two are settings of their own
  { path: ['metric', 'transport', 'tls', 'validateserver'], key: 'SCOPE_METRIC_TLS_VALIDATE_SERVER', kind: 'bool' },
  { path: ['metric', 'transport', 'tls', 'cacertpath'], key: 'SCOPE_METRIC_TLS_CA_CERT_PATH', kind: 'string' },
  { path: ['event', 'enable'], key: 'SCOPE_EVENT_ENABLE', kind: 'bool' },
  { path: ['event', 'format', 'type'], key: 'SCOPE_EVENT_FORMAT', kind: 'string' },
  { path: ['event', 'format', 'maxeventpersec'], key: 'SCOPE_EVENT_MAXEPS', kind: 'int' },
  { path: ['event', 'format', 'enhancefs'], key: 'SCOPE_ENHANCE_FS', kind: 'bool' },
  { path: ['event', 'transport'], key: 'SCOPE_EVENT_DEST', kind: 'transport' },
  // Secrets kept out of records (scope's own keys; AppScope has none): HTTP header values, and
  // credentials in the command line (`cmd`, args.json).
  { path: ['event', 'redact', 'http'], key: 'SCOPE_EVENT_HTTP_REDACT', kind: 'bool' },
  { path: ['event', 'redact', 'args'], key: 'SCOPE_REDACT_ARGS', kind: 'bool' },
  { path: ['event', 'transport', 'tls', 'validateserver'], key: 'SCOPE_EVENT_TLS_VALIDATE_SERVER', kind: 'bool' },
  { path: ['event', 'transport', 'tls', 'cacertpath'], key: 'SCOPE_EVENT_TLS_CA_CERT_PATH', kind: 'string' },
  { path: ['payload', 'enable'], key: 'SCOPE_PAYLOAD_ENABLE', kind: 'bool' },
  { path: ['payload', 'dir'], key: 'SCOPE_PAYLOAD_DIR', kind: 'string' },
  { path: ['libscope', 'configevent'], key: 'SCOPE_CONFIG_EVENT', kind: 'bool' },
  { path: ['libscope', 'summaryperiod'], key: 'SCOPE_SUMMARY_PERIOD', kind: 'int' },
  // scope's own (AppScope has none): the size an events or metrics file may grow to, 0: no cap
  { path: ['libscope', 'maxfilebytes'], key: 'SCOPE_FILE_MAXBYTES', kind: 'int' },
  { path: ['libscope', 'commanddir'], key: 'SCOPE_CMD_DIR', kind: 'string' },
  { path: ['libscope', 'log', 'level'], key: 'SCOPE_LOG_LEVEL', kind: 'loglevel' },
  { path: ['libscope', 'log', 'transport'], key: 'SCOPE_LOG_DEST', kind: 'transport' },
  { path: ['libscope', 'log', 'transport', 'tls', 'validateserver'], key: 'SCOPE_LOG_TLS_VALIDATE_SERVER', kind: 'bool' },
  { path: ['libscope', 'log', 'transport', 'tls', 'cacertpath'], key: 'SCOPE_LOG_TLS_CA_CERT_PATH', kind: 'string' },
  { path: ['libscope', 'snapshot', 'coredump'], key: 'SCOPE_SNAPSHOT_COREDUMP', kind: 'bool' },
  { path: ['libscope', 'snapshot', 'backtrace'], key: 'SCOPE_SNAPSHOT_BACKTRACE', kind: 'bool' },
  // scope-filter's scopes, as `scope run -f` / `--policy` hand them to libscope (FILTER.md).
  { path: ['libscope', 'filter'], key: 'SCOPE_FILTER', kind: 'string' },
  { path: ['libscope', 'filternames'], key: 'SCOPE_FILTER_NAMES', kind: 'string' },
];

/** metric.watch types → their switch. */
const METRIC_WATCH: Record<string, string> = {
  fs: 'SCOPE_METRIC_FS',
  net: 'SCOPE_METRIC_NET',
  http: 'SCOPE_METRIC_HTTP',
  dns: 'SCOPE_METRIC_DNS',
  process: 'SCOPE_METRIC_PROC',
  statsd: 'SCOPE_METRIC_STATSD',
};

/** event.watch types → their switch; name/field/value regexes get _NAME/_FIELD/_VALUE. */
const EVENT_WATCH: Record<string, string> = {
  file: 'SCOPE_EVENT_LOGFILE',
  console: 'SCOPE_EVENT_CONSOLE',
  net: 'SCOPE_EVENT_NET',
  fs: 'SCOPE_EVENT_FS',
  dns: 'SCOPE_EVENT_DNS',
  http: 'SCOPE_EVENT_HTTP',
  metric: 'SCOPE_EVENT_METRIC',
};

/** Sections scope.yml may have; anything else is a typo worth reporting. */
const KNOWN: Record<string, string[]> = {
  '': ['metric', 'event', 'payload', 'libscope', 'tags', 'protocol', 'custom', 'cribl'],
  metric: ['enable', 'format', 'watch', 'transport'],
  'metric.format': ['type', 'statsdprefix', 'statsdmaxlen', 'verbosity'],
  event: ['enable', 'format', 'watch', 'transport', 'redact'],
  'event.redact': ['http', 'args'],
  'event.format': ['type', 'maxeventpersec', 'enhancefs'],
  payload: ['enable', 'dir'],
  libscope: ['configevent', 'summaryperiod', 'commanddir', 'log', 'snapshot', 'filter', 'filternames', 'maxfilebytes'],
  'libscope.log': ['level', 'transport'],
  'libscope.snapshot': ['coredump', 'backtrace'],
};

/** The values libscope uses when nothing says otherwise. */
export const DEFAULTS: Readonly<ScopePairs> = {
  SCOPE_METRIC_ENABLE: 'true',
  SCOPE_METRIC_FORMAT: 'ndjson',
  SCOPE_METRIC_VERBOSITY: '4',
  SCOPE_STATSD_MAXLEN: '512',
  SCOPE_SUMMARY_PERIOD: '10',
  SCOPE_EVENT_ENABLE: 'true',
  SCOPE_EVENT_MAXEPS: '10000',
  SCOPE_LOG_LEVEL: 'warning',
};

const DEST_SCHEMES = ['file', 'unix', 'tcp', 'udp', 'tls'];

/** Check a destination URL (`file:///path`, `file://stdout`, `tcp://host:port`, …); returns a reason when bad. */
export function destinationProblem(url: string): string | null {
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (!m) return `"${url}" is not a destination URL (file:///path, file://stdout, unix:///path, tcp://host:port, udp://host:port, tls://host:port)`;
  const [, scheme = '', rest = ''] = m;
  if (!DEST_SCHEMES.includes(scheme)) return `"${scheme}" is not a destination scheme (one of ${DEST_SCHEMES.join(', ')})`;
  if (scheme === 'file') {
    if (rest === 'stdout' || rest === 'stderr' || rest.startsWith('/')) return null;
    return `file destination "${url}" needs an absolute path (file:///path), stdout or stderr`;
  }
  if (scheme === 'unix') return rest === '' ? `unix destination "${url}" has no path` : null;
  const hp = /^(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(rest);
  if (!hp || Number(hp[2]) < 1 || Number(hp[2]) > 65535) return `${scheme} destination "${url}" needs host:port`;
  return null;
}

class YamlSource {
  readonly lines = new (Y().LineCounter)();
  constructor(readonly file: string) {}
  fail(node: YamlNode | null | undefined, why: string): never {
    const offset = node?.range?.[0];
    if (offset === undefined) throw new ConfigError(this.file, why);
    const pos = this.lines.linePos(offset);
    throw new ConfigError(this.file, why, pos.line, pos.col);
  }
}

function scalarValue(src: YamlSource, node: YamlNode | null, kind: Kind, where: string): string {
  if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
    src.fail(node, `${where}: expected a value`);
  }
  const value = node.value;
  switch (kind) {
    case 'bool':
      if (typeof value !== 'boolean') src.fail(node, `${where}: expected true or false`);
      return String(value);
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) src.fail(node, `${where}: expected a whole number ≥ 0`);
      return String(value);
    case 'metricformat':
      if (value !== 'ndjson' && value !== 'statsd') src.fail(node, `${where}: expected statsd or ndjson`);
      return value;
    case 'loglevel':
      if (!['debug', 'info', 'warning', 'error', 'none', 'trace'].includes(String(value))) {
        src.fail(node, `${where}: expected one of trace, debug, info, warning, error, none`);
      }
      return String(value);
    default:
      return String(value);
  }
}

function transportUrl(src: YamlSource, node: YamlNode | null, where: string): string {
  if (!isMap(node)) src.fail(node, `${where}: expected a mapping with type and host/port or path`);
  const get = (k: string) => node.get(k, true) as YamlNode | undefined;
  const str = (k: string) => {
    const n = get(k);
    return n === undefined ? undefined : scalarValue(src, n, 'string', `${where}.${k}`);
  };
  const type = str('type');
  let url: string;
  switch (type) {
    case 'file': {
      const path = str('path') ?? 'stdout';
      url = path === 'stdout' || path === 'stderr' ? `file://${path}` : `file://${path}`;
      break;
    }
    case 'unix':
      url = `unix://${str('path') ?? ''}`;
      break;
    case 'tcp':
    case 'udp':
    case 'tls': {
      const tls = get('tls');
      const tlsOn = isMap(tls) && tls.get('enable') === true;
      url = `${tlsOn ? 'tls' : type}://${str('host') ?? ''}:${str('port') ?? ''}`;
      break;
    }
    default:
      src.fail(get('type') ?? node, `${where}.type: expected file, unix, tcp, udp or tls`);
  }
  const problem = destinationProblem(url);
  if (problem) src.fail(node, `${where}: ${problem}`);
  return url;
}

function checkKeys(src: YamlSource, node: YamlNode | null, section: string): void {
  const allowed = KNOWN[section];
  if (!allowed) return;
  if (!isMap(node)) {
    if (section === '' && (node === null || (isScalar(node) && node.value === null))) return;
    src.fail(node, `${section || 'scope.yml'}: expected a mapping`);
  }
  for (const pair of node.items as Pair<YamlNode, YamlNode>[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!allowed.includes(key)) {
      src.fail(pair.key, `unknown key "${key}"${section ? ` in ${section}` : ''} (expected one of ${allowed.join(', ')})`);
    }
    const sub = section ? `${section}.${key}` : key;
    if (KNOWN[sub]) checkKeys(src, pair.value, sub);
  }
}

function watchPairs(src: YamlSource, node: YamlNode | null, section: 'metric' | 'event', out: ScopePairs): void {
  if (!isSeq(node)) src.fail(node, `${section}.watch: expected a list of {type: …}`);
  const table = section === 'metric' ? METRIC_WATCH : EVENT_WATCH;
  // Listing watch types turns the others off, as AppScope does.
  for (const key of Object.values(table)) out[key] = 'false';
  for (const item of node.items as YamlNode[]) {
    if (!isMap(item)) src.fail(item, `${section}.watch: each entry needs a type`);
    const typeNode = item.get('type', true) as YamlNode | undefined;
    const type = typeNode === undefined ? undefined : scalarValue(src, typeNode, 'string', `${section}.watch.type`);
    const key = type === undefined ? undefined : table[type];
    if (key === undefined) src.fail(typeNode ?? item, `${section}.watch: type must be one of ${Object.keys(table).join(', ')}`);
    out[key] = 'true';
    for (const pair of item.items as Pair<YamlNode, YamlNode>[]) {
      const field = isScalar(pair.key) ? String(pair.key.value) : '';
      if (field === 'type') continue;
      if (section === 'event' && (field === 'name' || field === 'field' || field === 'value')) {
        const re = scalarValue(src, pair.value, 'string', `event.watch.${field}`);
        try {
          new RegExp(re);
        } catch (err) {
          src.fail(pair.value, `event.watch.${field}: bad regular expression: ${(err as Error).message}`);
        }
        out[`${key}_${field.toUpperCase()}`] = re;
      } else if (section === 'event' && field === 'allowbinary') {
        out['SCOPE_ALLOW_BINARY_CONSOLE'] = scalarValue(src, pair.value, 'bool', 'event.watch.allowbinary');
      } else if (section === 'event' && field === 'headers') {
        const list = pair.value;
        if (!isSeq(list)) src.fail(list, 'event.watch.headers: expected a list');
        out['SCOPE_EVENT_HTTP_HEADER'] = (list as unknown as { items: YamlNode[] }).items.map((h) => scalarValue(src, h, 'string', 'event.watch.headers')).join(',');
      } else {
        src.fail(pair.key, `unknown key "${field}" in ${section}.watch`);
      }
    }
  }
}

/**
 * The largest scope.yml read. AppScope's own, every option commented, is about 30 KB; the yaml
 * library's time grows faster than linearly with the size (5 000 tags took seconds, a 10 MB file
 * 82 s), so a bigger file is refused at once rather than read for minutes.
 */
export const MAX_CONFIG_BYTES = 64 * 1024;

function tooBig(file: string, size: number): ConfigError {
  return new ConfigError(file, `${size} bytes is larger than a scope.yml may be (${MAX_CONFIG_BYTES} bytes)`, 1, 1);
}

/** Parse scope.yml text into SCOPE_* pairs; errors are ConfigError with file:line:col. */
export function parseScopeYaml(text: string, file: string): ScopePairs {
  if (text.length > MAX_CONFIG_BYTES) {
    const size = Buffer.byteLength(text);
    if (size > MAX_CONFIG_BYTES) throw tooBig(file, size);
  }
  const src = new YamlSource(file);
  const doc = Y().parseDocument(text, { lineCounter: src.lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = src.lines.linePos(first.pos[0]);
    throw new ConfigError(file, first.message.split('\n')[0] ?? 'YAML error', pos.line, pos.col);
  }
  const root = doc.contents as YamlNode | null;
  checkKeys(src, root, '');
  const out: ScopePairs = {};
  if (!isMap(root)) return out;
  for (const entry of TABLE) {
    const node = root.getIn(entry.path, true) as YamlNode | undefined;
    if (node === undefined || (isScalar(node) && node.value === null)) continue;
    const where = entry.path.join('.');
    out[entry.key] = entry.kind === 'transport' ? transportUrl(src, node, where) : scalarValue(src, node, entry.kind, where);
  }
  for (const section of ['metric', 'event'] as const) {
    const watch = root.getIn([section, 'watch'], true) as YamlNode | undefined;
    if (watch !== undefined) watchPairs(src, watch, section, out);
  }
  const tagsNode = root.get('tags', true) as YamlNode | undefined;
  if (tagsNode !== undefined && !(isScalar(tagsNode) && tagsNode.value === null)) {
    if (!isMap(tagsNode)) src.fail(tagsNode, 'tags: expected a mapping of name: value');
    const tags = tagsNode as YAMLMap;
    for (const pair of tags.items as Pair<YamlNode, YamlNode>[]) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) src.fail(pair.key, `tags: "${name}" is not a usable tag name`);
      out[`SCOPE_TAG_${name}`] = scalarValue(src, pair.value, 'string', `tags.${name}`);
    }
  }
  return out;
}

/** Read and parse a scope.yml; a missing file is a ConfigError naming it. */
export async function loadScopeYaml(file: string): Promise<{ text: string; pairs: ScopePairs }> {
  let text: string;
  try {
    // The size first, so a huge file (or /dev/zero) is refused without being read.
    const handle = await open(file, 'r');
    try {
      const { size, isFile } = await handle.stat().then((st) => ({ size: st.size, isFile: st.isFile() }));
      if (isFile && size > MAX_CONFIG_BYTES) throw tooBig(file, size);
      const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
      let got = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, got, buf.length - got, null);
        if (bytesRead === 0) break;
        got += bytesRead;
        if (got > MAX_CONFIG_BYTES) throw tooBig(file, got);
      }
      text = buf.toString('utf8', 0, got);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { text, pairs: parseScopeYaml(text, file) };
}

/** The SCOPE_* variables of an environment. */
export function scopeEnvPairs(env: NodeJS.ProcessEnv): ScopePairs {
  const out: ScopePairs = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('SCOPE_') && v !== undefined) out[k] = v;
  }
  return out;
}

/** Merge layers, later winning: defaults < scope.yml < flags < environment. */
export function resolveConfig(...layers: ScopePairs[]): ScopePairs {
  const merged: ScopePairs = {};
  for (const layer of layers) Object.assign(merged, layer);
  const sorted: ScopePairs = {};
  for (const key of Object.keys(merged).sort()) sorted[key] = merged[key] as string;
  return sorted;
}

/** The KEY=VALUE file libscope reads through SCOPE_CONF_PATH. Values cannot hold newlines. */
export function formatEnvFile(pairs: ScopePairs): string {
  let out = '# SCOPE_* settings for libscope, resolved by scope (defaults < scope.yml < flags < environment)\n';
  for (const [k, v] of Object.entries(pairs)) {
    if (/[\r\n]/.test(v)) throw new ScopeError(`${k}: a setting cannot contain a line break`);
    out += `${k}=${v}\n`;
  }
  return out;
}

export function parseEnvFile(text: string): ScopePairs {
  const out: ScopePairs = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function urlToTransport(url: string): Record<string, unknown> {
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  const scheme = m?.[1] ?? '';
  const rest = m?.[2] ?? '';
  if (scheme === 'file' || scheme === 'unix') return { type: scheme, path: rest };
  const i = rest.lastIndexOf(':');
  const host = rest.slice(0, i);
  const port = Number(rest.slice(i + 1));
  if (scheme === 'tls') return { type: 'tcp', host, port, tls: { enable: true } };
  return { type: scheme, host, port };
}

/**
 * YAML for the plain shapes pairsToYaml builds (mappings, lists of mappings, scalars): strings in
 * JSON's double quotes, which YAML reads the same. Written here so a run without a scope.yml never
 * loads the yaml library.
 */
function emitYaml(node: Record<string, unknown>, indent: string): string {
  const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k));
  const scalar = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  let out = '';
  for (const [k, v] of Object.entries(node)) {
    if (Array.isArray(v)) {
      out += `${indent}${key(k)}:\n`;
      for (const item of v as Record<string, unknown>[]) {
        out += `${indent}- ` + emitYaml(item, `${indent}  `).slice(indent.length + 2);
      }
    } else if (v !== null && typeof v === 'object') {
      out += `${indent}${key(k)}:\n${emitYaml(v as Record<string, unknown>, `${indent}  `)}`;
    } else {
      out += `${indent}${key(k)}: ${scalar(v)}\n`;
    }
  }
  return out;
}

/** scope.yml text equivalent to the given pairs (for the session's record of the config in force). */
export function pairsToYaml(pairs: ScopePairs): string {
  const root: Record<string, unknown> = {};
  const put = (path: string[], value: unknown) => {
    let node = root;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1] as string] = value;
  };
  const dests = TABLE.filter((e) => e.kind === 'transport' && pairs[e.key] !== undefined).map((e) => e.path.join('.') + '.');
  for (const entry of TABLE) {
    const v = pairs[entry.key];
    if (v === undefined) continue;
    // a transport's TLS settings are written inside it, so only with it
    if (entry.kind !== 'transport' && entry.path.includes('transport') && !dests.some((d) => entry.path.join('.').startsWith(d))) continue;
    const value = entry.kind === 'bool' ? v === 'true' : entry.kind === 'int' ? Number(v) : entry.kind === 'transport' ? urlToTransport(v) : v;
    put(entry.path, value);
  }
  for (const [section, table] of [
    ['metric', METRIC_WATCH],
    ['event', EVENT_WATCH],
  ] as const) {
    const watch = Object.entries(table)
      .filter(([, key]) => pairs[key] !== undefined && pairs[key] !== 'false')
      .map(([type, key]) => {
        const w: Record<string, string> = { type };
        for (const f of ['name', 'field', 'value']) {
          const re = pairs[`${key}_${f.toUpperCase()}`];
          if (re !== undefined) w[f] = re;
        }
        return w;
      });
    if (watch.length > 0) put([section, 'watch'], watch);
  }
  const tags = Object.entries(pairs).filter(([k]) => k.startsWith('SCOPE_TAG_'));
  if (tags.length > 0) root['tags'] = Object.fromEntries(tags.map(([k, v]) => [k.slice('SCOPE_TAG_'.length), v]));
  return emitYaml(root, '');
}
