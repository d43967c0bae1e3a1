/** @scope/scope-snapshot: `scope snapshot`, for the `scope` umbrella. */
export { tool } from './commands.js';
export type { SnapshotRecord } from './snapshot.js';
export type { CrashRecord } from './crashes.js';
