/**
 * @scope/core/run-api: the part of @scope/core that `scope run` (and the `scope` umbrella in front of
 * it) needs, and nothing else. The index loads every module (readers, followers, control sockets,
 * process lists, metrics), which `scope run -- true` paid for in start-up time; and each bare
 * `@scope/core/<module>` specifier costs a package resolution of its own, so the run path imports
 * this one entry. The modules are the index's own (same files, same instances).
 */
export { runTool, usageText, versionLine, wantsVersion } from './cli.js';
export type { ToolRun } from './cli.js';
export { EXIT, ScopeError, UsageError } from './errors.js';
export { SCOPE_VERSION } from './version.js';
export { filterArgs, flagValues, parseFlags, runConfigArgs, runFlagPairs, splitLeadingFlags } from './args.js';
export { printable } from './printable.js';
export { argText } from './argbytes.js';
export { destinationProblem, loadScopeYaml, resolveConfig, scopeEnvPairs } from './config.js';
export type { ScopePairs } from './config.js';
export { redactArgs, redactArgsOn } from './redact.js';
export { createSession, scopeHome, writeManifest, writeSessionConfig } from './session.js';
export type { Session } from './session.js';
