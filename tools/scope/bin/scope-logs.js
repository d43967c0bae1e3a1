#!/usr/bin/env node
// scope-logs, installed with @scope/scope: the command of @scope/scope-history, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-history/bin/scope-logs.js';
