/** @scope/scope-filter: the tool, and the filter language for other tools (scope run -f). */
export { main, tool, command, scopesFromArgs } from './command.js';
export { parseFilters, MAX_SCOPES } from './parse.js';
export type { Scope, Scopes } from './parse.js';
export { loadPolicies } from './policy.js';
export { scopeFilterPairs } from './env.js';
export { runFilter } from './filter.js';
