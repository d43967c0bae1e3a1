#!/usr/bin/env node
// scope-flows, installed with @scope/scope: the command of @scope/scope-flows, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-flows/bin/scope-flows.js';
