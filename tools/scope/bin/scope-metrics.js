#!/usr/bin/env node
// scope-metrics, installed with @scope/scope: the command of @scope/scope-metrics, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-metrics/bin/scope-metrics.js';
