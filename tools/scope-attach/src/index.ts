/** @scope/scope-attach: attach, detach, ps, inspect and update, for the `scope` umbrella. */
export { attachTool, detachTool, psTool, inspectTool, updateTool } from './commands.js';
/** PID|NAME → one process (a name with several processes: a prompt on a terminal, else status 2). */
export { resolveTarget, candidateTable } from './target.js';
export type { Prompting } from './target.js';
