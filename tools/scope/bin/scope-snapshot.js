#!/usr/bin/env node
// scope-snapshot, installed with @scope/scope: the command of @scope/scope-snapshot, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-snapshot/bin/scope-snapshot.js';
