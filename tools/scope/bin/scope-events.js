#!/usr/bin/env node
// scope-events, installed with @scope/scope: the command of @scope/scope-events, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-events/bin/scope-events.js';
