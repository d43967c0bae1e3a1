/**
 * The scopes as libscope reads them: SCOPE_FILTER (the filters in -f text, each with its scope
 * prefix, separated by `;`; `\;` and `\\` inside one) and SCOPE_FILTER_NAMES (`N=NAME;…` for
 * policies). `scope run -f …` validates with parseFilters and hands libscope these two.
 */
import type { Scopes } from './parse.js';

const escape = (s: string): string => s.replace(/\\/g, '\\\\').replace(/;/g, '\\;');

export function scopeFilterPairs(scopes: Scopes): Record<string, string> {
  const filters: string[] = [];
  const names: string[] = [];
  for (const s of scopes.values()) {
    for (const t of s.texts) filters.push(escape(`${s.n}:${t}`));
    if (s.name !== String(s.n)) names.push(escape(`${s.n}=${s.name}`));
  }
  const out: Record<string, string> = { SCOPE_FILTER: filters.join(';') };
  if (names.length > 0) out['SCOPE_FILTER_NAMES'] = names.join(';');
  return out;
}
