/**
 * The package's three tools, for their bins and for the `scope` umbrella: scope-history (the main
 * one, also exported as `tool`), scope-prune and scope-logs. Each command lives in its own file.
 */
import { historyTool } from './history-command.js';

export { historyArgs, historyCommand, historyMain, historyTool } from './history-command.js';
export { pruneArgs, pruneCommand, pruneMain, pruneTool } from './prune-command.js';
export { logsArgs, logsCommand, logsMain, logsTool } from './logs-command.js';

/** `main` and `tool` as every tool package has them: scope-history's. */
export const tool = historyTool;
export const main = historyTool.main;
