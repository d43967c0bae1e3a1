/**
 * What filters may name: the events scope writes (from @scope/schemas, the single source of field
 * names), their families, their data fields, and the sourcetypes.
 */
import { schemas } from '@scope/schemas';

/** The events a filter may name, besides log-file events (named by an absolute path). */
export const EVENT_NAMES: readonly string[] = [
  'fs.open',
  'fs.close',
  'fs.delete',
  'fs.rename',
  'fs.mkdir',
  'fs.error',
  'net.open',
  'net.close',
  'net.app',
  'net.error',
  'dns.req',
  'dns.resp',
  'http.req',
  'http.resp',
  'stdout',
  'stderr',
  'notice',
  'proc.exit',
  'start.msg',
];
const EVENTS = new Set(EVENT_NAMES);

/** `fs.*` and the like: the prefix before `.*` must be one of these. */
export const EVENT_FAMILIES: readonly string[] = ['fs', 'net', 'dns', 'http', 'proc'];

export const SOURCETYPES: readonly string[] = ['fs', 'net', 'http', 'dns', 'console', 'file', 'metric', 'proc'];

/** The process-start record's pseudo event. */
export const START_MSG = 'start.msg';

export function isEventName(name: string): boolean {
  return EVENTS.has(name);
}

/** A log-file event's source is the file's path. */
export function isFileEventName(name: string): boolean {
  return name.startsWith('/');
}

type SchemaNode = { [key: string]: unknown };

function resolveRef(ref: string, here: SchemaNode): SchemaNode | undefined {
  const [file, pointer] = ref.split('#');
  const doc = (file === '' || file === undefined ? here : (schemas as Record<string, unknown>)[file.replace(/\.json$/, '')]) as SchemaNode | undefined;
  if (!doc || !pointer) return doc;
  let node: unknown = doc;
  for (const part of pointer.split('/').filter((p) => p !== '')) node = (node as SchemaNode | undefined)?.[part];
  return node as SchemaNode | undefined;
}

/** Property names a schema node allows, through allOf and $ref; null when any name is allowed. */
function propertyNames(node: SchemaNode | undefined, doc: SchemaNode, out: Set<string>): boolean {
  if (!node) return true;
  let open = node['additionalProperties'] === true;
  const props = node['properties'] as SchemaNode | undefined;
  if (props) for (const k of Object.keys(props)) out.add(k);
  if (typeof node['$ref'] === 'string') {
    const ref = node['$ref'] as string;
    const target = resolveRef(ref, doc);
    const targetDoc = ref.startsWith('#') ? doc : (resolveRef(ref.split('#')[0] ?? '', doc) ?? doc);
    if (propertyNames(target, targetDoc, out)) open = true;
  }
  for (const sub of (node['allOf'] as SchemaNode[] | undefined) ?? []) if (propertyNames(sub, doc, out)) open = true;
  return open;
}

const fieldCache = new Map<string, { names: Set<string>; open: boolean }>();

function dataSchemaOf(event: string): { names: Set<string>; open: boolean } {
  const cached = fieldCache.get(event);
  if (cached) return cached;
  const kind = event === 'stdout' || event === 'stderr' ? 'console' : event;
  const doc = (schemas as Record<string, unknown>)[kind] as SchemaNode | undefined;
  const names = new Set<string>();
  const data = (doc?.['$defs'] as SchemaNode | undefined)?.['data'] as SchemaNode | undefined;
  const open = data === undefined ? true : propertyNames(data, doc as SchemaNode, names);
  const entry = { names, open };
  fieldCache.set(event, entry);
  return entry;
}

/** Whether `field` can be in body.data of `event` (headers captured by name count too). */
export function isDataField(event: string, field: string): boolean {
  if (isFileEventName(event)) return field === 'message';
  if (event === 'http.req' && field.startsWith('http_request_header_')) return true;
  if (event === 'http.resp' && field.startsWith('http_response_header_')) return true;
  const { names, open } = dataSchemaOf(event);
  return open || names.has(field);
}

/** The data fields of an event, for messages. */
export function dataFields(event: string): string[] {
  if (isFileEventName(event)) return ['message'];
  return [...dataSchemaOf(event).names].sort();
}
