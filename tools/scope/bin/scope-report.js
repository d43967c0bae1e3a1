#!/usr/bin/env node
// scope-report, installed with @scope/scope: the command of @scope/scope-report, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-report/bin/scope-report.js';
