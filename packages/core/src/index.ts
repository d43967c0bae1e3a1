/**
 * @scope/core: what every scope tool shares — NDJSON streams, the session directory, config, errors
 * and exit codes, shared argument groups, and the tool runner.
 */
export * from './errors.js';
export * from './ndjson.js';
export * from './lines.js';
export * from './session.js';
export * from './config.js';
export * from './args.js';
export * from './argbytes.js';
export * from './cli.js';
export { SCOPE_VERSION } from './version.js';
export * from './follow.js';
export * from './input.js';
export * from './records.js';
export * from './control.js';
export * from './processes.js';
export * from './endpoint.js';
export * from './metric.js';
export * from './prometheus.js';
export * from './metric-record.js';
export * from './target.js';
export * from './recorded.js';
export * from './redact.js';
export * from './printable.js';
export * from './table.js';
export * from './terminal.js';
