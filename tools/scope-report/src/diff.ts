/**
 * `scope diff A B`: what appeared in B and what disappeared since A, section by section, and which
 * of those changes an allow-list accepts. An executable whose content changed (same path, another
 * sha256) is one change of its own.
 *
 * Allow-list (YAML): section name → glob patterns; `*` matches within one path segment (no '/'),
 * `**` across segments, `?` one character. "any" applies to every section.
 *
 *   peers: ["*.debian.org:443"]
 *   files.written: ["/tmp/**"]
 *   executables: ["/usr/bin/*"]
 */
import { parse } from 'yaml';
import { ScopeError } from '@scope/core';
import type { Profile } from './profile.js';
import { PROFILE_VERSION } from './profile.js';

export const SECTIONS = ['executables', 'arguments', 'files.written', 'files.deleted', 'files.read', 'dns', 'peers', 'http'] as const;
export type Section = (typeof SECTIONS)[number] | 'executables.content';

export interface Change {
  section: Section;
  change: 'added' | 'removed' | 'changed';
  item: string;
  /** For a changed executable: its sha256 in A and in B. */
  from?: string | null;
  to?: string | null;
  allowed: boolean;
}

export interface DiffResult {
  type: 'diff';
  a: string;
  b: string;
  changes: Change[];
  /** Changes no allow-list entry accepts: the exit status is 1 when there are any. */
  unexpected: number;
}

export type AllowList = Map<string, RegExp[]>;

/** A glob as an anchored regular expression. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/\n]*';
    } else if (ch === '?') re += '[^/\n]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // An item can span lines (a command line with newlines): '**' crosses them too.
  return new RegExp(`^${re}$`, 's');
}

/** Parse an allow-list file's text; where names the file for messages. */
export function parseAllowList(text: string, where: string): AllowList {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ScopeError(`${where}: not YAML: ${(err as Error).message.split('\n')[0]}`, 2);
  }
  const out: AllowList = new Map();
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ScopeError(`${where}: an allow-list maps section names to lists of patterns`, 2);
  const known = new Set<string>([...SECTIONS, 'executables.content', 'any']);
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!known.has(key)) throw new ScopeError(`${where}: "${key}" is not a section (one of ${[...known].join(', ')})`, 2);
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw new ScopeError(`${where}: ${key}: a list of patterns (strings)`, 2);
    out.set(key, (list as string[]).map(globRegExp));
  }
  return out;
}

function allowed(allow: AllowList, section: Section, item: string): boolean {
  const item0 = section === 'arguments' ? item : item.replace(/ \(.*\)$/, '');
  for (const re of [...(allow.get(section) ?? []), ...(allow.get('any') ?? [])]) if (re.test(item0) || re.test(item)) return true;
  return false;
}

/** Check that a parsed document is a profile; where names it for messages. */
export function asProfile(doc: unknown, where: string): Profile {
  const fail = (why: string): never => {
    throw new ScopeError(`${where}: not a scope profile: ${why}`, 2);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return fail('not a mapping');
  const p = doc as Record<string, unknown>;
  if (p['scope-profile'] !== PROFILE_VERSION) return fail(`scope-profile is ${JSON.stringify(p['scope-profile'])}, expected ${PROFILE_VERSION}`);
  const strings = (v: unknown, name: string): void => {
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) fail(`${name} is not a list of strings`);
  };
  if (!Array.isArray(p['executables'])) fail('executables is not a list');
  for (const [i, e] of (p['executables'] as unknown[]).entries()) {
    if (e === null || typeof e !== 'object' || typeof (e as Record<string, unknown>)['path'] !== 'string') fail(`executables[${i}] has no path`);
    strings((e as Record<string, unknown>)['args'] ?? [], `executables[${i}].args`);
  }
  const files = p['files'];
  if (files === null || typeof files !== 'object') fail('files is not a mapping');
  for (const k of ['written', 'deleted', 'read']) strings((files as Record<string, unknown>)[k], `files.${k}`);
  for (const k of ['dns', 'peers', 'http']) strings(p[k] ?? [], k);
  return doc as Profile;
}

function items(p: Profile, section: (typeof SECTIONS)[number]): string[] | null {
  switch (section) {
    case 'executables':
      return p.executables.map((e) => e.path);
    case 'arguments':
      return p.executables.flatMap((e) => e.args ?? []);
    case 'files.written':
      return p.files.written;
    case 'files.deleted':
      return p.files.deleted;
    case 'files.read':
      return p.files.read ?? null;
    default:
      return p[section] ?? [];
  }
}

export function diffProfiles(a: Profile, b: Profile, allow: AllowList, names: { a: string; b: string }): DiffResult {
  const changes: Change[] = [];
  for (const section of SECTIONS) {
    const ia = items(a, section);
    const ib = items(b, section);
    // files.read is compared only when both profiles have it (scope profile --reads).
    if (ia === null || ib === null) continue;
    const sa = new Set(ia);
    const sb = new Set(ib);
    for (const x of [...sb].sort()) if (!sa.has(x)) changes.push({ section, change: 'added', item: x, allowed: allowed(allow, section, x) });
    for (const x of [...sa].sort()) if (!sb.has(x)) changes.push({ section, change: 'removed', item: x, allowed: allowed(allow, section, x) });
  }
  const hashes = new Map(a.executables.map((e) => [e.path, e.sha256 ?? null]));
  for (const e of b.executables) {
    if (!hashes.has(e.path)) continue;
    const from = hashes.get(e.path) ?? null;
    const to = e.sha256 ?? null;
    if (from !== to) changes.push({ section: 'executables.content', change: 'changed', item: e.path, from, to, allowed: allowed(allow, 'executables.content', e.path) });
  }
  return { type: 'diff', a: names.a, b: names.b, changes, unexpected: changes.filter((c) => !c.allowed).length };
}

export function diffText(d: DiffResult): string {
  if (d.changes.length === 0) return `no change between ${d.a} and ${d.b}\n`;
  const mark = { added: '+', removed: '-', changed: '~' } as const;
  const lines = d.changes.map((c) => {
    const what = c.change === 'changed' ? `${c.item}: sha256 ${(c.from ?? 'unreadable').slice(0, 12)} → ${(c.to ?? 'unreadable').slice(0, 12)}` : c.item;
    return `${mark[c.change]} ${c.section}: ${what}${c.allowed ? '  (allowed)' : ''}`;
  });
  const summary = `${d.changes.length} change${d.changes.length === 1 ? '' : 's'}, ${d.unexpected} not allowed`;
  return `--- ${d.a}\n+++ ${d.b}\n${lines.join('\n')}\n${summary}\n`;
}
