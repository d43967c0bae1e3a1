/**
 * The verbs `scope` knows: each is a tool package loaded only when used (no second node start).
 * AppScope's verbs we do not have yet are listed without a tool, so `scope watch` says it is not
 * built yet (status 2) instead of running /usr/bin/watch under scope.
 */
import type { ToolRun } from '@scope/core/run-api';

export interface Verb {
  name: string;
  summary: string;
  load?: () => Promise<ToolRun>;
  /** scope's own verb, with no scope-<verb> command (completion). */
  own?: true;
}

export const VERBS: Verb[] = [
  { name: 'run', summary: 'start a command with libscope; make a session', load: async () => (await import('@scope/scope-run')).tool },
  { name: 'attach', summary: 'load libscope into a running process', load: async () => (await import('@scope/scope-attach')).attachTool },
  { name: 'detach', summary: 'stop scoping a running process', load: async () => (await import('@scope/scope-attach')).detachTool },
  { name: 'ps', summary: 'list processes and whether each is scoped', load: async () => (await import('@scope/scope-attach')).psTool },
  { name: 'inspect', summary: "read a scoped process's live config and transport status", load: async () => (await import('@scope/scope-attach')).inspectTool },
  { name: 'update', summary: "replace a scoped process's live config", load: async () => (await import('@scope/scope-attach')).updateTool },
  { name: 'events', summary: 'read, filter and follow events', load: async () => (await import('@scope/scope-events')).tool },
  { name: 'metrics', summary: 'read, aggregate and graph metrics', load: async () => (await import('@scope/scope-metrics')).tool },
  { name: 'filter', summary: 'multi-scope filtering of records', load: async () => (await import('@scope/scope-filter')).tool },
  { name: 'flows', summary: 'network flows from net events', load: async () => (await import('@scope/scope-flows')).tool },
  { name: 'snapshot', summary: 'debug snapshot of a running or crashed process', load: async () => (await import('@scope/scope-snapshot')).tool },
  { name: 'history', summary: 'list sessions', load: async () => (await import('@scope/scope-history')).historyTool },
  { name: 'prune', summary: 'delete old sessions', load: async () => (await import('@scope/scope-history')).pruneTool },
  { name: 'logs', summary: "show a session's libscope.log", load: async () => (await import('@scope/scope-history')).logsTool },
  { name: 'report', summary: 'what a run did: functions, processes, files, peers, HTTP, DNS, failures (text, --json, --html)', load: async () => (await import('@scope/scope-report')).tool },
  { name: 'profile', summary: 'a run profile to compare runs by; --deps: inputs and outputs per process', load: async () => (await import('@scope/scope-report/profile')).profileTool },
  { name: 'diff', summary: 'what changed between two runs; exit 1 on a change not allowed', load: async () => (await import('@scope/scope-report/diff')).diffTool },
  { name: 'export', summary: 'ship a stream to OTLP, NATS, StatsD, Prometheus, TCP', load: async () => (await import('@scope/scope-export')).tool },
  { name: 'collect', summary: 'receive streams from many processes and hosts', load: async () => (await import('@scope/scope-collect')).tool },
  { name: 'completion', summary: 'print a bash, zsh or fish completion script for every command', load: async () => (await import('./completion.js')).tool, own: true },
  // AppScope's verbs not built here yet: reserved, so `scope watch` is never /usr/bin/watch run scoped.
  { name: 'watch', summary: "AppScope's: run a command at intervals" },
  { name: 'dash', summary: "AppScope's: a terminal dashboard of a session" },
  { name: 'start', summary: "AppScope's: scope processes system-wide by rules" },
  { name: 'stop', summary: "AppScope's: undo scope start" },
  { name: 'service', summary: "AppScope's: scope a systemd service" },
  { name: 'k8s', summary: "AppScope's: scope a Kubernetes cluster" },
  { name: 'extract', summary: "AppScope's: write libscope and its loader out" },
];
