#!/usr/bin/env node
// scope-collect, installed with @scope/scope: the command of @scope/scope-collect, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-collect/bin/scope-collect.js';
