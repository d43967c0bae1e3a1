#!/usr/bin/env node
// scope-detach, installed with @scope/scope: the command of @scope/scope-attach, whose own bin this runs.
// Written by scripts/bins.mjs.
import '@scope/scope-attach/bin/scope-detach.js';
