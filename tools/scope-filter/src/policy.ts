/**
 * `--policy FILE|DIR`: policies in YAML, one scope each. A policy names itself, lists workload
 * filters (`scope:`, the -f text without a scope prefix; `global` for none) and rules (`rules:`, each
 * an event and the filters on that event's records):
 *
 *   name: web-errors
 *   scope: [comm=nginx, follow]
 *   rules:
 *     - event: http.resp
 *       filters: [data.http_status_code>=500]
 *
 * Tracee's layout (`metadata.name`, `spec.scope`, `spec.rules`) is read too. A file may hold several
 * documents (`---`); a directory's *.yml / *.yaml files are read in name order.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { ConfigError, UsageError } from '@scope/core';
import { addFilter, MAX_SCOPES, policyScope } from './parse.js';
import type { Scopes } from './parse.js';

interface RawPolicy {
  file: string;
  doc: number;
  value: unknown;
}

function filesOf(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new UsageError(`--policy ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!st.isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new UsageError(`--policy ${path}: no .yml or .yaml file in this directory`);
  return files;
}

function readPolicies(paths: string[]): RawPolicy[] {
  const out: RawPolicy[] = [];
  for (const file of paths.flatMap(filesOf)) {
    const text = readFileSync(file, 'utf8');
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
    if (!Array.isArray(docs)) continue; // an empty stream
    docs.forEach((d, i) => {
      const err = d.errors[0];
      if (err) {
        const at = lines.linePos(err.pos[0]);
        throw new ConfigError(file, err.message.split('\n')[0] ?? 'YAML error', at.line, at.col);
      }
      const value = d.toJS() as unknown;
      if (value !== null && value !== undefined) out.push({ file, doc: i + 1, value });
    });
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function textList(where: string, key: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v : [v];
  return items.map((item) => {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') throw new UsageError(`${where}: ${key}: each entry is a filter text, e.g. comm=nginx`);
    return String(item);
  });
}

/** Load policies into scopes 1, 2, … in the order read. */
export function loadPolicies(paths: string[]): Scopes {
  const raws = readPolicies(paths);
  if (raws.length > MAX_SCOPES) throw new UsageError(`--policy: ${raws.length} policies; at most ${MAX_SCOPES} can run at once`);
  const scopes: Scopes = new Map();
  const names = new Set<string>();
  raws.forEach((raw, i) => {
    const where = `${raw.file}${raw.doc > 1 ? ` (document ${raw.doc})` : ''}`;
    if (!isObj(raw.value)) throw new UsageError(`${where}: a policy is a mapping with name, scope and rules`);
    const top = raw.value;
    const meta = isObj(top['metadata']) ? top['metadata'] : undefined;
    const spec = isObj(top['spec']) ? top['spec'] : top;
    const name = meta?.['name'] ?? top['name'];
    if (typeof name !== 'string' || name === '') throw new UsageError(`${where}: the policy has no name`);
    if (names.has(name)) throw new UsageError(`${where}: a second policy named "${name}"`);
    names.add(name);
    const scope = policyScope(i + 1, name);
    const label = `policy "${name}" (${where})`;
    for (const text of textList(label, 'scope', spec['scope'])) {
      if (text === 'global') continue;
      addFilter(scope, `${label}: scope: "${text}"`, text);
    }
    const rules = spec['rules'];
    if (!Array.isArray(rules) || rules.length === 0) throw new UsageError(`${label}: the policy has no rules (rules: a list of {event, filters})`);
    const events: string[] = [];
    for (const rule of rules) {
      if (!isObj(rule) || typeof rule['event'] !== 'string' || rule['event'] === '') throw new UsageError(`${label}: each rule needs an event, e.g. {event: fs.open}`);
      const event = rule['event'];
      events.push(event);
      for (const f of textList(label, `rules ${event} filters`, rule['filters'])) {
        // `data.FIELD…` and `error` are about the rule's event; a full `EVENT.data…` is taken as written.
        const text = f.startsWith('data.') ? `${event}.${f}` : f === 'error' || f === 'not-error' ? `${f.startsWith('not-') ? 'not-' : ''}${event}.error` : f;
        addFilter(scope, `${label}: rule ${event}: "${f}"`, text);
      }
    }
    addFilter(scope, `${label}: rules`, `event=${events.join(',')}`);
    scopes.set(scope.n, scope);
  });
  return scopes;
}
