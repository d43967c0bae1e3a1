#!/usr/bin/env node
// scope-export, installed with @scope/scope: the command of @scope/scope-export, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-export/bin/scope-export.js';
