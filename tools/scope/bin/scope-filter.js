#!/usr/bin/env node
// scope-filter, installed with @scope/scope: the command of @scope/scope-filter, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-filter/bin/scope-filter.js';
