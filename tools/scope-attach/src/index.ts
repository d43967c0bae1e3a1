/** @scope/scope-attach: attach, detach, ps, inspect and update, for the `scope` umbrella. */
export { attachTool, detachTool, psTool, inspectTool, updateTool } from './commands.js';
