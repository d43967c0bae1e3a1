#!/usr/bin/env node
// scope-run, installed with @scope/scope: the command of @scope/scope-run, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-run/bin/scope-run.js';
